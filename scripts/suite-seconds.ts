/**
 * Writes test/fixtures/suite-seconds.json, the seconds each test file took in the last full jest run on this machine
 * (jest's own timing cache, .jest-cache/perf-cache-*), for test/slowest-first-sequencer.cjs: a clean checkout (CI)
 * has no timing cache, and without it jest orders the files by size, which starts a 33-second suite near the end.
 *   npx tsx scripts/suite-seconds.ts [cache-dir]   (after a full `npm test`; default .jest-cache)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const dir = path.resolve(process.argv[2] ?? path.join(root, '.jest-cache'));
const caches = fs.readdirSync(dir).filter((f) => f.startsWith('perf-cache-'));
if (caches.length !== 1) throw new Error(`expected one perf-cache-* file in ${dir} (jest's timing cache), found ${caches.length}: run the full npm test first`);
const cache = JSON.parse(fs.readFileSync(path.join(dir, caches[0]), 'utf8')) as Record<string, [number, number]>;
const seconds: Record<string, number> = {};
for (const [file, [, ms]] of Object.entries(cache).sort((a, b) => b[1][1] - a[1][1] || a[0].localeCompare(b[0])))
  seconds[path.basename(file)] = Math.round(ms / 100) / 10;
const out = path.join(root, 'test/fixtures/suite-seconds.json');
fs.writeFileSync(out, `${JSON.stringify(seconds, null, 2)}\n`);
console.log(
  `${Object.keys(seconds).length} suites, ${Object.values(seconds)
    .reduce((a, b) => a + b, 0)
    .toFixed(0)} suite-seconds -> ${path.relative(root, out)}`,
);
