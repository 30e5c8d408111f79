import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ExampleStack } from '../bin/example-stack';
import { TypedCfnGuardValidator } from './guard-rules';

interface Report {
  pluginReports: { pluginName: string; conclusion: string; violations: { ruleName: string; violatingConstructs?: { constructPath: string }[] }[] }[];
}

/** Synthesizes with cdk-nag AwsSolutions and the cfn-guard Control Tower rules; returns the validation report. */
function validate(build: (app: App) => void): { report: Report; failed: boolean } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-sec-'));
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  build(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new TypedCfnGuardValidator());
  let failed = false;
  try {
    app.synth();
  } catch (e) {
    // A failed validation throws after writing its report; any other error has no report and is rethrown.
    if (!fs.existsSync(path.join(outdir, 'validation-report.json'))) throw e;
    failed = true;
  }
  const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as Report;
  return { report, failed };
}

const findings = (r: Report) =>
  r.pluginReports.flatMap((p) => p.violations.map((v) => `${p.pluginName}: ${v.ruleName} at ${v.violatingConstructs?.map((c) => c.constructPath).join(', ')}`));

describe('security checks over the example app', () => {
  test('cdk-nag AwsSolutions and cfn-guard Control Tower rules: zero unacknowledged findings', () => {
    const { report, failed } = validate((app) => new ExampleStack(app, 'Example'));
    expect(findings(report)).toEqual([]);
    expect(failed).toBe(false);
  });

  test('with an assigned config canary (the shared gate may invoke the share controller): zero unacknowledged findings', () => {
    const { report, failed } = validate((app) => new ExampleStack(app, 'Example', { configCanary: 'assigned' }));
    expect(findings(report)).toEqual([]);
    expect(failed).toBe(false);
  });

  test('the checks are live: a wildcard policy is reported', () => {
    const { report, failed } = validate((app) => {
      const stack = new Stack(app, 'Bad');
      const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
    });
    expect(failed).toBe(true);
    const all = findings(report).join('\n');
    expect(all).toContain('AwsSolutions-IAM5[Action::s3:*]');
    expect(all).toContain('iam_inline_policy_no_statements_with_full_access_check');
    expect(report.pluginReports.map((p) => p.pluginName)).toEqual(expect.arrayContaining(['AwsSolutions']));
  });
});
