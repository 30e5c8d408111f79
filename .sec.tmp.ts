import * as fs from 'node:fs'; import * as os from 'node:os'; import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ExampleStack } from './bin/example-stack';
for (const mode of ['nag', 'guard', 'both']) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-sec-'));
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  new ExampleStack(app, 'Example');
  const t = Date.now();
  const plugins = mode === 'nag' ? [new AwsSolutionsChecks(app)] : mode === 'guard' ? [new CfnGuardValidator({ controlTowerRulesEnabled: true })] : [new AwsSolutionsChecks(app), new CfnGuardValidator({ controlTowerRulesEnabled: true })];
  Validations.of(app).addPlugins(...plugins);
  try { app.synth(); } catch {}
  console.log(mode, Date.now() - t);
}
