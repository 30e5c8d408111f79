/**
 * The independent review of issue 17's IAM statements (docs/incoming/h7-iam.md): what the review pinned beyond the
 * per-function Service Authorization Reference checks (test/iam-sar.test.ts).
 *
 * Ordering of the assigned config canary's grants: the config deployer invokes the share controller and reads its
 * record during the release resource's create, update and delete. CloudFormation creates a resource after everything
 * it depends on and deletes it before ("DependsOn attribute", CloudFormation User Guide), so every policy holding
 * those grants, and the controller itself, must be dependencies of the release resource -- also when the service lives
 * in its own stack and its grants to the platform's deployer are a policy of the service's stack.
 */
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AiRelease, AiReleasePlatform, ReleaseConfigSource } from '../lib';
import { ReleaseConfigDeployment } from '../lib/rollout/config-deployment';
import { dependencyGraph } from './cfn-lifecycle-model';
import { testApp, validConfig } from './helpers';
import { ACCOUNT, functionRole, REGION, resolveTemplate, roleIdentityPolicies, simulate } from './iam-template';

type Json = any;

/** Everything `id` depends on, directly or not. */
function closure(graph: Map<string, Set<string>>, id: string): Set<string> {
  const out = new Set<string>();
  const visit = (x: string) => {
    for (const d of graph.get(x) ?? []) if (!out.has(d)) out.add(d), visit(d);
  };
  visit(id);
  return out;
}

function assignedService(scope: Stack, platform: AiReleasePlatform) {
  const fn = new lambda.Function(scope, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    logGroup: new logs.LogGroup(scope, 'Logs', { retention: logs.RetentionDays.ONE_MONTH }),
  });
  return new AiRelease(scope, 'Release', {
    serviceName: 'alpha',
    function: fn,
    config: ReleaseConfigSource.fromObject(validConfig()),
    platform,
    configCanary: 'assigned',
  });
}

/** The policies of a template whose statements grant `action` on a resource matching `resource`. */
function policiesGranting(t: Json, action: string, resource: RegExp): string[] {
  return Object.entries(t.Resources as Record<string, Json>)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
    .filter(([, r]) =>
      (r.Properties.PolicyDocument.Statement as Json[]).some(
        (s) => s.Effect === 'Allow' && [s.Action].flat().includes(action) && [s.Resource].flat().some((x: Json) => resource.test(JSON.stringify(x))),
      ),
    )
    .map(([id]) => id);
}

describe.each([
  ['one stack', false],
  ['platform stack + service stack', true],
])('assigned config canary (%s): the deployer never calls the controller without its grants or after it is gone', (_name, split) => {
  const app = testApp();
  const platformStack = new Stack(app, 'Plat');
  const platform = new AiReleasePlatform(platformStack, 'Platform', { applicationPerService: true });
  const serviceStack = split ? new Stack(app, 'Svc') : platformStack;
  const release = assignedService(serviceStack, platform);
  const t: Json = Template.fromStack(serviceStack).toJSON();
  const graph = dependencyGraph(t);
  const rollout = serviceStack.getLogicalId(release.config.deployment.resource.node.defaultChild as never);
  const deps = closure(graph, rollout);
  const controller = serviceStack.getLogicalId(release.configShare!.function.node.defaultChild as never);

  test('the controller and its role policy are created before the release resource and deleted after it', () => {
    expect(deps).toContain(controller);
    const role = t.Resources[controller].Properties.Role['Fn::GetAtt'][0];
    const rolePolicies = Object.entries(t.Resources as Record<string, Json>)
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(role))
      .map(([id]) => id);
    expect(rolePolicies.length).toBeGreaterThan(0);
    for (const p of rolePolicies) expect(deps).toContain(p);
  });

  test("every policy granting the deployer the controller's invoke and its current record is a dependency of the release resource", () => {
    const invoke = policiesGranting(t, 'lambda:InvokeFunction', new RegExp(controller));
    const record = policiesGranting(t, 's3:GetObject', /share\/alpha\/current\.json/);
    expect(invoke.length).toBeGreaterThan(0);
    expect(record.length).toBeGreaterThan(0);
    for (const p of [...invoke, ...record]) expect({ policy: p, dependency: deps.has(p) }).toEqual({ policy: p, dependency: true });
  });
});

describe('a KMS-encrypted regression store: every function that reads or writes it may use its key', () => {
  const app = testApp();
  const stack = new Stack(app, 'Kms', { env: { account: ACCOUNT, region: REGION } });
  const key = new kms.Key(stack, 'StoreKey');
  const platform = new AiReleasePlatform(stack, 'Platform', { regressionStore: { encryptionKey: key } });
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    logGroup: new logs.LogGroup(stack, 'Logs', { retention: logs.RetentionDays.ONE_MONTH }),
  });
  // The example's release config: it has an evaluation section (the evaluator, the gate's evaluation).
  const release = new AiRelease(stack, 'Release', {
    serviceName: 'support-assistant',
    function: fn,
    config: ReleaseConfigSource.fromDirectory(path.join(__dirname, '..', 'example/support-assistant/release-config')),
    platform,
    configCanary: 'assigned',
  });
  const t = resolveTemplate(Template.fromStack(stack).toJSON(), 'Kms');
  const keyId = stack.getLogicalId(key.node.defaultChild as never);
  const keyArn = t.arnOf(keyId);
  const keyPolicy = t.resolve(t.resources[keyId].Properties!.KeyPolicy);
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
  // Who writes (PutObject under SSE-KMS needs GenerateDataKey) and who only reads (GetObject needs Decrypt).
  const users: [string, () => { node: { defaultChild?: unknown } }, ('kms:Decrypt' | 'kms:GenerateDataKey')[]][] = [
    ['config deployer (markers, the share record)', () => ReleaseConfigDeployment.deployerOf(platform), ['kms:Decrypt', 'kms:GenerateDataKey']],
    ['share controller', () => release.configShare!.function, ['kms:Decrypt', 'kms:GenerateDataKey']],
    ['canary judge', () => release.canaryJudge!.function, ['kms:Decrypt', 'kms:GenerateDataKey']],
    ['canary judge tick', () => release.canaryJudge!.tickFunction, ['kms:Decrypt']],
    ['regression gate', () => release.regressionGate!.function, ['kms:Decrypt', 'kms:GenerateDataKey']],
    ['evaluator', () => platform.evaluator.function, ['kms:Decrypt', 'kms:GenerateDataKey']],
    ['review', () => release.review!.function, ['kms:Decrypt', 'kms:GenerateDataKey']],
    ['config gate check', () => release.config.gateCheck!.function, ['kms:Decrypt']],
    ['snapshot', () => platform.regressionStore.snapshotFunction, ['kms:Decrypt', 'kms:GenerateDataKey']],
  ];
  test.each(users)('%s', async (_name, of, actions) => {
    const roleId = functionRole(t, id(of()));
    for (const action of actions) {
      const out = await simulate({
        principal: t.arnOf(roleId),
        action,
        resource: keyArn,
        identityPolicies: roleIdentityPolicies(t, roleId),
        resourcePolicy: keyPolicy,
        context: { 'aws:SecureTransport': 'true' },
      });
      expect({ action, decision: out.decision }).toEqual({ action, decision: 'Allowed' });
    }
  });
  test('and the check is live: the service function itself, which never touches the store, may not decrypt with its key', async () => {
    const roleId = functionRole(t, stack.getLogicalId(fn.node.defaultChild as never));
    const out = await simulate({
      principal: t.arnOf(roleId),
      action: 'kms:Decrypt',
      resource: keyArn,
      identityPolicies: roleIdentityPolicies(t, roleId),
      resourcePolicy: keyPolicy,
      context: { 'aws:SecureTransport': 'true' },
    });
    expect(out.decision).toBe('ImplicitlyDenied');
  });
});
