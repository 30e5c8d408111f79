/**
 * cfn-guard over the example's templates with every Control Tower rule file, and with only the rule files that name
 * a resource type of the template (what test/guard-rules.ts's TypedCfnGuardValidator runs): the CPU of each guard
 * process (user + sys, from /usr/bin/time) and whether the non-compliant checks are the same.
 *
 *   npx tsx bench/guard-rules.ts
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ExampleStack, type ExampleStackProps } from '../bin/example-stack';
import { CONTROL_TOWER_RULES, ruleFiles, rulesForAbsentTypes, templateTypes } from '../test/guard-rules';

process.env.CDK_VALIDATION = 'false';
const guard = path.join(path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json')), 'bin/ubuntu/x86_64/cfn-guard');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-guard-'));

function run(template: string, rules: string[]): { cpu: number; notCompliant: string[] } {
  const out = path.join(dir, 'out.json');
  const args = ['-f', '%U %S', '-o', path.join(dir, 'time'), guard, 'validate', ...rules.flatMap((r) => ['--rules', r])];
  const r = spawnSync('/usr/bin/time', [...args, '--data', template, '--output-format', 'json', '--show-summary', 'none', '--structured'], {
    maxBuffer: 1 << 30,
  });
  fs.writeFileSync(out, r.stdout);
  const [u, s] = fs.readFileSync(path.join(dir, 'time'), 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  const results = JSON.parse(r.stdout.toString()) as { not_compliant?: unknown[] }[];
  return { cpu: u + s, notCompliant: results.flatMap((x) => (x.not_compliant ?? []).map((c) => JSON.stringify(c))).sort() };
}

const all = ruleFiles();
for (const [label, props] of [
  ['default', {}],
  ['assigned', { configCanary: 'assigned' }],
] as [string, ExampleStackProps][]) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const json = Template.fromStack(new ExampleStack(app, 'Example', props)).toJSON();
  const file = path.join(dir, `${label}.template.json`);
  fs.writeFileSync(file, JSON.stringify(json, undefined, 1));
  const skipped = new Set(rulesForAbsentTypes(templateTypes([json]), all));
  const kept = all.filter((f) => !skipped.has(path.parse(f).name));
  const full = run(file, [CONTROL_TOWER_RULES]);
  const typed = run(file, kept);
  const same = JSON.stringify(full.notCompliant) === JSON.stringify(typed.notCompliant);
  console.log(
    `${label}: ${Object.keys(json.Resources).length} resources, ${fs.statSync(file).size} bytes; all ${all.length} rule files ${full.cpu.toFixed(2)} s CPU, ` +
      `${kept.length} typed ${typed.cpu.toFixed(2)} s CPU; non-compliant checks ${full.notCompliant.length} vs ${typed.notCompliant.length}, identical: ${same}`,
  );
  if (!same) process.exitCode = 1;
}
fs.rmSync(dir, { recursive: true, force: true });
