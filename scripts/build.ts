/**
 * The package build (`npm run build`; `npm pack` and `npm publish` run it as `prepack`): compiles the library, its
 * runtime and the CLI to dist/, and bundles the handlers the library deploys itself into dist/handlers/<name>/.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleAll } from './bundle-handlers';

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');
fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
const dirs = bundleAll(root, path.join(dist, 'handlers'));
for (const dir of dirs) {
  const size = fs.statSync(path.join(dir, 'index.js')).size;
  process.stdout.write(`bundled ${path.relative(root, dir)}/index.js (${Math.round(size / 1024)} KiB)\n`);
}
fs.chmodSync(path.join(dist, 'bin', 'cdk-ai-release.js'), 0o755);
