import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';

// An installed CLI has only the package's dependencies (and peers), not its devDependencies: every package the
// `cdk-ai-release` bin can load, following its imports and requires from the entry point, must be one of them.

const root = path.join(__dirname, '..');
const pkg = require('../package.json') as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Bare package names reachable from `entry` through relative imports (type-only imports excluded: erased). */
function packagesReachable(entry: string): Map<string, string> {
  const seen = new Set<string>();
  const found = new Map<string, string>(); // package -> first file that loads it
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    const specs = [
      ...[...text.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]),
      ...[...text.matchAll(/^\s*import\s+'([^']+)'/gm)].map((m) => m[1]),
      ...[...text.matchAll(/require\('([^']+)'\)/g)].map((m) => m[1]),
    ];
    for (const spec of specs) {
      if (spec.startsWith('.')) {
        const base = path.resolve(path.dirname(file), spec);
        const next = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => fs.existsSync(f));
        if (next) visit(next);
        continue;
      }
      if (spec.startsWith('node:') || builtinModules.includes(spec)) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (!found.has(name)) found.set(name, path.relative(root, file));
    }
  };
  visit(entry);
  return found;
}

test('every package the CLI loads is a dependency or a peer, never only a devDependency', () => {
  const loaded = packagesReachable(path.join(root, 'bin', 'cdk-ai-release.ts'));
  // The operator commands' clients are among them (the scan follows the lazy requires too).
  for (const client of ['codedeploy', 'appconfig', 'cloudwatch', 'ssm', 's3', 'lambda']) expect(loaded.has(`@aws-sdk/client-${client}`)).toBe(true);
  const missing = [...loaded]
    .filter(([name]) => !(name in pkg.dependencies) && !(name in pkg.peerDependencies))
    .map(([name, file]) => `${name} (loaded by ${file})`);
  expect(missing).toEqual([]);
});
