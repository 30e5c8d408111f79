import * as fs from 'node:fs';
import * as path from 'node:path';

// The app may load another copy of aws-cdk-lib (or constructs) than the library does: `instanceof` against one of
// their classes is then false for the app's objects (issue 7: "pass a lambda.Function … not an imported one").
// The library uses duck typing or the libraries' own cross-copy checks (`CfnResource.isCfnResource`,
// `Stack.of`, `Construct.isConstruct`) instead; this keeps it that way in every file it ships.

const root = path.join(__dirname, '..');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** `instanceof X` where X is, or is reached through, a name imported from aws-cdk-lib or constructs. */
function crossCopyInstanceofs(source: string): string[] {
  // comments may name the check they avoid
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
  const names = new Set<string>();
  for (const m of text.matchAll(/import\s+(type\s+)?([^;]+?)\s+from\s+'(aws-cdk-lib[^']*|constructs)'/g)) {
    const clause = m[2];
    const ns = /\*\s+as\s+(\w+)/.exec(clause);
    if (ns) names.add(ns[1]);
    for (const n of /\{([^}]*)\}/.exec(clause)?.[1].split(',') ?? []) {
      const local = n
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop();
      if (local) names.add(local);
    }
  }
  return [...text.matchAll(/instanceof\s+([\w$]+)/g)].filter((m) => names.has(m[1])).map((m) => m[0]);
}

test('the scan finds an instanceof on an aws-cdk-lib class, however it is imported', () => {
  expect(crossCopyInstanceofs("import * as lambda from 'aws-cdk-lib/aws-lambda';\nif (f instanceof lambda.Function) {}")).toEqual(['instanceof lambda']);
  expect(crossCopyInstanceofs("import { Stack, Duration as D } from 'aws-cdk-lib';\nx instanceof D")).toEqual(['instanceof D']);
  expect(crossCopyInstanceofs("import { Construct } from 'constructs';\n// not instanceof Construct\nx instanceof Construct; e instanceof Error")).toEqual([
    'instanceof Construct',
  ]);
});

test('no shipped file uses instanceof on an aws-cdk-lib or constructs class', () => {
  const found = ['lib', 'bin/cli', 'lambda/shared', 'lambda/runtime']
    .flatMap((d) => sources(path.join(root, d)))
    .flatMap((f) => crossCopyInstanceofs(fs.readFileSync(f, 'utf8')).map((hit) => `${path.relative(root, f)}: ${hit}`));
  expect(found).toEqual([]);
});
