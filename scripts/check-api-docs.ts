// `npm run docs:api:check`: regenerates the API reference into a temporary folder with the committed typedoc.json
// and compares it, file by file, with docs/api. Exit 0 when they agree; 1 naming the files that differ, with the fix
// (`npm run docs:api`). Slow (typedoc type-checks the library: about a minute on 2 loaded cores), so it is a script
// for CI and for before a commit, not part of `npm test`; test/api-docs.test.ts does the cheap part there.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const committed = path.join(root, 'docs/api');
const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'api-docs-'));

function list(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

try {
  const run = spawnSync(process.execPath, [path.join(root, 'node_modules/typedoc/bin/typedoc'), '--out', fresh, '--logLevel', 'Error'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (run.status !== 0) {
    console.error(`typedoc failed (exit ${run.status}); run \`npm run docs:api\` to see why`);
    process.exit(1);
  }
  const a = list(committed);
  const b = list(fresh);
  const differ = [...new Set([...a, ...b])]
    .sort()
    .filter((f) => !a.includes(f) || !b.includes(f) || fs.readFileSync(path.join(committed, f), 'utf8') !== fs.readFileSync(path.join(fresh, f), 'utf8'));
  if (differ.length > 0) {
    console.error(
      `docs/api is out of date (${differ.length} ${differ.length === 1 ? 'file differs' : 'files differ'}, e.g. ${differ.slice(0, 5).join(', ')}): run \`npm run docs:api\` and commit docs/api`,
    );
    process.exit(1);
  }
  console.log(`docs/api is current (${a.length} files)`);
} finally {
  fs.rmSync(fresh, { recursive: true, force: true });
}
