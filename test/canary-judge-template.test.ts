import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AiRelease, AiReleasePlatform, ReleaseConfigSource } from '../lib';
import { SERVICES_PER_JUDGE_FUNCTION } from '../lib/judge/canary-judge';
import { inlineFunction, judgeTargetOf, testApp, testRelease, validConfig } from './helpers';

const release = testRelease;

/** The service's settings document: its schedule rule's input (the shared judge function has no service environment). */
function settingsOf(template: Template, service = 'assistant'): Record<string, any> {
  const rules = Object.values(template.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: 'rate(1 minute)' } })) as any[];
  const judge = rules.find((x) => JSON.stringify(x.Properties.Targets).includes('cdk-ai-release.canary-judge'));
  const input = judgeTargetOf(judge, service).Input;
  // Input is a JSON string (Fn::Join when it holds tokens): parse it with the tokens standing as their JSON.
  const text =
    typeof input === 'string'
      ? input
      : input['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : `__${JSON.stringify(p).replace(/"/g, "'")}__`)).join('');
  const doc = JSON.parse(text);
  expect(doc.source).toBe('cdk-ai-release.canary-judge');
  return Object.fromEntries(Object.entries<string>(doc.settings).map(([k, v]) => [k, /^__.*__$/.test(v) ? JSON.parse(v.slice(2, -2).replace(/'/g, '"')) : v]));
}

describe('the canary judge in the template', () => {
  const { stack, r, template: t } = release();
  const template = t();
  const judgeId = stack.getLogicalId(r.canaryJudge!.function.node.defaultChild as never);
  const alarms = template.findResources('AWS::CloudWatch::Alarm');
  const verdict = (plane: 'version' | 'service') =>
    Object.entries(alarms).find(([, a]: any) => a.Properties.AlarmName === `Rel-assistant-${plane}-canary-verdict`)!;

  test("the judge is the live alias's AfterAllowTraffic hook", () => {
    template.hasResource('AWS::Lambda::Alias', {
      UpdatePolicy: { CodeDeployLambdaAliasUpdate: { AfterAllowTrafficHook: 'Rel-canary-judge' } },
    });
  });

  test('verdict alarms: the judge metric per plane, >= 1 in 1 of 1 period of at least the judge cycle (60 s), missing data not breaching', () => {
    for (const [plane, dim] of [
      ['version', 'code'],
      ['service', 'config'],
    ] as const) {
      const [, a] = verdict(plane) as [string, any];
      expect(a.Properties).toMatchObject({
        Namespace: 'AiRelease',
        MetricName: 'CanaryVerdict',
        Dimensions: [
          { Name: 'Plane', Value: dim },
          { Name: 'Service', Value: 'assistant' },
        ],
        Statistic: 'Maximum',
        Period: 60, // the alarm period is 10 s; the judge publishes once a minute
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  test('the code verdict alarm is one of the deployment group alarms (2 of CodeDeploy limit 10); the config one is an AppConfig monitor', () => {
    const [[, group]] = Object.entries(template.findResources('AWS::CodeDeploy::DeploymentGroup')) as [string, any][];
    expect(group.Properties.AlarmConfiguration.Alarms).toHaveLength(2); // the combined guardrail alarm and the verdict
    expect(group.Properties.AlarmConfiguration.Alarms).toContainEqual({ Name: { Ref: verdict('version')[0] } });
    const env = Object.values(template.findResources('AWS::AppConfig::Environment')).find((e: any) => e.Properties.Monitors) as any;
    expect(JSON.stringify(env.Properties.Monitors)).toContain(verdict('service')[0]);
    expect(JSON.stringify(env.Properties.Monitors)).not.toContain(verdict('version')[0]);
  });

  test('the schedule: every minute, no retries (the next minute replaces a missed one)', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [judgeId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } })],
    });
  });

  test('AT_DEPLOYMENT_TICK: the small tick function, through an extension associated with the live release environment (not the degrade one), naming the service, before the first config deployment', () => {
    const tickId = stack.getLogicalId(r.canaryJudge!.tickFunction.node.defaultChild as never);
    expect(tickId).not.toBe(judgeId);
    template.hasResourceProperties('AWS::AppConfig::Extension', {
      Actions: { AT_DEPLOYMENT_TICK: [Match.objectLike({ Uri: { 'Fn::GetAtt': [tickId, 'Arn'] } })] },
      Parameters: { service: { Required: true, Description: Match.anyValue() } },
    });
    // The live environment's one association (config/release-extension.ts) carries the tick with the gate check and
    // the review: the service, and the release profile the gate check reads.
    const assocId = stack.getLogicalId(r.canaryJudge!.association);
    const assoc = template.findResources('AWS::AppConfig::ExtensionAssociation')[assocId] as any;
    expect(Object.keys(template.findResources('AWS::AppConfig::ExtensionAssociation'))).toEqual([assocId]);
    expect(assoc.Properties.Parameters).toEqual({ service: 'assistant', profile: { Ref: stack.getLogicalId(r.config.profile) } });
    expect(assoc.Properties.ExtensionIdentifier).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(r.canaryJudge!.extension), 'Id'] });
    expect(JSON.stringify(assoc.Properties.ResourceIdentifier)).toContain(stack.getLogicalId(r.config.environment));
    expect(JSON.stringify(assoc.Properties.ResourceIdentifier)).not.toContain(stack.getLogicalId(r.config.degradeEnvironment));
    const [[, deployment]] = Object.entries(template.findResources('Custom::AiReleaseConfigDeployment')) as [string, any][];
    expect(deployment.DependsOn).toContain(assocId);
    // AppConfig invokes AT_* actions synchronously: lambda:InvokeFunction on the tick function, nothing else
    const extensions = template.findResources('AWS::AppConfig::Extension', { Properties: { Actions: { AT_DEPLOYMENT_TICK: Match.anyValue() } } }) as any;
    const roleId = Object.values<any>(extensions)[0].Properties.Actions.AT_DEPLOYMENT_TICK[0].RoleArn['Fn::GetAtt'][0];
    // Inline on the role (one resource), the only statement it has.
    const role = template.findResources('AWS::IAM::Role')[roleId] as any;
    expect(role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement)).toEqual([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [tickId, 'Arn'] } },
    ]);
    expect(Object.values<any>(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId))).toEqual([]);
  });

  test('the tick function: its own bundle, 1,024 MB and 5 s, and it may only read judge records', () => {
    const tickId = stack.getLogicalId(r.canaryJudge!.tickFunction.node.defaultChild as never);
    const fn = template.findResources('AWS::Lambda::Function')[tickId] as any;
    expect(fn.Properties).toMatchObject({ Handler: 'index.handler', MemorySize: 1024, Timeout: 5 });
    expect(JSON.stringify(fn.Metadata ?? {})).not.toContain('lambda/canary-judge"');
    const roleRef = fn.Properties.Role['Fn::GetAtt'][0];
    const policies = Object.values<any>(template.findResources('AWS::IAM::Policy')).filter((p) => p.Properties.Roles.some((x: any) => x.Ref === roleRef));
    const actions = policies.flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((st: any) => [st.Action].flat()));
    expect(actions.sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
    expect(JSON.stringify(policies)).toContain('/judge/*');
  });

  test('the cannot-judge alarm pages through the release topic and rolls nothing back (no composite, no deployment group, not breaching on missing data)', () => {
    const id = stack.getLogicalId(r.canaryJudge!.cannotJudgeAlarm.node.defaultChild as never);
    const alarm = alarms[id] as any;
    expect(alarm.Properties).toMatchObject({
      AlarmName: 'Rel-canary-judge-cannot-judge',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
    });
    const [topicId] = Object.keys(template.findResources('AWS::SNS::Topic'));
    expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    for (const [, c] of Object.entries<any>(template.findResources('AWS::CloudWatch::CompositeAlarm')))
      expect(JSON.stringify(c.Properties.AlarmRule)).not.toContain(id);
    for (const [, g] of Object.entries<any>(template.findResources('AWS::CodeDeploy::DeploymentGroup')))
      expect(JSON.stringify(g.Properties.AlarmConfiguration ?? {})).not.toContain('cannot-judge');
    for (const [, e] of Object.entries<any>(template.findResources('AWS::AppConfig::Environment')))
      expect(JSON.stringify(e.Properties.Monitors ?? [])).not.toContain(id);
  });

  test("one judge function on the platform (15 minutes: the longest hook bound, 13, and its answer); the service's settings are its rule's input", () => {
    const fn = template.findResources('AWS::Lambda::Function')[judgeId] as any;
    expect(judgeId).toMatch(/^AiReleasePlatformCanaryJudge/);
    expect(fn.Properties.FunctionName).toBe('Rel-canary-judge');
    expect(fn.Properties.Timeout).toBe(900);
    // Only the bucket and the platform (the cannot-judge metric's Platform dimension): Lambda's 4 KB of environment
    // could not hold fifty services' settings.
    expect(fn.Properties.Environment.Variables).toEqual({ AI_RELEASE_STORE_BUCKET: expect.anything(), AI_RELEASE_JUDGE_PLATFORM: 'Rel' });
    expect(settingsOf(template)).toMatchObject({
      AI_RELEASE_JUDGE_SERVICE: 'assistant',
      AI_RELEASE_JUDGE_PERIOD_SECONDS: '10',
      AI_RELEASE_JUDGE_ALPHA: '0.01',
      AI_RELEASE_JUDGE_AFTER_TRAFFIC_SECONDS: '600',
      AI_RELEASE_JUDGE_DEPLOYMENT_GROUP: { Ref: stack.getLogicalId(r.deploymentGroup.node.defaultChild as never) },
      AI_RELEASE_JUDGE_LOG_GROUP: expect.anything(),
    });
  });

  test('the rule invokes the shared function through one permission for the platform rule-name prefix, in this account', () => {
    // In the platform's stack the service's target is on the platform's first shared schedule rule (h9-schedule): a
    // name under the same prefix, with a "_" no service's own rule name (Rel-judge-<service>) can have.
    template.hasResourceProperties('AWS::Events::Rule', { Name: 'Rel-judge-_schedule-1', ScheduleExpression: 'rate(1 minute)' });
    expect(Object.values(template.findResources('AWS::Events::Rule', { Properties: { Name: 'Rel-judge-assistant' } }))).toHaveLength(0);
    const perms = Object.values(template.findResources('AWS::Lambda::Permission')).filter((p: any) =>
      JSON.stringify(p.Properties.FunctionName).includes(judgeId),
    ) as any[];
    expect(perms).toHaveLength(1);
    expect(perms[0].Properties).toMatchObject({ Principal: 'events.amazonaws.com', Action: 'lambda:InvokeFunction', SourceAccount: { Ref: 'AWS::AccountId' } });
    expect(JSON.stringify(perms[0].Properties.SourceArn)).toContain(':rule/Rel-judge-*');
  });

  test('IAM: metrics only in the AiRelease namespace, records under judge/, hook status on the platform application groups, and CodeDeploy may invoke the hook', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
    const judge = policies.filter((p) => JSON.stringify(p.Properties.Roles).includes('CanaryJudgeServiceRole'));
    const statements = judge.flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toContainEqual({
      Action: 'cloudwatch:PutMetricData',
      Condition: { StringEquals: { 'cloudwatch:namespace': 'AiRelease' } },
      Effect: 'Allow',
      Resource: '*',
    });
    const s3 = statements.find((s) => JSON.stringify(s.Action) === JSON.stringify(['s3:GetObject', 's3:PutObject']));
    expect(JSON.stringify(s3.Resource)).toContain('/judge/*');
    const groups = statements.find((s) => JSON.stringify(s.Action).includes('PutLifecycleEventHookExecutionStatus'));
    expect(groups.Action).toEqual(['codedeploy:ListDeployments', 'codedeploy:GetDeployment', 'codedeploy:PutLifecycleEventHookExecutionStatus']);
    const app = stack.resolve(r.deploymentGroup.application.applicationName);
    expect(JSON.stringify(groups.Resource)).toContain(JSON.stringify(app));
    expect(JSON.stringify(groups.Resource)).toContain('/*');
    const startQuery = statements.find((s) => s.Action === 'logs:StartQuery');
    expect(startQuery.Resource).toHaveLength(2);
    const cdRole = policies.filter((p) => JSON.stringify(p.Properties.Roles).includes('CodeDeployRole'));
    expect(cdRole.flatMap((p) => p.Properties.PolicyDocument.Statement)).toContainEqual(
      expect.objectContaining({ Action: 'lambda:InvokeFunction', Resource: expect.arrayContaining([{ 'Fn::GetAtt': [judgeId, 'Arn'] }]) }),
    );
  });

  test("the live alias waits for the hook, its role's policy, the CodeDeploy role's policy and the schedule rule (the hook's pointer)", () => {
    const [[, alias]] = Object.entries(template.findResources('AWS::Lambda::Alias', { Properties: { Name: 'live' } })) as [string, any][];
    const policies = Object.keys(template.findResources('AWS::IAM::Policy'));
    const judgePolicy = policies.find((id) => id.startsWith('AiReleasePlatformCanaryJudgeServiceRoleDefaultPolicy'));
    const codeDeployPolicy = policies.find((id) => /^AiReleasePlatformCodeDeployRoleDefaultPolicy/.test(id));
    const rule = stack.getLogicalId(r.canaryJudge!.schedule.node.defaultChild as never);
    expect([judgePolicy, codeDeployPolicy]).toEqual([expect.any(String), expect.any(String)]);
    expect(alias.DependsOn).toEqual(expect.arrayContaining([judgeId, judgePolicy, codeDeployPolicy, rule]));
  });

  test('no Lambda retries of asynchronous invocations (schedule and hook): a retry would overlap the next minute on the same record', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: judgeId }, MaximumRetryAttempts: 0, Qualifier: '$LATEST' });
  });

  test('config rollouts: the schedule may list and read the live environment deployments only; the function names that environment', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
    const statements = policies
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('CanaryJudgeServiceRole'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const envId = stack.resolve(r.config.environment.ref);
    const appId = stack.resolve(r.config.applicationId);
    const reads = statements.find((x) => JSON.stringify(x.Action).includes('appconfig:ListDeployments'));
    expect(reads.Action).toEqual(['appconfig:ListDeployments', 'appconfig:GetDeployment', 'appconfig:GetHostedConfigurationVersion']);
    // The application the library made (and its sub-resources), read only; nothing else.
    expect(reads.Resource).toHaveLength(2);
    expect(JSON.stringify(reads.Resource)).toContain(JSON.stringify(appId));
    expect(JSON.stringify(reads.Resource[1])).toContain('/*');
    expect(settingsOf(template).AI_RELEASE_JUDGE_APPCONFIG_ENVIRONMENT).toEqual(envId);
  });
});

describe('canaryJudge options', () => {
  test('off: no judge, no verdict alarms, no post hook', () => {
    const { r, template } = release({ canaryJudge: false });
    expect(r.canaryJudge).toBeUndefined();
    const t = template();
    expect(Object.values(t.findResources('AWS::CloudWatch::Alarm')).filter((a: any) => a.Properties.AlarmName.endsWith('canary-verdict'))).toHaveLength(0);
    expect(JSON.stringify(t.findResources('AWS::Lambda::Alias'))).not.toContain('AfterAllowTrafficHook":{"Ref');
    expect(t.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: 'rate(1 minute)' } })).toEqual({});
    expect(t.findResources('AWS::AppConfig::Extension', { Properties: { Actions: { AT_DEPLOYMENT_TICK: Match.anyValue() } } })).toEqual({});
  });

  test('two services on one platform share one tick function and extension; each association names its own service', () => {
    const stack = new Stack(testApp(), 'Two');
    const mk = (name: string) =>
      new AiRelease(stack, name, { serviceName: name, function: inlineFunction(stack, `${name}Fn`), config: ReleaseConfigSource.fromObject(validConfig()) });
    const [a, b] = [mk('alpha'), mk('beta')];
    expect(a.canaryJudge!.tickFunction).toBe(b.canaryJudge!.tickFunction);
    expect(a.canaryJudge!.extension).toBe(b.canaryJudge!.extension);
    const t = Template.fromStack(stack);
    expect(Object.keys(t.findResources('AWS::AppConfig::Extension', { Properties: { Actions: { AT_DEPLOYMENT_TICK: Match.anyValue() } } }))).toHaveLength(1);
    const tickExtension = stack.getLogicalId(a.canaryJudge!.extension);
    const params = Object.values<any>(t.findResources('AWS::AppConfig::ExtensionAssociation'))
      .filter((x) => JSON.stringify(x.Properties.ExtensionIdentifier).includes(tickExtension))
      .map((x) => x.Properties.Parameters?.service)
      .filter(Boolean)
      .sort();
    expect(params).toEqual(['alpha', 'beta']);
  });

  test('a shorter bound and alpha reach the function', () => {
    const { template } = release({ canaryJudge: { afterTrafficBound: Duration.minutes(3), alpha: 0.05 } });
    expect(settingsOf(template())).toMatchObject({ AI_RELEASE_JUDGE_AFTER_TRAFFIC_SECONDS: '180', AI_RELEASE_JUDGE_ALPHA: '0.05' });
  });

  test('the baseline window reaches the function: 30 minutes by default, 0 turns it off, over 60 minutes is refused', () => {
    const env = (o: object) => {
      const { template } = release({ canaryJudge: o });
      return settingsOf(template());
    };
    expect(env({}).AI_RELEASE_JUDGE_BASELINE_WINDOW_SECONDS).toBe('1800');
    expect(env({ baselineWindow: Duration.minutes(0) }).AI_RELEASE_JUDGE_BASELINE_WINDOW_SECONDS).toBe('0');
    expect(() => release({ canaryJudge: { baselineWindow: Duration.minutes(61) } })).toThrow(
      'canaryJudge.baselineWindow must be from 0 to 60 minutes, got 1 hour 1 minute',
    );
  });

  test('a bound the hook cannot keep, or an alpha that is no bound, is refused with the fix', () => {
    expect(() => release({ canaryJudge: { afterTrafficBound: Duration.minutes(14) } })).toThrow(
      'canaryJudge.afterTrafficBound must be from 1 to 13 minutes, got 14 minutes',
    );
    expect(() => release({ canaryJudge: { evaluationMaxWait: Duration.minutes(11) } })).toThrow(
      'canaryJudge.evaluationMaxWait must be from 1 minute to afterTrafficBound (10 minutes), got 11 minutes',
    );
    expect(() => release({ canaryJudge: { evaluationMaxWait: Duration.seconds(30) } })).toThrow(/evaluationMaxWait must be from 1 minute/);
    expect(() => release({ canaryJudge: { alpha: 0.6 } })).toThrow('canaryJudge.alpha must be a probability above 0 and below 0.5, got 0.6');
  });
});

describe('one cannot-judge alarm per platform (issue 15-E)', () => {
  const services = (n: number, stackName = 'Rel') => {
    const app = testApp();
    const stack = new Stack(app, stackName);
    const releases = Array.from({ length: n }, (_, i) => {
      const fn = inlineFunction(stack, `Fn${i}`);
      return new AiRelease(stack, `Svc${i}`, { serviceName: `svc-${i}`, function: fn, config: ReleaseConfigSource.fromObject(validConfig()) });
    });
    return { stack, releases, template: Template.fromStack(stack) };
  };
  const cannotJudgeAlarms = (template: Template) =>
    Object.values<any>(template.findResources('AWS::CloudWatch::Alarm')).filter((a) => String(a.Properties.AlarmName).endsWith('canary-judge-cannot-judge'));

  test('three services: one alarm, named by the platform, on the Platform dimension and the judge function errors', () => {
    const { stack, releases, template } = services(3);
    const alarms = cannotJudgeAlarms(template);
    expect(alarms).toHaveLength(1);
    expect(new Set(releases.map((r) => r.canaryJudge!.cannotJudgeAlarm)).size).toBe(1);
    const [alarm] = alarms;
    expect(alarm.Properties.AlarmName).toBe('Rel-canary-judge-cannot-judge');
    const judgeId = stack.getLogicalId(releases[0].canaryJudge!.function.node.defaultChild as never);
    expect(alarm.Properties.Metrics).toEqual([
      { Id: 'expr_1', Expression: 'FILL(cannot, 0) + FILL(errors, 0)', Label: 'cannot judge', ReturnData: true },
      {
        Id: 'cannot',
        MetricStat: {
          Metric: { Namespace: 'AiRelease', MetricName: 'CanaryJudgeCannotJudge', Dimensions: [{ Name: 'Platform', Value: 'Rel' }] },
          Period: 60,
          Stat: 'Maximum',
        },
        ReturnData: false,
      },
      {
        Id: 'errors',
        MetricStat: {
          Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: { Ref: judgeId } }] },
          Period: 60,
          Stat: 'Sum',
        },
        ReturnData: false,
      },
    ]);
    // No service is named in the alarm's metrics: the description says where the service is named.
    expect(JSON.stringify(alarm.Properties.Metrics)).not.toContain('svc-');
    expect(alarm.Properties.AlarmDescription).toContain('judge/<service>/');
    // The judge function publishes under that platform value.
    const fn = template.findResources('AWS::Lambda::Function')[judgeId] as any;
    expect(fn.Properties.Environment.Variables.AI_RELEASE_JUDGE_PLATFORM).toBe('Rel');
  });

  test('more services than one judge function holds (each in its stack): the one alarm, in the platform stack, sums the errors of every judge function', () => {
    const app = testApp();
    const platformStack = new Stack(app, 'AiPlatform');
    const platform = new AiReleasePlatform(platformStack, 'Platform', { applicationPerService: true });
    const releases = Array.from({ length: SERVICES_PER_JUDGE_FUNCTION + 1 }, (_, i) => {
      const s = new Stack(app, `Svc${i}`);
      return new AiRelease(s, 'Release', {
        serviceName: `svc-${i}`,
        function: inlineFunction(s),
        config: ReleaseConfigSource.fromObject(validConfig()),
        platform,
      });
    });
    const assembly = app.synth();
    const fns = [...new Set(releases.map((r) => r.canaryJudge!.function))];
    expect(fns.length).toBe(2);
    const alarmsIn = (name: string) =>
      Object.values<any>(assembly.getStackByName(name).template.Resources).filter(
        (x) => x.Type === 'AWS::CloudWatch::Alarm' && String(x.Properties.AlarmName).endsWith('canary-judge-cannot-judge'),
      );
    for (let i = 0; i < releases.length; i++) expect(alarmsIn(`Svc${i}`)).toEqual([]);
    const [alarm, ...more] = alarmsIn('AiPlatform');
    expect(more).toEqual([]);
    expect(alarm.Properties.AlarmName).toBe('AiPlatform-canary-judge-cannot-judge');
    expect(alarm.Properties.Metrics[0].Expression).toBe('FILL(cannot, 0) + FILL(errors, 0) + FILL(errors2, 0)');
    const watched = alarm.Properties.Metrics.filter((m: any) => m.MetricStat?.Metric.MetricName === 'Errors').map(
      (m: any) => m.MetricStat.Metric.Dimensions[0].Value,
    );
    expect(watched).toEqual(fns.map((f) => ({ Ref: platformStack.getLogicalId(f.node.defaultChild as never) })));
  });

  test('two platforms (two stacks) never share the Platform value or the alarm name', () => {
    const a = cannotJudgeAlarms(services(1, 'TeamA').template)[0];
    const b = cannotJudgeAlarms(services(1, 'TeamB').template)[0];
    const dim = (x: any) => x.Properties.Metrics[1].MetricStat.Metric.Dimensions[0].Value;
    expect([dim(a), dim(b)]).toEqual(['TeamA', 'TeamB']);
    expect(a.Properties.AlarmName).not.toBe(b.Properties.AlarmName);
  });
});
