// The handlers the library deploys itself, as the package build bundles them (scripts/bundle-handlers.ts, minified,
// AWS SDK included): size of each index.js and the time to bundle it. `npx tsx bench/handler-sizes.ts`.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LIBRARY_HANDLERS } from '../lib/private/library-function';
import { bundleHandler } from '../scripts/bundle-handlers';

const root = path.join(__dirname, '..');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'handler-sizes-'));
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
try {
  console.log(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model.trim()}, node ${process.version}, ${new Date().toISOString()}, load ${os.loadavg()[0].toFixed(1)}`,
  );
  console.log('handler | minified index.js | bundle ms');
  for (const name of LIBRARY_HANDLERS) {
    const started = performance.now();
    const dir = bundleHandler(root, name, path.join(out, name));
    const ms = performance.now() - started;
    console.log(`${name} | ${kib(fs.statSync(path.join(dir, 'index.js')).size)} | ${ms.toFixed(0)}`);
  }
} finally {
  fs.rmSync(out, { recursive: true, force: true });
}
