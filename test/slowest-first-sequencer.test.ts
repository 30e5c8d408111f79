import * as fs from 'node:fs';
import * as path from 'node:path';

const Sequencer = require('./slowest-first-sequencer.cjs');
const DefaultSequencer = require('@jest/test-sequencer').default;
const committed = require('./fixtures/suite-seconds.json') as Record<string, number>;

// A test file as jest hands it to a sequencer, with no timing cache (config.cache false: a clean checkout).
const context = { config: { cache: false, rootDir: __dirname, id: 'x' }, hasteFS: { getSize: (p: string) => fs.statSync(p).size } };
const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.ts'));
const tests = () => files.map((f) => ({ path: path.join(__dirname, f), context }));
const order = (S: new (o: unknown) => { sort(t: unknown[]): { path: string }[] }) => new S({}).sort(tests()).map((t) => path.basename(t.path));

test('without a timing cache the slowest files of the committed run start first', () => {
  const sorted = order(Sequencer);
  const known = sorted.filter((f) => committed[f] !== undefined);
  // the committed seconds, in order, largest first
  expect(known.map((f) => committed[f])).toEqual([...known.map((f) => committed[f])].sort((a, b) => b - a));
  const slowest = Object.entries(committed).sort((a, b) => b[1] - a[1])[0][0];
  expect(known[0]).toBe(slowest);
  expect(known.indexOf('package-build.test.ts')).toBeLessThan(5);
  // a file the committed run did not have (a new one) runs before them, as jest runs files it has no time for
  const fresh = sorted.filter((f) => committed[f] === undefined);
  expect(sorted.slice(0, fresh.length)).toEqual(fresh);
});

test("jest's own order without the cache is by file size, which is why the committed seconds are needed", () => {
  const bySize = order(DefaultSequencer);
  const sizes = bySize.map((f) => fs.statSync(path.join(__dirname, f)).size);
  expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
  // package-build.test.ts, the third-slowest, is not among the first 20 by size
  expect(bySize.indexOf('package-build.test.ts')).toBeGreaterThan(20);
});

test("the committed time wins over jest's cache (its order started the heavy child-process suites together)", () => {
  const s = new Sequencer({});
  const [a, b] = [path.join(__dirname, 'package-build.test.ts'), path.join(__dirname, 'nag-text.test.ts')];
  const cacheOf = (t: { context: unknown }) => s._getCache(t);
  const ta = { path: a, context };
  cacheOf(ta)[b] = [1, 99_000];
  expect(s.sort([ta, { path: b, context }]).map((t: { path: string }) => path.basename(t.path))).toEqual(['package-build.test.ts', 'nag-text.test.ts']);
});
