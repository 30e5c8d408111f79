import { NestedStack, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AiRelease, AiReleasePlatform, ReleaseConfigSource } from '../lib';
import { SERVICES_PER_JUDGE_FUNCTION } from '../lib/judge/canary-judge';
import { testApp, validConfig } from './helpers';

type Json = any;

/** One service as a platform team composes it, every default on (gate, config gate, judge, snapshots, reviews). */
function service(scope: Stack, name: string, platform: AiReleasePlatform) {
  const fn = new lambda.Function(scope, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    logGroup: new logs.LogGroup(scope, 'Logs', { retention: logs.RetentionDays.ONE_MONTH }),
  });
  return new AiRelease(scope, 'Release', { serviceName: name, function: fn, config: ReleaseConfigSource.fromObject(validConfig()), platform });
}

const refsTo = (template: Json, pattern: RegExp) => JSON.stringify(template).match(pattern) ?? [];

describe('platform stack + one stack per service', () => {
  const app = testApp();
  const platformStack = new Stack(app, 'AiPlatform');
  const platform = new AiReleasePlatform(platformStack, 'Platform', { applicationPerService: true });
  const stacks = ['alpha', 'beta', 'gamma'].map((name) => {
    const s = new Stack(app, `Svc-${name}`);
    service(s, name, platform);
    return s;
  });
  const assembly = app.synth(); // before platform-role.ts: «DependencyCycle» 'Svc-alpha' depends on 'AiPlatform'
  const platformTemplate = assembly.getStackByName('AiPlatform').template;

  test('the platform stack refers to no service stack; every service stack depends on the platform stack only', () => {
    expect(refsTo(platformTemplate, /Fn::ImportValue/g)).toEqual([]);
    expect(
      assembly
        .getStackByName('AiPlatform')
        .dependencies.map((d) => d.id)
        .filter((id) => id.startsWith('Svc')),
    ).toEqual([]);
    for (const s of stacks) {
      const artifact = assembly.getStackByName(s.stackName);
      // (its asset manifest aside)
      expect(artifact.dependencies.map((d) => d.id).filter((id) => !id.endsWith('.assets'))).toEqual(['AiPlatform']);
      expect(refsTo(artifact.template, /"Fn::ImportValue"/g).length).toBeGreaterThan(0);
    }
  });

  test("a service's grants to the platform's roles (config deployer, config gate check, CodeDeploy) live in its own stack", () => {
    const t = Template.fromStack(stacks[0]);
    const policies = Object.values(t.findResources('AWS::IAM::Policy')) as Json[];
    // policies attached to an imported (platform) role: `Roles` holds a Fn::Select over an imported ARN
    const onPlatformRoles = policies.filter((p) => JSON.stringify(p.Properties.Roles).includes('Fn::ImportValue'));
    const actions = onPlatformRoles.flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((s: Json) => [s.Action].flat()));
    expect(actions).toEqual(expect.arrayContaining(['appconfig:StartDeployment', 'appconfig:ListDeployments', 'lambda:InvokeFunction']));
    // and the platform's own policies name none of the services' environments
    expect(refsTo(platformTemplate, /Environment[0-9A-F]{8}/g)).toEqual([]);
    // the config deployment waits for its grants
    const deployment = Object.values(t.findResources('Custom::AiReleaseConfigDeployment'))[0] as Json;
    const grantIds = Object.entries(t.findResources('AWS::IAM::Policy'))
      .filter(([, p]) => JSON.stringify((p as Json).Properties.PolicyDocument).includes('appconfig:StartDeployment'))
      .map(([id]) => id);
    expect(grantIds.length).toBeGreaterThan(0);
    for (const id of grantIds) expect(deployment.DependsOn).toContain(id);
  });

  test("the platform's one regression gate: each service stack's grants on its role (its function, its settings) in its own stack; the hook by literal name", () => {
    const gates = Object.entries(platformTemplate.Resources as Record<string, Json>).filter(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.includes('RegressionGate'),
    );
    expect(gates).toHaveLength(1);
    const [gateId, gate] = gates[0];
    for (const s of stacks) {
      const t = Template.fromStack(s).toJSON();
      expect(Object.values<Json>(t.Resources).filter((r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r).includes('regression gate'))).toEqual([]);
      const [aliasId, alias] = Object.entries<Json>(t.Resources).find(([, r]) => r.Type === 'AWS::Lambda::Alias' && r.Properties.Name === 'live')!;
      expect(alias.UpdatePolicy.CodeDeployLambdaAliasUpdate.BeforeAllowTrafficHook).toBe(gate.Properties.FunctionName);
      // The grants: a policy of this stack on the platform gate's role (imported), naming this service's function
      // versions and its settings parameter only; the alias update waits for it.
      const [grantsId, grants] = Object.entries<Json>(t.Resources).find(
        ([id, r]) => r.Type === 'AWS::IAM::Policy' && id.includes('Gate') && JSON.stringify(r.Properties.Roles).includes(gateId.replace(/[0-9A-F]{8}$/, '')),
      )!;
      const statements = grants.Properties.PolicyDocument.Statement;
      expect(statements.map((x: Json) => x.Action).sort()).toEqual(['lambda:InvokeFunction', 'ssm:GetParameter']);
      expect(JSON.stringify(statements)).toContain(`parameter/cdk-ai-release/${s.stackName}/`);
      expect(alias.DependsOn).toContain(grantsId);
      expect(aliasId).toBeDefined();
      // The deployment group's tag names the settings parameter.
      const group = Object.values<Json>(t.Resources).find((r) => r.Type === 'AWS::CodeDeploy::DeploymentGroup');
      expect(group.Properties.Tags).toEqual(
        expect.arrayContaining([{ Key: 'cdk-ai-release:gate-settings', Value: expect.stringContaining(`/cdk-ai-release/${s.stackName}/`) }]),
      );
    }
    // The platform gate's own policy names none of the services' functions.
    const own = Object.values<Json>(platformTemplate.Resources).filter(
      (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes('RegressionGateServiceRole'),
    );
    expect(JSON.stringify(own)).not.toMatch(/Svc-|alpha|beta|gamma/);
  });

  test("a service's alarms are named from the platform's stack, so its topic policy and reviewer cover them", () => {
    const policy = JSON.stringify(Object.values(Template.fromStack(platformStack).findResources('AWS::SNS::TopicPolicy'))[0]);
    expect(policy).toContain(':alarm:AiPlatform-*');
    for (const s of stacks) {
      const t = Template.fromStack(s);
      const names = [...Object.values(t.findResources('AWS::CloudWatch::Alarm')), ...Object.values(t.findResources('AWS::CloudWatch::CompositeAlarm'))].map(
        (a: Json) => a.Properties.AlarmName,
      );
      // combined layout: 2 guardrail alarms, 2 verdict alarms, AnyReleaseAlarm (cannot-judge is the platform's, issue 15-E)
      expect(names.length).toBeGreaterThanOrEqual(5);
      for (const n of names) expect(n).toMatch(/^AiPlatform-/);
      expect(names.filter((n) => n.endsWith('canary-judge-cannot-judge'))).toEqual([]);
    }
    // the platform's one cannot-judge alarm, in its stack, pages through its topic
    const platformAlarms = Object.values(Template.fromStack(platformStack).findResources('AWS::CloudWatch::Alarm')).map((a: Json) => a.Properties.AlarmName);
    expect(platformAlarms.filter((n) => String(n).endsWith('canary-judge-cannot-judge'))).toEqual(['AiPlatform-canary-judge-cannot-judge']);
  });

  test('each service has an AppConfig application of its own (3 environments in it), none in the platform is used', () => {
    for (const s of stacks) {
      const t = Template.fromStack(s);
      t.resourceCountIs('AWS::AppConfig::Application', 1);
      const [[appId, app]] = Object.entries(t.findResources('AWS::AppConfig::Application')) as [string, Json][];
      // named by the physical-name rule: the stack's name prefix and the service, a literal of at most 64
      const service = s.stackName.replace(/^Svc-/, '');
      expect(app.Properties.Name).toBe(`${s.stackName}-${service}`);
      const envs = Object.values(t.findResources('AWS::AppConfig::Environment')) as Json[];
      expect(envs).toHaveLength(3);
      for (const e of envs) expect(e.Properties.ApplicationId).toEqual({ Ref: appId });
    }
  });
});

describe('one nested stack per service: the parent stack grows by one resource per service', () => {
  function parent(n: number) {
    const app = testApp();
    const top = new Stack(app, 'Services');
    const platform = new AiReleasePlatform(top, 'Platform', { applicationPerService: true });
    for (let i = 0; i < n; i++) service(new NestedStack(top, `Svc${i}`), `svc-${i}`, platform);
    app.synth();
    return top;
  }

  test('three services: 3 nested stacks; the rest of the parent is the platform; 500 resources hold ≥ 50 services', () => {
    const top = parent(3);
    const resources = Template.fromStack(top).toJSON().Resources as Record<string, Json>;
    const nested = Object.values(resources).filter((r) => r.Type === 'AWS::CloudFormation::Stack');
    expect(nested).toHaveLength(3);
    const platformOnly = Object.keys(resources).length - nested.length;
    // the platform now holds the canary judge (function, role, policy, invoke config, permission: 5 resources) for up
    // to SERVICES_PER_JUDGE_FUNCTION services, and 5 more for each further group of them
    expect(platformOnly).toBeLessThan(65);
    const judgesAt50 = Math.ceil(50 / SERVICES_PER_JUDGE_FUNCTION) - 1;
    expect(platformOnly + 5 * judgesAt50 + 50).toBeLessThanOrEqual(500);
    // each nested stack is far from the per-stack limits (500 resources, 200 parameters, 200 outputs)
    for (const s of top.node.children.filter((c): c is NestedStack => NestedStack.isNestedStack(c))) {
      const t = Template.fromStack(s).toJSON();
      expect(Object.keys(t.Resources).length).toBeLessThan(100);
      expect(Object.keys(t.Parameters ?? {}).length).toBeLessThan(200);
      expect(Object.keys(t.Outputs ?? {}).length).toBeLessThan(200);
      expect(JSON.stringify(t).length).toBeLessThan(1_000_000);
    }
  });
});

describe('the binding AppConfig quota is checked at synth and named', () => {
  function platformWith(n: number, props: ConstructorParameters<typeof AiReleasePlatform>[2]) {
    const app = testApp();
    const stack = new Stack(app, 'P');
    const platform = new AiReleasePlatform(stack, 'Platform', props);
    for (let i = 0; i < n; i++) {
      const s = new NestedStack(stack, `S${i}`);
      service(s, `svc-${i}`, platform);
    }
    return () => app.synth();
  }

  // A stated quota of 5 environments stands in for the default 20 (7 services), to keep the test small.
  test('services on one shared application: environments per application, named with the fix', () => {
    expect(platformWith(2, { appConfigEnvironmentQuota: 5 })).toThrow(
      /6 AppConfig environments .* quota of 5 environments per application[\s\S]*Set applicationPerService/,
    );
  });

  test('with an application per service, the quota of applications per account binds, and is named', () => {
    expect(platformWith(2, { applicationPerService: true, appConfigEnvironmentQuota: 5 })).not.toThrow();
    // 1 platform application + 2 services' own over a stated quota of 2
    expect(platformWith(2, { applicationPerService: true, appConfigApplicationQuota: 2 })).toThrow(
      /3 AppConfig applications in this app exceed AppConfig's quota of 2 applications per account/,
    );
  });
});
