import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AiRelease, AiReleasePlatform, type AiReleaseProps, DEFAULT_POLICY_RULES, RegressionGate, ReleaseConfigSource } from '../lib';
import { GATE_ENV, GATE_SETTINGS_TAG, GATE_SHARED_ENV, LEARNING_ENV } from '../lambda/shared/contract';
import { SERVICES_PER_GATE_FUNCTION } from '../lib/learning/regression-gate';
import { inlineFunction, testApp, testRelease, validConfig } from './helpers';
import { resolveTemplate, roleIdentityPolicies, functionRole, simulate } from './iam-template';

const release = (props: Partial<AiReleaseProps> = {}) => testRelease(props, { env: { account: '111122223333', region: 'eu-west-1' } });

/** The service's release manifest parameter, resolved: its name and the JSON the shared gate reads. */
function manifestParameter(json: any, rt: ReturnType<typeof resolveTemplate>, service: string): { name: string; doc: any } {
  const p = Object.values<any>(json.Resources).find(
    (r) => r.Type === 'AWS::SSM::Parameter' && String(r.Properties.Name).endsWith(`/${service}/release-manifest`),
  );
  return { name: p.Properties.Name, doc: JSON.parse(String(rt.resolve(p.Properties.Value))) };
}

describe('the regression gate in AiRelease (on by default): one function for the platform, settings in the manifest', () => {
  const { stack, r, fn, template } = release();
  const t = template();
  const gateId = stack.getLogicalId(r.regressionGate!.function.node.defaultChild as never);
  const json = t.toJSON();
  const rt = resolveTemplate(json, 'Rel');

  test("the platform's gate function is the alias's BeforeAllowTrafficHook (by its literal name), and the alias waits for it and for the settings", () => {
    expect(r.regressionGate!.function.node.path).toBe('Rel/AiReleasePlatform/RegressionGate');
    const [alias] = Object.values(t.findResources('AWS::Lambda::Alias')) as any[];
    expect(alias.UpdatePolicy.CodeDeployLambdaAliasUpdate.BeforeAllowTrafficHook).toBe(json.Resources[gateId].Properties.FunctionName);
    expect(json.Resources[gateId].Properties.FunctionName).toBe('Rel-regression-gate');
    expect(alias.DependsOn).toContain(gateId);
    const paramId = stack.getLogicalId(r.manifest.parameter.node.defaultChild as never);
    expect(alias.DependsOn).toContain(paramId);
    // The function itself waits for its role policy, so the grants exist when CodeDeploy invokes it.
    expect(json.Resources[gateId].DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/RegressionGateServiceRoleDefaultPolicy/)]));
    // 15 minutes (Lambda's maximum): each service's own timeout bounds its run, the answer 10 s before it.
    expect(json.Resources[gateId].Properties.Timeout).toBe(900);
  });

  test('its environment names no service: the store and the deployment groups’ ARN prefix only', () => {
    const env = rt.resolve(json.Resources[gateId].Properties.Environment.Variables) as Record<string, string>;
    expect(Object.keys(env).sort()).toEqual([GATE_SHARED_ENV.GROUP_ARN_PREFIX, LEARNING_ENV.BUCKET].sort());
    expect(env[GATE_SHARED_ENV.GROUP_ARN_PREFIX]).toBe('arn:aws:codedeploy:eu-west-1:111122223333:deploymentgroup:');
    expect(env[GATE_ENV.SERVICE]).toBeUndefined();
  });

  test("the service's settings: the gate block of its manifest parameter, and the group's tag names that parameter", () => {
    const { name, doc } = manifestParameter(json, rt, 'assistant');
    expect(r.regressionGate!.settingsParameter).toBe(name);
    expect(doc.gate).toEqual({ caseCap: 500, concurrency: 10, caseTimeoutMs: 30_000, passRate: 1, candidates: 'off', timeoutMs: 900_000, hook: true });
    expect(doc.locators.function).toBe(rt.resolve({ Ref: stack.getLogicalId(fn.node.defaultChild as never) }));
    expect(doc.locators.codeDeploy.deploymentGroup).toBe(rt.resolve({ Ref: stack.getLogicalId(r.deploymentGroup.node.defaultChild as never) }));
    const group = json.Resources[stack.getLogicalId(r.deploymentGroup.node.defaultChild as never)];
    expect(group.Properties.Tags).toEqual(expect.arrayContaining([{ Key: GATE_SETTINGS_TAG, Value: name }]));
    // The config plane's request carries the same parameter.
    const deployer = Object.values<any>(json.Resources).find((x) => x.Type === 'Custom::AiReleaseConfigDeployment');
    expect(deployer.Properties.GateSettings).toBe(name);
  });

  test('IAM: invoke any gated service’s versions but no live alias, the platform store’s prefixes, the platform groups, the stack’s manifests', async () => {
    const roleId = functionRole(rt, gateId);
    const policies = roleIdentityPolicies(rt, roleId);
    const statements = policies.flatMap((p) => p.policy.Statement);
    const fnArn = rt.arnOf(stack.getLogicalId(fn.node.defaultChild as never));
    const bucketId = Object.keys(json.Resources).find((id) => json.Resources[id].Type === 'AWS::S3::Bucket' && id.includes('RegressionStoreBucket'))!;
    const bucketArn = rt.arnOf(bucketId);
    const app = rt.resolve({ Ref: stack.getLogicalId(AiReleasePlatform.of(stack).codeDeployApplication.node.defaultChild as never) });
    const groupArn = `arn:aws:codedeploy:eu-west-1:111122223333:deploymentgroup:${app}`;
    expect([...new Set(statements.flatMap((s: any) => [s.Action].flat()))].sort()).toEqual(
      [
        'codedeploy:GetDeployment',
        'codedeploy:ListTagsForResource',
        'codedeploy:PutLifecycleEventHookExecutionStatus',
        'lambda:InvokeFunction',
        's3:GetObject',
        's3:ListBucket',
        's3:PutObject',
        'ssm:GetParameter',
      ].sort(),
    );
    const allowed = async (action: string, resource: string) =>
      (await simulate({ principal: rt.arnOf(roleId), action, resource, identityPolicies: policies })).decision === 'Allowed';
    expect(await allowed('lambda:InvokeFunction', `${fnArn}:7`)).toBe(true);
    expect(await allowed('lambda:InvokeFunction', `${fnArn}:gate`)).toBe(true);
    expect(await allowed('lambda:InvokeFunction', `${fnArn}:live`)).toBe(false); // the callers' alias: denied
    expect(await allowed('lambda:InvokeFunction', fnArn)).toBe(false); // $LATEST, unqualified: never
    expect(await allowed('lambda:InvokeFunction', 'arn:aws:lambda:eu-west-1:111122223333:function:other:7')).toBe(false);
    // One function for the platform's services: the store's prefixes, every service's folder in them.
    expect(await allowed('s3:GetObject', `${bucketArn}/cases/assistant/accepted/x.json`)).toBe(true);
    expect(await allowed('s3:GetObject', `${bucketArn}/batches/assistant/x.json`)).toBe(true);
    expect(await allowed('s3:GetObject', `${bucketArn}/index/assistant.json`)).toBe(true);
    expect(await allowed('s3:GetObject', `${bucketArn}/judge/assistant/x.json`)).toBe(false); // not the gate's
    expect(await allowed('s3:PutObject', `${bucketArn}/gates/assistant/code-d-1.json`)).toBe(true);
    expect(await allowed('s3:PutObject', `${bucketArn}/cases/assistant/accepted/x.json`)).toBe(false);
    const group = `${groupArn}/${rt.resolve({ Ref: stack.getLogicalId(r.deploymentGroup.node.defaultChild as never) })}`;
    expect(await allowed('codedeploy:GetDeployment', group)).toBe(true);
    expect(await allowed('codedeploy:ListTagsForResource', group)).toBe(true);
    expect(await allowed('codedeploy:GetDeployment', 'arn:aws:codedeploy:eu-west-1:111122223333:deploymentgroup:another-app/g')).toBe(false);
    // CodeDeploy authorizes the hook's answer on the deployment group (the SAR lists no resource type for it), so the
    // statement is checked as written: the platform application's groups.
    const put = statements.filter((s: any) => [s.Action].flat().includes('codedeploy:PutLifecycleEventHookExecutionStatus'));
    expect(put.flatMap((s: any) => [s.Resource].flat())).toEqual([`${groupArn}/*`]);
    const { name } = manifestParameter(json, rt, 'assistant');
    expect(await allowed('ssm:GetParameter', `arn:aws:ssm:eu-west-1:111122223333:parameter${name}`)).toBe(true);
    expect(await allowed('ssm:GetParameter', 'arn:aws:ssm:eu-west-1:111122223333:parameter/cdk-ai-release/OtherStack/x/release-manifest')).toBe(false);
    expect(await allowed('ssm:GetParameter', 'arn:aws:ssm:eu-west-1:111122223333:parameter/secrets/db')).toBe(false);
    expect(statements.some((s: any) => [s.Action].flat().includes('cloudwatch:PutMetricData'))).toBe(false); // EMF, not the API
  });

  test("CodeDeploy's role may invoke the shared hook (name and versions)", async () => {
    const roleId = Object.keys(json.Resources).find((id) => json.Resources[id].Type === 'AWS::IAM::Role' && id.includes('CodeDeployRole'))!;
    const policies = roleIdentityPolicies(rt, roleId);
    const gateArn = rt.arnOf(gateId);
    const allowed = async (resource: string) =>
      (await simulate({ principal: rt.arnOf(roleId), action: 'lambda:InvokeFunction', resource, identityPolicies: policies })).decision === 'Allowed';
    expect(await allowed(gateArn)).toBe(true);
    expect(await allowed(`${gateArn}:3`)).toBe(true);
  });

  test('the policy facts say the gate is on', () => {
    expect(r.facts.regressionGate).toBe(true);
    expect(DEFAULT_POLICY_RULES.map((x) => x.id)).toContain('regression-gate');
  });
});

describe('sharing: services per gate function', () => {
  test(`${SERVICES_PER_GATE_FUNCTION} services share one function; the next one starts a second (RegressionGate2), with its own hook name`, () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:stackResourceLimit': 0 } });
    const stack = new Stack(app, 'Many');
    const platform = new AiReleasePlatform(stack, 'Platform');
    const releases = Array.from({ length: SERVICES_PER_GATE_FUNCTION + 1 }, (_, i) => {
      const fn = inlineFunction(stack, `Fn${i}`);
      return new AiRelease(stack, `S${i}`, { serviceName: `svc-${i}`, function: fn, config: ReleaseConfigSource.fromObject(validConfig()), platform });
    });
    const fns = new Set(releases.map((r) => r.regressionGate!.function));
    expect(fns.size).toBe(2);
    expect(releases[0].regressionGate!.function).toBe(releases[SERVICES_PER_GATE_FUNCTION - 1].regressionGate!.function);
    expect(releases[SERVICES_PER_GATE_FUNCTION].regressionGate!.function.node.id).toBe('RegressionGate2');
  });
});

describe('turning the gate off, and its options', () => {
  const synthErrors = (props: Partial<AiReleaseProps>) => {
    try {
      release(props).template();
    } catch (e) {
      return (e as Error).message;
    }
    return '';
  };

  test('off without a waiver fails synth with the rule and the fix', () => {
    expect(synthErrors({ regressionGate: false })).toContain('release policy "regression-gate" (service assistant): the regression gate is off');
  });

  test('off with a waiver: no gate function, no pre-traffic hook, no gate block, the waiver recorded', () => {
    const { r, template } = release({
      regressionGate: false,
      policyWaivers: [{ rule: 'regression-gate', reason: 'a load-test stack; no users, nothing to protect' }],
    });
    const t = template();
    expect(r.regressionGate).toBeUndefined();
    const [alias] = Object.values(t.findResources('AWS::Lambda::Alias')) as any[];
    expect(alias.UpdatePolicy.CodeDeployLambdaAliasUpdate.BeforeAllowTrafficHook).toBeUndefined();
    expect(Object.keys(t.findResources('AWS::Lambda::Function')).some((id) => id.includes('RegressionGate'))).toBe(false);
    const json = t.toJSON();
    expect(manifestParameter(json, resolveTemplate(json, 'Rel'), 'assistant').doc.gate).toBeUndefined();
    expect(r.policy.waived.map((w) => w.rule)).toEqual(['regression-gate']);
  });

  test('options reach the settings document', () => {
    const { r, template } = release({
      regressionGate: { caseCap: 100, concurrency: 4, caseTimeout: Duration.seconds(10), passRate: 0.98, candidates: 'report', timeout: Duration.minutes(5) },
    });
    const json = template().toJSON();
    expect(manifestParameter(json, resolveTemplate(json, 'Rel'), 'assistant').doc.gate).toEqual({
      caseCap: 100,
      concurrency: 4,
      caseTimeoutMs: 10_000,
      passRate: 0.98,
      candidates: 'report',
      timeoutMs: 300_000,
      hook: true,
    });
    expect(r.regressionGate!.settings.passRate).toBe(0.98);
  });

  test.each([
    [{ passRate: 1.5 }, 'regressionGate.passRate must be between 0 and 1 (1 = every accepted case), got 1.5'],
    [{ caseCap: 0 }, 'regressionGate.caseCap must be a positive integer, got 0'],
    [{ candidates: 'all' as never }, 'regressionGate.candidates must be one of off, report, block, got "all"'],
    [{ timeout: Duration.seconds(40) }, 'regressionGate.timeout (40 s) must exceed caseTimeout (30 s) by at least 20 s'],
  ])('bad options are refused, naming the field: %#', (options, message) => {
    expect(() => release({ regressionGate: options })).toThrow(message);
  });

  test('RegressionGate alone (no host, config plane only): a function of its own with its settings in its environment; no hook, no CodeDeploy grant', () => {
    const stack = new Stack(testApp(), 'Alone');
    const fn = inlineFunction(stack);
    const platform = AiReleasePlatform.of(stack);
    const gate = new RegressionGate(stack, 'Gate', { serviceName: 'svc', function: fn, bucket: platform.regressionStore.bucket });
    const json = Template.fromStack(stack).toJSON();
    const statements = Object.values<any>(json.Resources)
      .filter((x) => x.Type === 'AWS::IAM::Policy')
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(JSON.stringify(statements)).not.toContain('codedeploy:');
    const env = json.Resources[stack.getLogicalId(gate.function.node.defaultChild as never)].Properties.Environment.Variables;
    expect(env[GATE_ENV.SERVICE]).toBe('svc');
    expect(gate.settingsParameter).toBeUndefined();
  });

  test('a host without settingsParameter is refused, naming the prop', () => {
    const stack = new Stack(testApp(), 'NoParam');
    const fn = inlineFunction(stack);
    const platform = AiReleasePlatform.of(stack);
    expect(() => new RegressionGate(stack, 'Gate', { serviceName: 'svc', function: fn, bucket: platform.regressionStore.bucket, host: platform })).toThrow(
      /a gate with a host needs settingsParameter/,
    );
  });
});
