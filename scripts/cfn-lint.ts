/**
 * cfn-lint over every template the example app and the test apps synthesize (nested stacks too): fails on any
 * error, prints the warnings by rule. Skips, with a printed line, where cfn-lint is not installed.
 *
 *   npx tsx scripts/cfn-lint.ts            (run by .ci/run)
 *
 * The apps skip bundling (`aws:cdk:bundling-stacks: []`): cfn-lint reads templates, not bundles.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, NestedStack, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ExampleStack } from '../bin/example-stack';
import { AiRelease, AiReleasePlatform, ReleaseConfigSource } from '../lib';

const root = path.join(__dirname, '..');
const configDir = path.join(root, 'example/support-assistant/release-config');

export interface LintFinding {
  readonly rule: string;
  readonly level: 'error' | 'warning' | 'informational';
  readonly message: string;
  readonly file: string;
}

/** The installed cfn-lint's version, or undefined. */
export function cfnLintVersion(): string | undefined {
  const r = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The apps whose templates are linted; each writes to its own directory. */
export function synthesizeLintApps(base: string): string[] {
  const dirs: string[] = [];
  const app = (name: string) => {
    const outdir = path.join(base, name);
    dirs.push(outdir);
    return new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  };
  const fn = (scope: Stack, id: string) =>
    new lambda.Function(scope, id, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler=async()=>({})'),
    });
  const service = (scope: Stack, name: string, extra: object = {}) =>
    new AiRelease(scope, `${name}Release`, {
      serviceName: name,
      function: fn(scope, `${name}Fn`),
      config: ReleaseConfigSource.fromDirectory(configDir),
      ...extra,
    });

  // The example app, as `cdk synth` builds it.
  const example = app('example');
  new ExampleStack(example, 'AiReleaseExample');
  example.synth();

  // Services inside nested stacks under a long parent name, the cost guard on; a platform in each nested stack.
  const nested = app('nested');
  const parent = new Stack(nested, 'Parent', { stackName: `Platform${'x'.repeat(120)}` });
  const inner = new NestedStack(parent, 'Services');
  new AiReleasePlatform(inner, 'Platform');
  service(inner, 'alpha', { costGuard: {} });
  service(inner, `s${'v'.repeat(39)}`);
  service(new NestedStack(parent, 'More'), 'beta', { canaryJudge: false });
  nested.synth();

  // The layouts for many services: a platform stack with an application per service, two services in stacks of
  // their own, and two in nested stacks of the platform's stack.
  const layout = app('layout');
  const platformStack = new Stack(layout, 'AiPlatform');
  const platform = new AiReleasePlatform(platformStack, 'Platform', { applicationPerService: true });
  // (The evaluator takes services of the platform's own stack only for now: evaluation off for these.)
  for (const name of ['gamma', 'delta']) service(new Stack(layout, `Svc-${name}`), name, { platform, evaluation: false });
  for (const name of ['epsilon', 'zeta']) service(new NestedStack(platformStack, `Svc-${name}`), name, { platform, evaluation: false });
  layout.synth();
  return dirs;
}

/** Runs cfn-lint on every template under `dirs` (JSON output) and returns its findings. */
export function lint(dirs: string[]): LintFinding[] {
  const files = dirs.flatMap((d) =>
    fs
      .readdirSync(d)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => path.join(d, f)),
  );
  if (files.length === 0) throw new Error(`no templates under ${dirs.join(', ')}`);
  const r = spawnSync('cfn-lint', ['--format', 'json', '--', ...files], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.error) throw r.error;
  // cfn-lint exits non-zero when it finds anything (2 errors, 4 warnings, 8 informational, or'ed); JSON either way.
  const out = JSON.parse(r.stdout || '[]') as { Rule: { Id: string }; Level: string; Message: string; Filename: string }[];
  return out.map((m) => ({
    rule: m.Rule.Id,
    level: m.Level.toLowerCase() as LintFinding['level'],
    message: m.Message,
    file: path.relative(os.tmpdir(), m.Filename),
  }));
}

if (require.main === module) {
  const version = cfnLintVersion();
  if (!version) {
    process.stdout.write('cfn-lint is not installed: skipping the template lint (pip install cfn-lint to run it)\n');
    process.exit(0);
  }
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'cfn-lint-'));
  const dirs = synthesizeLintApps(base);
  const findings = lint(dirs);
  const byRule = new Map<string, LintFinding[]>();
  for (const f of findings) byRule.set(`${f.level} ${f.rule}`, [...(byRule.get(`${f.level} ${f.rule}`) ?? []), f]);
  process.stdout.write(`${version} over ${dirs.map((d) => path.basename(d)).join(', ')}: ${findings.length} findings\n`);
  for (const [key, fs_] of [...byRule.entries()].sort()) process.stdout.write(`  ${key}: ${fs_.length} (e.g. ${fs_[0].message})\n`);
  const errors = findings.filter((f) => f.level === 'error');
  for (const e of errors) process.stdout.write(`ERROR ${e.rule} ${e.file}: ${e.message}\n`);
  fs.rmSync(base, { recursive: true, force: true });
  process.exit(errors.length > 0 ? 1 : 0);
}
