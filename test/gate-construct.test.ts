import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AiReleasePlatform, type AiReleaseProps, DEFAULT_POLICY_RULES, RegressionGate } from '../lib';
import { GATE_DEPLOYMENT_ENV, GATE_ENV, LEARNING_ENV } from '../lambda/shared/contract';
import { inlineFunction, testApp, testRelease } from './helpers';
import { resolveTemplate, roleIdentityPolicies, functionRole, simulate } from './iam-template';

const release = (props: Partial<AiReleaseProps> = {}) => testRelease(props, { env: { account: '111122223333', region: 'eu-west-1' } });

describe('the regression gate in AiRelease (on by default)', () => {
  const { stack, r, fn, template } = release();
  const t = template();
  const gateId = stack.getLogicalId(r.regressionGate!.function.node.defaultChild as never);
  const json = t.toJSON();

  test("the gate is the alias's BeforeAllowTrafficHook, and the alias waits for it (code, environment, role policy)", () => {
    const [alias] = Object.values(t.findResources('AWS::Lambda::Alias')) as any[];
    expect(alias.UpdatePolicy.CodeDeployLambdaAliasUpdate.BeforeAllowTrafficHook).toEqual({ Ref: gateId });
    expect(alias.DependsOn).toContain(gateId);
    // The function itself waits for its role policy, so the grants exist when CodeDeploy invokes it.
    expect(json.Resources[gateId].DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/GateFunctionServiceRoleDefaultPolicy/)]));
  });

  test('its environment: the service, the target function, the defaults, the store and the deployment group', () => {
    const env = json.Resources[gateId].Properties.Environment.Variables;
    expect(env).toMatchObject({
      [GATE_ENV.SERVICE]: 'assistant',
      [GATE_ENV.TARGET_FUNCTION]: { Ref: stack.getLogicalId(fn.node.defaultChild as never) },
      [GATE_ENV.CASE_CAP]: '500',
      [GATE_ENV.CONCURRENCY]: '10',
      [GATE_ENV.CASE_TIMEOUT_MS]: '30000',
      [GATE_ENV.PASS_RATE]: '1',
      [GATE_ENV.CANDIDATES]: 'off',
      [LEARNING_ENV.BUCKET]: expect.anything(),
      [GATE_DEPLOYMENT_ENV.APPLICATION]: expect.anything(),
      [GATE_DEPLOYMENT_ENV.DEPLOYMENT_GROUP]: { Ref: stack.getLogicalId(r.deploymentGroup.node.defaultChild as never) },
    });
    // 15 minutes: the gate answers CodeDeploy 10 s before it, whatever is still running.
    expect(json.Resources[gateId].Properties.Timeout).toBe(900);
  });

  test('IAM: invoke only the service function’s versions and aliases, read only its cases and reviews, write only its gate reports', async () => {
    const rt = resolveTemplate(json, 'Rel');
    const roleId = functionRole(rt, gateId);
    const policies = roleIdentityPolicies(rt, roleId);
    const statements = policies.flatMap((p) => p.policy.Statement);
    const fnArn = rt.arnOf(stack.getLogicalId(fn.node.defaultChild as never));
    const bucketId = Object.keys(json.Resources).find((id) => json.Resources[id].Type === 'AWS::S3::Bucket' && id.includes('RegressionStoreBucket'))!;
    const bucketArn = rt.arnOf(bucketId);
    const groupArn = `arn:aws:codedeploy:eu-west-1:111122223333:deploymentgroup:${rt.resolve({ Ref: stack.getLogicalId(AiReleasePlatform.of(stack).codeDeployApplication.node.defaultChild as never) })}`;
    expect(statements.flatMap((s: any) => s.Action).sort()).toEqual(
      [
        'codedeploy:GetDeployment',
        'codedeploy:PutLifecycleEventHookExecutionStatus',
        'lambda:InvokeFunction',
        'lambda:InvokeFunction', // the Deny on the callers' alias
        's3:GetObject',
        's3:ListBucket',
        's3:PutObject',
      ].sort(),
    );
    const allowed = async (action: string, resource: string) =>
      (await simulate({ principal: rt.arnOf(roleId), action, resource, identityPolicies: policies })).decision === 'Allowed';
    expect(await allowed('lambda:InvokeFunction', `${fnArn}:7`)).toBe(true);
    expect(await allowed('lambda:InvokeFunction', `${fnArn}:gate`)).toBe(true);
    expect(await allowed('lambda:InvokeFunction', `${fnArn}:live`)).toBe(false); // the callers' alias: denied
    expect(await allowed('lambda:InvokeFunction', fnArn)).toBe(false); // $LATEST, unqualified: never
    expect(await allowed('lambda:InvokeFunction', 'arn:aws:lambda:eu-west-1:111122223333:function:other:7')).toBe(false);
    expect(await allowed('s3:GetObject', `${bucketArn}/cases/assistant/accepted/x.json`)).toBe(true);
    expect(await allowed('s3:GetObject', `${bucketArn}/cases/other-service/accepted/x.json`)).toBe(false);
    // Its own service's batches and index (candidates seen again that have no object live there), no other's.
    expect(await allowed('s3:GetObject', `${bucketArn}/batches/assistant/x.json`)).toBe(true);
    expect(await allowed('s3:GetObject', `${bucketArn}/batches/other-service/x.json`)).toBe(false);
    expect(await allowed('s3:GetObject', `${bucketArn}/index/assistant.json`)).toBe(true);
    expect(await allowed('s3:GetObject', `${bucketArn}/index/other-service.json`)).toBe(false);
    expect(await allowed('s3:PutObject', `${bucketArn}/gates/assistant/code-d-1.json`)).toBe(true);
    expect(await allowed('s3:PutObject', `${bucketArn}/cases/assistant/accepted/x.json`)).toBe(false);
    // CodeDeploy authorizes the hook's answer on the deployment group (the SAR lists no resource type for it).
    const group = `${groupArn}/${rt.resolve({ Ref: stack.getLogicalId(r.deploymentGroup.node.defaultChild as never) })}`;
    // (The simulator follows the SAR, which has no resource for that action, so the statement is checked as written.)
    const put = statements.filter((s: any) => [s.Action].flat().includes('codedeploy:PutLifecycleEventHookExecutionStatus'));
    expect(put.map((s: any) => s.Resource)).toEqual([group]);
    expect(await allowed('codedeploy:GetDeployment', group)).toBe(true);
    expect(await allowed('codedeploy:GetDeployment', `${groupArn}/another-group`)).toBe(false);
    expect(statements.some((s: any) => [s.Action].flat().includes('cloudwatch:PutMetricData'))).toBe(false); // EMF, not the API
  });

  test('the policy facts say the gate is on', () => {
    expect(r.facts.regressionGate).toBe(true);
    expect(DEFAULT_POLICY_RULES.map((x) => x.id)).toContain('regression-gate');
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

  test('off with a waiver: no gate function, no pre-traffic hook, the waiver recorded', () => {
    const { r, template } = release({
      regressionGate: false,
      policyWaivers: [{ rule: 'regression-gate', reason: 'a load-test stack; no users, nothing to protect' }],
    });
    const t = template();
    expect(r.regressionGate).toBeUndefined();
    const [alias] = Object.values(t.findResources('AWS::Lambda::Alias')) as any[];
    expect(alias.UpdatePolicy.CodeDeployLambdaAliasUpdate.BeforeAllowTrafficHook).toBeUndefined();
    expect(r.policy.waived.map((w) => w.rule)).toEqual(['regression-gate']);
  });

  test('options reach the function', () => {
    const { r, stack } = release({ regressionGate: { caseCap: 100, concurrency: 4, caseTimeout: Duration.seconds(10), passRate: 0.98, candidates: 'report' } });
    const env =
      Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(r.regressionGate!.function.node.defaultChild as never)].Properties.Environment.Variables;
    expect(env).toMatchObject({
      [GATE_ENV.CASE_CAP]: '100',
      [GATE_ENV.CONCURRENCY]: '4',
      [GATE_ENV.CASE_TIMEOUT_MS]: '10000',
      [GATE_ENV.PASS_RATE]: '0.98',
      [GATE_ENV.CANDIDATES]: 'report',
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

  test('RegressionGate alone (config plane only): no hook, no CodeDeploy grant', () => {
    const stack = new Stack(testApp(), 'Alone');
    const fn = inlineFunction(stack);
    const platform = AiReleasePlatform.of(stack);
    new RegressionGate(stack, 'Gate', { serviceName: 'svc', function: fn, bucket: platform.regressionStore.bucket });
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(JSON.stringify(statements)).not.toContain('codedeploy:');
  });
});
