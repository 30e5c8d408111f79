/**
 * The config gate in the template: the candidate environment, the `gate` alias, the live environment's
 * PRE_START_DEPLOYMENT gate check, IAM (only the gate role may invoke the gate alias, proven with a policy
 * simulator over every role and resource policy of the example stack), ordering and the time budget.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ExampleStack } from '../bin/example-stack';
import { CHECK_BUDGET_MS } from '../lambda/config-gate-check/check';
import { CONFIG_GATE_ENV, GATE_ALIAS_NAME } from '../lambda/shared/contract';
import { CHECK_TIMEOUT_SECONDS } from '../lib/learning/config-gate-check';
import { CONFIG_PLANE_BUDGET_SECONDS } from '../lib/rollout/config-deployment';
import { AiRelease, AiReleasePlatform, AiServiceConfig, ConfigRollout, ReleaseConfigDeployment, ReleaseConfigSource } from '../lib';
import { configGateOf, CONFIG_GATE_TIMEOUT } from './config-gate-fixtures';
import { inlineFunction, testApp, validConfig } from './helpers';
import { ACCOUNT, PARTITION, REGION, resolveTemplate, roleIdentityPolicies, simulate } from './iam-template';

type Res = { Type: string; Properties?: any; DependsOn?: string[] };

function example() {
  const stack = new ExampleStack(testApp(), 'Example');
  const gate = configGateOf(stack);
  const json = Template.fromStack(stack).toJSON();
  const resources = json.Resources as Record<string, Res>;
  const idOf = (c: { node: { defaultChild?: unknown } } | unknown) => stack.getLogicalId(((c as any).node?.defaultChild ?? c) as never);
  return { stack, gate, json, resources, idOf, t: resolveTemplate(json, 'Example') };
}

describe('config gate template (the example app, its regression gate connected by AiRelease)', () => {
  const { stack, gate, resources, idOf, t } = example();
  const config = stack.release.config;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const liveEnvId = idOf(config.environment);
  const candidateEnvId = idOf(config.candidateEnvironment);
  const degradeEnvId = idOf(config.degradeEnvironment);

  test('a candidate environment per service: no monitors, no extension, read by the function through its own variable', () => {
    const env = resources[candidateEnvId];
    expect(env.Properties.Name).toBe('support-assistant-candidate');
    expect(env.Properties.Monitors).toBeUndefined();
    // The live environment is monitored by the config plane's two alarms (combined guardrails, canary verdict).
    expect(resources[liveEnvId].Properties.Monitors).toHaveLength(2);
    const fn = resources[idOf(stack.fn)];
    expect(fn.Properties.Environment.Variables[CONFIG_GATE_ENV.CANDIDATE_ENVIRONMENT]).toEqual({ Ref: candidateEnvId });
  });

  test('a gate alias on the same version as live, not shifted by CodeDeploy', () => {
    const aliases = ofType('AWS::Lambda::Alias');
    const live = aliases.find(([, a]) => a.Properties.Name === 'live')![1] as any;
    const gateAlias = aliases.find(([, a]) => a.Properties.Name === GATE_ALIAS_NAME)![1] as any;
    expect(gateAlias.Properties.FunctionVersion).toEqual(live.Properties.FunctionVersion);
    expect(gateAlias.Properties.FunctionName).toEqual(live.Properties.FunctionName);
    expect(gateAlias.UpdatePolicy).toBeUndefined();
    expect(live.UpdatePolicy?.CodeDeployLambdaAliasUpdate).toBeDefined();
  });

  test('the PRE_START_DEPLOYMENT gate check is associated with the live environment only (never degrade, never candidate)', () => {
    const [[extId, ext]] = ofType('AWS::AppConfig::Extension').filter(([, e]) => e.Properties.Actions.PRE_START_DEPLOYMENT);
    const [action] = ext.Properties.Actions.PRE_START_DEPLOYMENT;
    const checkFnId = idOf(config.gateCheck!.function);
    expect(action.Uri).toEqual({ 'Fn::GetAtt': [checkFnId, 'Arn'] });
    // One platform extension carries the gate check beside the judge's tick and the review (config/release-extension.ts).
    expect(Object.keys(ext.Properties.Actions).sort()).toEqual([
      'AT_DEPLOYMENT_TICK',
      'ON_DEPLOYMENT_COMPLETE',
      'ON_DEPLOYMENT_ROLLED_BACK',
      'PRE_START_DEPLOYMENT',
    ]);
    const associations = ofType('AWS::AppConfig::ExtensionAssociation').filter(([, a]) => JSON.stringify(a.Properties.ExtensionIdentifier).includes(extId));
    expect(associations).toHaveLength(1);
    const target = t.resolve(associations[0][1].Properties.ResourceIdentifier);
    expect(target).toBe(
      `arn:${PARTITION}:appconfig:${REGION}:${ACCOUNT}:application/${t.resolve({ Ref: idOf(config.platform.application) })}/environment/${liveEnvId.toLowerCase()}`,
    );
    expect(target).not.toContain(degradeEnvId.toLowerCase());
    expect(target).not.toContain(candidateEnvId.toLowerCase());
    expect(associations[0][1].Properties.Parameters).toEqual({ service: 'support-assistant', profile: { Ref: idOf(config.profile) } });
  });

  test('the gate check answers within its budget: its timeout is a few seconds, above the 2 s budget of the check', () => {
    const fn = resources[idOf(config.gateCheck!.function)];
    expect(fn.Properties.Timeout).toBe(CHECK_TIMEOUT_SECONDS);
    expect(CHECK_TIMEOUT_SECONDS * 1000).toBeGreaterThan(CHECK_BUDGET_MS);
    // AppConfig waits only a few seconds for a synchronous (PRE_*) action.
    expect(CHECK_TIMEOUT_SECONDS).toBeLessThanOrEqual(3);
  });

  test("AppConfig's role for the check may invoke the check function and nothing else", async () => {
    const [[, ext]] = ofType('AWS::AppConfig::Extension').filter(([, e]) => e.Properties.Actions.PRE_START_DEPLOYMENT);
    const roleArn = t.resolve(ext.Properties.Actions.PRE_START_DEPLOYMENT[0].RoleArn);
    const roleId = Object.keys(resources).find((id) => resources[id].Type === 'AWS::IAM::Role' && t.arnOf(id) === roleArn)!;
    expect(JSON.stringify(resources[roleId].Properties.AssumeRolePolicyDocument)).toContain('appconfig.amazonaws.com');
    const policies = roleIdentityPolicies(t, roleId);
    const checkArn = t.arnOf(idOf(config.gateCheck!.function));
    expect((await simulate({ principal: roleArn, action: 'lambda:InvokeFunction', resource: checkArn, identityPolicies: policies })).decision).toBe('Allowed');
    const serviceArn = t.arnOf(idOf(stack.fn));
    expect((await simulate({ principal: roleArn, action: 'lambda:InvokeFunction', resource: serviceArn, identityPolicies: policies })).decision).not.toBe(
      'Allowed',
    );
  });

  test('only the gate role may invoke the gate alias: every role of the stack simulated, and no resource policy on the function', async () => {
    const fnArn = t.arnOf(idOf(stack.fn));
    const gateAliasArn = `${fnArn}:${GATE_ALIAS_NAME}`;
    const liveAliasArn = `${fnArn}:live`;
    const roles = Object.keys(resources).filter((id) => resources[id].Type === 'AWS::IAM::Role');
    expect(roles.length).toBeGreaterThan(8);
    const allowedGate: string[] = [];
    for (const id of roles) {
      const out = await simulate({
        principal: t.arnOf(id),
        action: 'lambda:InvokeFunction',
        resource: gateAliasArn,
        identityPolicies: roleIdentityPolicies(t, id),
      });
      if (out.decision === 'Allowed') allowedGate.push(id);
    }
    const gateRoleId = idOf(gate.role);
    expect(allowedGate).toEqual([gateRoleId]);
    // …and the gate role gets the gate alias, not the live one (the replay never reaches callers' traffic path).
    const gateRole = await simulate({
      principal: t.arnOf(gateRoleId),
      action: 'lambda:InvokeFunction',
      resource: liveAliasArn,
      identityPolicies: roleIdentityPolicies(t, gateRoleId),
    });
    expect(gateRole.decision).not.toBe('Allowed');
    // No resource-based permission opens the service function (or any of its aliases) to anyone.
    const serviceFnId = idOf(stack.fn);
    const opened = ofType('AWS::Lambda::Permission').filter(
      ([, p]) => JSON.stringify(p.Properties.FunctionName).includes(serviceFnId) || JSON.stringify(p.Properties.FunctionName).includes('Alias'),
    );
    expect(opened.map(([id]) => id)).toEqual([]);
  });

  test('the deployer is granted the gate function and the candidate environment; its resource names both', () => {
    const [[, cr]] = ofType('Custom::AiReleaseConfigDeployment');
    expect(cr.Properties.GateFunction).toEqual({ Ref: idOf(gate) });
    expect(cr.Properties.CandidateEnvironment).toEqual({ Ref: candidateEnvId });
    expect(cr.Properties.Service).toBe('support-assistant');
    expect(cr.Properties.ConfigLabel).toBe(config.versionLabel);
    expect(cr.Properties.GateTimeoutSeconds).toBe(String(CONFIG_GATE_TIMEOUT.toSeconds()));
  });

  test('ordering: the config deployment waits for the gate alias (new version), the live alias (canary done) and the gate check association', () => {
    const [[, cr]] = ofType('Custom::AiReleaseConfigDeployment');
    const aliasIds = ofType('AWS::Lambda::Alias').map(([id]) => id);
    const associationId = idOf(config.gateCheck!.association);
    expect(cr.DependsOn).toEqual(expect.arrayContaining([...aliasIds, associationId]));
    // the gate's own grant on every qualifier of the function (the gate alias included) exists before the deployer
    // asks it to replay
    const gatePolicyId = idOf(gate.role!.node.tryFindChild('DefaultPolicy'));
    expect(JSON.stringify(resources[gatePolicyId].Properties.PolicyDocument)).toContain(
      JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [idOf(stack.fn), 'Arn'] }, ':*']] }),
    );
    expect(cr.DependsOn).toContain(gatePolicyId);
    // and the deployer's grants (the gate invoke included) exist before its first call
    const deployer = ReleaseConfigDeployment.deployerOf(AiReleasePlatform.of(stack));
    const policyId = idOf(deployer.role!.node.tryFindChild('DefaultPolicy'));
    expect(cr.DependsOn).toContain(policyId);
    const statements = t.resolve(resources[policyId].Properties.PolicyDocument.Statement) as { Action: string | string[]; Resource: string | string[] }[];
    // Two unqualified functions it may invoke, each in its own statement: the gate (replays) and, since the example
    // ships the assigned config canary, the service's share controller (start and rollback requests).
    const invoked = statements.filter((s) => [s.Action].flat().includes('lambda:InvokeFunction')).flatMap((s) => [s.Resource].flat());
    expect(invoked).toContain(t.arnOf(idOf(gate)));
    expect(invoked).toContain(t.arnOf(idOf(stack.release.configShare!.function)));
  });

  test("the gate's timeout counts in the deployer's budget", () => {
    const [[, cr]] = ofType('Custom::AiReleaseConfigDeployment');
    // The example's config releases are assigned canaries: the share schedule (10 % 2 min, 50 % 35 min), the
    // controller's looks, promotion and client lag (2,480 s) replace AppConfig's rollout, plus 120 s for a running
    // deployment, the candidate stage (60 s) and the gate: 2,960 s, inside the config plane's 3,000.
    const share = stack.release.configShare!;
    expect(share.longestReleaseSeconds).toBe(120 + 2100 + 2 * 60 + 60 + 20 + 60);
    expect(Number(cr.Properties.BudgetSeconds)).toBe(share.longestReleaseSeconds + 120 + 60 + CONFIG_GATE_TIMEOUT.toSeconds());
    expect(Number(cr.Properties.BudgetSeconds)).toBeLessThanOrEqual(CONFIG_PLANE_BUDGET_SECONDS);
  });
});

test('the IAM check is live: a broad grantInvoke on the service function would also open the gate alias, and is caught', async () => {
  const stack = new ExampleStack(testApp(), 'Example');
  const gate = configGateOf(stack);
  const intruder = new lambda.Function(stack, 'Caller', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
  // Function.grantInvoke covers the function and every qualifier (`<arn>:*`): the gate alias too.
  stack.fn.grantInvoke(intruder);
  const t = resolveTemplate(Template.fromStack(stack).toJSON(), 'Example');
  const gateAliasArn = `${t.arnOf(stack.getLogicalId(stack.fn.node.defaultChild as never))}:${GATE_ALIAS_NAME}`;
  const allowed: string[] = [];
  for (const id of Object.keys(t.resources).filter((x) => t.resources[x].Type === 'AWS::IAM::Role')) {
    const out = await simulate({
      principal: t.arnOf(id),
      action: 'lambda:InvokeFunction',
      resource: gateAliasArn,
      identityPolicies: roleIdentityPolicies(t, id),
    });
    if (out.decision === 'Allowed') allowed.push(id);
  }
  expect(allowed.sort()).toEqual([gate.role, intruder.role].map((r) => stack.getLogicalId(r!.node.defaultChild as never)).sort());
});

describe('config gate construct rules', () => {
  function release() {
    const stack = new Stack(testApp(), 'Rel');
    const fn = inlineFunction(stack);
    // AiRelease's own regression gate off (waived): these tests connect gates of their own.
    const r = new AiRelease(stack, 'Assistant', {
      serviceName: 'assistant',
      function: fn,
      config: ReleaseConfigSource.fromObject(validConfig()),
      regressionGate: false,
      policyWaivers: [{ rule: 'regression-gate', reason: 'the test connects a gate of its own' }],
    });
    const gate = new lambda.Function(stack, 'Gate', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
      timeout: Duration.minutes(3),
    });
    return { stack, r, gate };
  }

  test('ungated: no gate check, no gate properties on the deployment, and still no one may invoke the gate alias', () => {
    const { stack } = release();
    const tpl = Template.fromStack(stack);
    // One association of the live environment, with an extension for the judge's tick and the review only: no gate check.
    tpl.resourceCountIs('AWS::AppConfig::ExtensionAssociation', 1);
    const exts = Object.values(tpl.findResources('AWS::AppConfig::Extension')) as Res[];
    expect(exts.map((e) => Object.keys(e.Properties.Actions).sort())).toEqual([['AT_DEPLOYMENT_TICK', 'ON_DEPLOYMENT_COMPLETE', 'ON_DEPLOYMENT_ROLLED_BACK']]);
    expect(Object.keys(exts[0].Properties.Parameters)).toEqual(['service']);
    const [cr] = Object.values(tpl.findResources('Custom::AiReleaseConfigDeployment')) as Res[];
    expect(Object.keys(cr.Properties)).not.toEqual(expect.arrayContaining(['GateFunction']));
    expect(cr.Properties.GateFunction).toBeUndefined();
    expect(cr.Properties.CandidateEnvironment).toBeUndefined();
    tpl.hasResourceProperties('AWS::Lambda::Alias', { Name: GATE_ALIAS_NAME });
    expect(JSON.stringify(tpl.findResources('AWS::IAM::Policy'))).not.toContain('AssistantGate');
  });

  test('candidate stage + gate + start must fit one onEvent invocation, and with the rollout the config plane budget: refused with the numbers and the fix', () => {
    const { r, gate } = release();
    // 13 minutes: stage 60 s + 780 s + start 60 s + 30 s to answer > 900 s, one deployer invocation.
    expect(() => r.connectConfigGate(gate, { timeout: Duration.minutes(13) })).toThrow(
      'the config gate of assistant has a timeout of 780 s, over the 750 s a gate may take: the candidate stage (60 s), the gate and the start of the rollout (60 s) run in one invocation of the deployer (900 s, less 30 s to answer)',
    );
    // 12.5 minutes fit beside the default 5-minute rollout (the old one-invocation design allowed 6)
    expect(() => r.connectConfigGate(gate, { timeout: Duration.seconds(750) })).not.toThrow();
  });

  test('the gate and a long rollout share the 50-minute budget', () => {
    const gated = (rollout: ConfigRollout, timeout: Duration) => {
      const stack = new Stack(testApp(), 'Long');
      const config = new AiServiceConfig(stack, 'Cfg', { serviceName: 'assistant', source: ReleaseConfigSource.fromObject(validConfig()), rollout });
      const gate = new lambda.Function(stack, 'Gate', {
        runtime: lambda.Runtime.NODEJS_24_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async () => ({})'),
        timeout,
      });
      return () => config.connectGate(gate);
    };
    const rollout46 = ConfigRollout.linear({ stepPercent: 25, deploymentDuration: Duration.minutes(36), finalBake: Duration.minutes(10) });
    expect(gated(rollout46, Duration.minutes(5))).toThrow(
      "the config gate of assistant does not fit the config plane's time budget: candidate stage 60 s + gate timeout 300 s + rollout 2760 s + 120 s for a running deployment = 3240 s, over 3000 s",
    );
    // Canary10Percent20Minutes' shape (30 min) with a 12-minute gate fits: 60 + 720 + 1800 + 120 = 2700 s.
    expect(gated(ConfigRollout.CANARY_10_PERCENT_20_MINUTES, Duration.minutes(12))).not.toThrow();
  });

  test('a KMS-encrypted regression store: the gate check may decrypt with its key (else every record read is AccessDenied)', () => {
    const stack = new Stack(testApp(), 'Kms');
    const key = new kms.Key(stack, 'StoreKey');
    const platform = new AiReleasePlatform(stack, 'Platform', { regressionStore: { encryptionKey: key } });
    const r = new AiRelease(stack, 'Assistant', {
      serviceName: 'assistant',
      function: inlineFunction(stack),
      config: ReleaseConfigSource.fromObject(validConfig()),
      platform,
      regressionGate: false,
      policyWaivers: [{ rule: 'regression-gate', reason: 'the test connects a gate of its own' }],
    });
    const gate = new lambda.Function(stack, 'Gate', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
      timeout: Duration.minutes(3),
    });
    r.connectConfigGate(gate);
    const json = Template.fromStack(stack).toJSON();
    const checkRole = stack.getLogicalId(r.config.gateCheck!.function.role!.node.tryFindChild('DefaultPolicy')!.node.defaultChild as never);
    const statements = json.Resources[checkRole].Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[];
    const decrypt = statements.find((st) => [st.Action].flat().includes('kms:Decrypt'));
    expect(decrypt?.Resource).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as never), 'Arn'] });
    expect(statements.flatMap((st) => [st.Action].flat()).sort()).toEqual([
      'appconfig:GetDeployment',
      'appconfig:ListDeployments',
      'kms:Decrypt',
      's3:GetObject',
      's3:ListBucket',
    ]);
  });

  test('one gate per service; an imported gate needs its timeout', () => {
    const { stack, r, gate } = release();
    const imported = lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:eu-west-1:111122223333:function:gate');
    expect(() => r.connectConfigGate(imported)).toThrow("the gate function's timeout is unknown (an imported function); pass options.timeout");
    r.connectConfigGate(gate);
    expect(() => r.connectConfigGate(gate)).toThrow('a config gate is already connected');
  });
});
