// `npm test`: Biome, then the project's type check and jest side by side. They are independent checks; run one after
// the other, the type check (about 19 s on 2 cores) waited for nothing while jest's last files left a core idle
// (bench/RESULTS.md § h11 integration). Both always run to the end; the exit code is non-zero if either fails, and
// the type checker's output is printed after jest's so it is not interleaved.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const biome = spawnSync(process.execPath, [require.resolve('@biomejs/biome/bin/biome'), 'check', '.'], { stdio: 'inherit' });
if (biome.status !== 0) process.exit(biome.status ?? 1);

const run = (args, stdio) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio });
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), out }));
  });

const [tsc, jest] = await Promise.all([
  run([require.resolve('typescript/bin/tsc'), '--noEmit'], ['ignore', 'pipe', 'pipe']),
  run([require.resolve('jest/bin/jest'), ...process.argv.slice(2)], 'inherit'),
]);
process.stdout.write(tsc.code === 0 ? 'tsc --noEmit: no errors\n' : `tsc --noEmit failed:\n${tsc.out}`);
process.exit(tsc.code !== 0 ? tsc.code : jest.code);
