/**
 * The code canary's announcement on the platform's shared regression gate (h8-codepairs on h8-gate): the share
 * controller and the shift's length live in the service's gate block (its release manifest parameter), not in the
 * shared function's environment. The block is validated like the gate's other fields; the shared hook announces with
 * the service's own shift; a service in a stack of its own grants the invoke on its controller in its own policy
 * (the platform stack never refers to it).
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { runSharedCodeHook, type SharedHookPorts } from '../lambda/gate/hook';
import type { GateStore } from '../lambda/gate/ports';
import { parseServiceGate, type ServiceGate } from '../lambda/gate/service-settings';
import { GATE_ENV, GATE_RESPONSE_KEY, GATE_SETTINGS_TAG } from '../lambda/shared/contract';
import { AiRelease, AiReleasePlatform, RegressionGate, ReleaseConfigSource } from '../lib';
import { gateCase } from './gate-fixtures';
import { inlineFunction, testApp, validConfig } from './helpers';

type Json = any;
const PARAM = '/cdk-ai-release/Platform/svc-a/release-manifest';
const gateBlock = { caseCap: 500, concurrency: 10, caseTimeoutMs: 30_000, passRate: 1, candidates: 'off', timeoutMs: 900_000, hook: true };
const manifest = (gate: Record<string, unknown>) =>
  JSON.stringify({
    service: 'svc-a',
    releaseId: 'r1',
    locators: { function: 'svc-a-fn', alias: 'live', codeDeploy: { application: 'app', deploymentGroup: 'group-a' } },
    gate,
  });

describe('the gate block carries the code canary (service-settings.ts)', () => {
  test('parsed: the controller and the shift', () => {
    expect(parseServiceGate(PARAM, manifest({ ...gateBlock, codeCanary: { controller: 'svc-a-ctrl', shiftSeconds: 300 } })).codeCanary).toEqual({
      controller: 'svc-a-ctrl',
      shiftSeconds: 300,
    });
    expect(parseServiceGate(PARAM, manifest(gateBlock)).codeCanary).toBeUndefined();
  });

  test.each<[string, unknown, RegExp]>([
    ['not an object', 'svc-a-ctrl', /gate\.codeCanary must be an object/],
    ['null', null, /gate\.codeCanary must be an object/],
    ['no controller', { shiftSeconds: 300 }, /gate\.codeCanary\.controller must name the service's share controller/],
    ['an empty controller', { controller: '', shiftSeconds: 300 }, /gate\.codeCanary\.controller must name/],
    ['a negative shift', { controller: 'c', shiftSeconds: -1 }, /gate\.codeCanary\.shiftSeconds must be whole seconds from 0 to 176400/],
    ['a fractional shift', { controller: 'c', shiftSeconds: 1.5 }, /gate\.codeCanary\.shiftSeconds must be whole seconds/],
    ['a shift as a string', { controller: 'c', shiftSeconds: '300' }, /gate\.codeCanary\.shiftSeconds must be whole seconds/],
    ['a shift past 49 h', { controller: 'c', shiftSeconds: 176_401 }, /from 0 to 176400 .* got 176401/],
  ])('%s is refused, naming the field and the parameter', (_what, codeCanary, message) => {
    expect(() => parseServiceGate(PARAM, manifest({ ...gateBlock, codeCanary }))).toThrow(message);
    expect(() => parseServiceGate(PARAM, manifest({ ...gateBlock, codeCanary }))).toThrow(PARAM);
  });
});

function memoryStore(): GateStore {
  const objects = new Map<string, string>();
  return {
    async get(key) {
      const body = objects.get(key);
      return body === undefined ? undefined : { key, body, etag: '"1"' };
    },
    async put(key, body) {
      objects.set(key, body);
      return 'written';
    },
    async list(prefix) {
      return [...objects.keys()].filter((k) => k.startsWith(prefix));
    },
    async newest() {
      return undefined;
    },
  };
}

/** A shared gate whose forService announces as the handler's does: to the block's controller, when there is one. */
function world(gate: Record<string, unknown>, verdict: 'ok' | 'error' = 'ok') {
  const answers: string[] = [];
  const order: string[] = [];
  const store = memoryStore();
  const c = gateCase({ service: 'svc-a' });
  void store.put(`cases/svc-a/accepted/${c.caseId}.json`, JSON.stringify(c));
  const shared: SharedHookPorts = {
    deployments: {
      async target() {
        return {
          functionName: 'svc-a-fn',
          alias: 'live',
          currentVersion: '6',
          targetVersion: '7',
          application: 'app',
          deploymentGroup: 'group-a',
          creator: 'user',
        };
      },
      async answer(_id, _hook, status) {
        answers.push(status);
        order.push(`answer ${status}`);
      },
    },
    settings: {
      async groupTags() {
        return { [GATE_SETTINGS_TAG]: PARAM };
      },
      async parameter() {
        return manifest(gate);
      },
    },
    clock: { now: () => Date.now() },
    log: () => {},
    sleep: (ms) => new Promise<void>((r) => setTimeout(r, ms).unref()),
  };
  const forService = (s: ServiceGate) => ({
    store,
    invoker: {
      async invoke(qualifier: string) {
        order.push(`replay ${qualifier}`);
        if (verdict === 'error') throw new Error('the target failed');
        return {
          payload: JSON.stringify({ [GATE_RESPONSE_KEY]: { output: { answer: 'ok' }, kinds: [], details: [], latencyMs: 5, degraded: false, tuple: {} } }),
        };
      },
    },
    ...(s.codeCanary
      ? {
          codeCanary: {
            async announce(version: string, key: string, forSeconds: number) {
              order.push(`announce ${s.codeCanary!.controller} ${version} ${key} ${Math.round(forSeconds)}`);
            },
          },
        }
      : {}),
  });
  return { shared, forService, answers, order };
}

const event = { DeploymentId: 'd-1', LifecycleEventHookExecutionId: 'h-1' };

describe('the shared hook announces with the service’s own controller and shift', () => {
  test('before the replays (to its deadline + shift + 60 s), then narrowed to shift + 60 s on Succeeded', async () => {
    const w = world({ ...gateBlock, codeCanary: { controller: 'svc-a-ctrl', shiftSeconds: 300 } });
    const r = await runSharedCodeHook(event, w.shared, w.forService, Date.now() + 20_000);
    expect(r.status).toBe('Succeeded');
    const announces = w.order.filter((l) => l.startsWith('announce'));
    expect(announces).toHaveLength(2);
    // first: the hook's ~20 s to its deadline + 300 + 60
    const first = Number(announces[0].split(' ').at(-1));
    expect(first).toBeGreaterThanOrEqual(378);
    expect(first).toBeLessThanOrEqual(380);
    expect(announces[0]).toMatch(/^announce svc-a-ctrl 7 code-d-1 /);
    expect(announces[1]).toBe('announce svc-a-ctrl 7 code-d-1 360');
    expect(w.order.indexOf(announces[0])).toBeLessThan(w.order.findIndex((l) => l.startsWith('replay')));
    expect(w.order.at(-1)).toBe('answer Succeeded');
  });

  test('a block without codeCanary: nothing announced, the gate unchanged', async () => {
    const w = world(gateBlock);
    const r = await runSharedCodeHook(event, w.shared, w.forService, Date.now() + 20_000);
    expect(r.status).toBe('Succeeded');
    expect(w.order.filter((l) => l.startsWith('announce'))).toEqual([]);
  });
});

function service(scope: Stack, name: string, platform: AiReleasePlatform) {
  const fn = new lambda.Function(scope, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    logGroup: new logs.LogGroup(scope, 'Logs', { retention: logs.RetentionDays.ONE_MONTH }),
  });
  return new AiRelease(scope, 'Release', {
    serviceName: name,
    function: fn,
    config: ReleaseConfigSource.fromObject(validConfig()),
    platform,
    configCanary: 'assigned',
  });
}

describe('a service in a stack of its own, assigned config canary: the grant in its own stack', () => {
  const app = testApp();
  const platformStack = new Stack(app, 'AiPlatform');
  const platform = new AiReleasePlatform(platformStack, 'Platform', { applicationPerService: true });
  const svcStack = new Stack(app, 'Svc-alpha');
  const release = service(svcStack, 'alpha', platform);
  const assembly = app.synth();
  const platformTemplate = assembly.getStackByName('AiPlatform').template;
  const svc = Template.fromStack(svcStack).toJSON();
  const controllerId = svcStack.getLogicalId(release.configShare!.function.node.defaultChild as never);

  test("the Gate/Grants policy on the platform's gate role may invoke the controller, unqualified", () => {
    const grants = Object.entries<Json>(svc.Resources).find(([id, r]) => r.Type === 'AWS::IAM::Policy' && id.startsWith('ReleaseGateGrants'));
    expect(grants).toBeDefined();
    const invoke = grants![1].Properties.PolicyDocument.Statement.find((s: Json) => s.Action === 'lambda:InvokeFunction');
    expect(invoke.Resource).toContainEqual({ 'Fn::GetAtt': [controllerId, 'Arn'] });
    // not `<controller>:*`
    expect(JSON.stringify(invoke.Resource)).not.toMatch(new RegExp(`${controllerId}.*:\\*`));
  });

  test('the manifest parameter holds the controller (by Ref) and the shift; the platform stack names neither', () => {
    const param = Object.values<Json>(svc.Resources).find(
      (r) => r.Type === 'AWS::SSM::Parameter' && JSON.stringify(r.Properties.Name).includes('/release-manifest'),
    );
    const value = JSON.stringify(param.Properties.Value);
    expect(value).toContain(`"Ref":"${controllerId}"`);
    expect(value).toMatch(/\\"shiftSeconds\\":300/);
    expect(JSON.stringify(platformTemplate)).not.toContain(controllerId);
    expect(JSON.stringify(platformTemplate)).not.toContain(GATE_ENV.CODE_CANARY_CONTROLLER);
    expect(
      assembly
        .getStackByName('AiPlatform')
        .dependencies.map((d) => d.id)
        .filter((id) => id.startsWith('Svc')),
    ).toEqual([]);
  });
});

describe('RegressionGate alone (no host): the announcement in its own environment, as h8-codepairs built it', () => {
  test('the controller and shift in its environment, invoke on the unqualified controller; a second call and a bad shift refused', () => {
    const stack = new Stack(testApp(), 'Alone');
    const fn = inlineFunction(stack);
    const controller = inlineFunction(stack, 'Controller');
    const gate = new RegressionGate(stack, 'Gate', { serviceName: 'svc', function: fn, bucket: AiReleasePlatform.of(stack).regressionStore.bucket });
    expect(() => gate.announceCodeCanaryTo(controller, 1.5)).toThrow(/shiftSeconds must be whole seconds from 0 to 176400.*got 1.5/);
    gate.announceCodeCanaryTo(controller, 300);
    expect(() => gate.announceCodeCanaryTo(controller, 300)).toThrow(/already announced/);
    const json = Template.fromStack(stack).toJSON();
    const env = json.Resources[stack.getLogicalId(gate.function.node.defaultChild as never)].Properties.Environment.Variables;
    const controllerId = stack.getLogicalId(controller.node.defaultChild as never);
    expect(env[GATE_ENV.CODE_CANARY_CONTROLLER]).toEqual({ Ref: controllerId });
    expect(env[GATE_ENV.CODE_CANARY_SHIFT_SECONDS]).toBe('300');
    expect(gate.settingsDocument.codeCanary).toBeUndefined();
    const statements = Object.values<Json>(json.Resources)
      .filter((x) => x.Type === 'AWS::IAM::Policy')
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [controllerId, 'Arn'] } }));
  });
});
