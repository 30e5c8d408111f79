import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from '../bin/cli/program';
import { changedValue, computeReleaseManifest, compactManifest, wordDiff } from '../lambda/shared/release-manifest';
import { tempDir, validConfig } from './helpers';

const CODE = { hash: 'a'.repeat(64) };
function manifest(mutate: (c: Record<string, any>) => void = () => {}, service = 'assistant') {
  const config = validConfig();
  mutate(config);
  return computeReleaseManifest({ service, config, code: CODE, configLabel: 'cfg-x', degradeLabel: 'degrade-y' });
}

function cli(args: readonly string[], stdin?: string) {
  let out = '';
  let err = '';
  const code = run(args, { out: (t) => (out += t), err: (t) => (err += t), stdin: stdin === undefined ? undefined : () => stdin });
  return { code, out, err };
}

const LONG_SYSTEM =
  'You are the support assistant of Example Corp. You must answer only from the passages given and cite each passage you use by its number. Keep answers under 120 words and never promise refunds.';

describe('cdk-ai-release diff', () => {
  const prev = manifest();
  const next = manifest((c) => (c.model.modelId = 'other-model'));
  const ssmOutput = { Parameter: { Name: '/cdk-ai-release/S/assistant/release-manifest', Type: 'String', Value: JSON.stringify(compactManifest(next)) } };
  const dir = tempDir({
    'prev.json': JSON.stringify(prev),
    'next.json': JSON.stringify(next),
    'ssm.json': JSON.stringify(ssmOutput),
    'bad.json': '{',
    'cdk.out/assistant.release-manifest.json': JSON.stringify(next),
    'cdk.out/manifest.json': '{}',
    'two.out/assistant.release-manifest.json': JSON.stringify(next),
    'two.out/other.release-manifest.json': JSON.stringify(manifest(undefined, 'other')),
    'stage.out/assembly-Prod/assistant.release-manifest.json': JSON.stringify(next),
    'empty.out/manifest.json': '{}',
  });
  const f = (name: string) => path.join(dir, name);

  test('prints the diff and exits 0 (without --exit-code, a difference is not a failure)', () => {
    const r = cli(['diff', f('prev.json'), f('next.json')]);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toContain('1 of 7 components changed (model)');
    expect(r.out).toContain('~ $.modelId: "anthropic.claude-3-5-haiku-20241022-v1:0" -> "other-model"');
  });

  test('--exit-code: 1 when the releases differ, 0 when they are the same release', () => {
    expect(cli(['diff', f('prev.json'), f('next.json'), '--exit-code']).code).toBe(1);
    expect(cli(['diff', f('prev.json'), f('prev.json'), '--exit-code']).code).toBe(0);
  });

  test('--json prints the structured diff', () => {
    const r = cli(['diff', f('prev.json'), f('next.json'), '--json']);
    expect(JSON.parse(r.out)).toMatchObject({ service: 'assistant', identical: false, changed: ['model'] });
  });

  test('reads `aws ssm get-parameter` output (the deployed compact manifest): hashes only, no key diff', () => {
    const r = cli(['diff', f('ssm.json'), f('next.json'), '--exit-code']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('nothing changed (same release)');
    const changed = cli(['diff', f('prev.json'), f('ssm.json')]);
    expect(changed.out).toContain('model           MODIFIED');
    expect(changed.out).toContain('(content not in these manifests: hashes only)');
  });

  test('reads - as standard input', () => {
    const r = cli(['diff', '-', f('next.json'), '--exit-code'], JSON.stringify(ssmOutput));
    expect(r.code).toBe(0);
  });

  test('reads a cdk.out directory: its only manifest, or the one --service names, also inside a stage assembly', () => {
    expect(cli(['diff', f('prev.json'), f('cdk.out')]).out).toContain('1 of 7 components changed (model)');
    expect(cli(['diff', f('prev.json'), f('two.out'), '--service', 'assistant']).out).toContain('1 of 7 components changed (model)');
    expect(cli(['diff', f('prev.json'), f('stage.out'), '-s', 'assistant']).out).toContain('1 of 7 components changed (model)');
  });

  test.each([
    [[], 'Usage: cdk-ai-release'],
    [['diff'], "error: missing required argument 'previous'"],
    [['diff', 'a'], "error: missing required argument 'next'"],
    [['diff', 'missing.json', 'x.json'], 'cdk-ai-release: cannot read missing.json (ENOENT)'],
    [['diff', 'BAD', 'NEXT'], 'bad.json is not JSON'],
    [['diff', '--nope', 'a', 'b'], "error: unknown option '--nope'"],
    [['nope'], "error: unknown command 'nope'"],
    [['diff', 'PREV', 'TWO'], 'holds manifests of several services (assistant, other); choose one with --service <name>'],
    [['diff', 'PREV', 'TWO', '--service', 'x'], 'has no release manifest of service "x" (x.release-manifest.json); it has: assistant, other'],
    [['diff', 'PREV', 'EMPTY'], 'holds no *.release-manifest.json'],
    [['diff', 'PREV', 'OTHER'], 'cannot diff manifests of different services ("assistant" vs "other")'],
    [['diff', '-', 'NEXT'], 'standard input is not JSON'],
  ])('bad input %j exits 2 with a clear message and no stack trace', (args, message) => {
    const files: Record<string, string> = {
      BAD: f('bad.json'),
      NEXT: f('next.json'),
      PREV: f('prev.json'),
      TWO: f('two.out'),
      EMPTY: f('empty.out'),
      OTHER: f('two.out/other.release-manifest.json'),
    };
    const r = cli(
      args.map((a) => files[a] ?? a),
      'not json',
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(r.out).toBe('');
  });

  test('--help and --version exit 0 and document the exit codes', () => {
    const help = cli(['diff', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('Exit codes: 0 done (with --exit-code: the same release), 1 the releases differ');
    const version = cli(['--version']);
    expect(version).toMatchObject({ code: 0, out: `${require('../package.json').version}\n` });
  });

  test('a long changed line shows every changed word in full, eliding only unchanged runs', () => {
    const a = manifest((c) => (c.prompt.system = LONG_SYSTEM));
    const b = manifest((c) => (c.prompt.system = LONG_SYSTEM.replace('must', 'should').replace('never promise refunds', 'may offer store credit')));
    const files = tempDir({ 'a.json': JSON.stringify(a), 'b.json': JSON.stringify(b) });
    const r = cli(['diff', path.join(files, 'a.json'), path.join(files, 'b.json')]);
    expect(r.code).toBe(0);
    const line = r.out.split('\n').find((l) => l.includes('$.system'))!;
    expect(line).toContain('You [-must-]{+should+} answer only');
    expect(line).toContain('and [-never promise refunds-]{+may offer store credit+}.');
    // the unchanged middle is elided, and nothing past the last change is cut
    expect(line).toContain('…');
    expect(line).not.toContain('cite each passage');
  });
});

describe('word diff', () => {
  test('short values are shown whole', () => {
    expect(changedValue('"a"', '"b"')).toBe('"a" -> "b"');
  });
  test('a change past character 80 is shown (the old renderer cut it at 77 characters)', () => {
    const before = JSON.stringify(`${'word '.repeat(30)}end`);
    const after = JSON.stringify(`${'word '.repeat(30)}finish`);
    expect(changedValue(before, after)).toBe('… word word word word [-end-]{+finish+}"');
  });
  test('every changed word survives, whatever the length', () => {
    const words = Array.from({ length: 200 }, (_, i) => `w${i}`);
    const after = words.map((w, i) => (i % 50 === 7 ? `${w}x` : w));
    const d = wordDiff(words.join(' '), after.join(' '));
    for (const i of [7, 57, 107, 157]) expect(d).toContain(`[-w${i}-]{+w${i}x+}`);
  });
});

describe('the cdk-ai-release bin', () => {
  test('package.json maps the command to the compiled entry point, which the build emits from bin/cdk-ai-release.ts', () => {
    const pkg = require('../package.json');
    expect(pkg.bin).toEqual({ 'cdk-ai-release': 'dist/bin/cdk-ai-release.js' });
    const build = require('../tsconfig.build.json');
    expect(build.include).toContain('bin/cdk-ai-release.ts');
    expect(fs.readFileSync(path.join(__dirname, '../bin/cdk-ai-release.ts'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  test('as a process: exit codes reach the shell', () => {
    const root = path.join(__dirname, '..');
    const dir = tempDir({ 'a.json': JSON.stringify(manifest()), 'b.json': JSON.stringify(manifest((c) => (c.retrieval.topK = 9))) });
    const exec = (...args: string[]) =>
      spawnSync(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), path.join(root, 'bin/cdk-ai-release.ts'), ...args], {
        encoding: 'utf8',
        timeout: 30_000,
      });
    const changed = exec('diff', path.join(dir, 'a.json'), path.join(dir, 'b.json'), '--exit-code');
    expect(changed.status).toBe(1);
    expect(changed.stdout).toContain('1 of 7 components changed (retrieval)');
    expect(exec('diff', path.join(dir, 'a.json')).status).toBe(2);
  });
});
