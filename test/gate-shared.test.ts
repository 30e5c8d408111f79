/**
 * The regression gate shared by a platform's services (issue 15 E): which service a CodeDeploy hook event or a config
 * request is for, read from the deployment group's tag and the service's release manifest parameter. Pure, over
 * in-memory ports, table-driven; the SDK adapter (ListTagsForResource pages, ParameterNotFound) with aws-sdk-client-mock.
 * Every hook test asserts the status sent to CodeDeploy: an unknown group is Failed, never Succeeded.
 */
import { CodeDeployClient, ListTagsForResourceCommand } from '@aws-sdk/client-codedeploy';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { settingsSource } from '../lambda/gate/aws-adapters';
import { runSharedCodeHook, runSharedConfigGate, type SharedHookPorts } from '../lambda/gate/hook';
import type { DeploymentTarget, GateStore } from '../lambda/gate/ports';
import { parseServiceGate, type ServiceGate, type SettingsSource, serviceGateForDeployment } from '../lambda/gate/service-settings';
import { type ConfigGateRequest, GATE_RESPONSE_KEY, GATE_SETTINGS_TAG, gateKeys, type GateReport } from '../lambda/shared/contract';
import { gateCase } from './gate-fixtures';

const PARAM = '/cdk-ai-release/Platform/svc-a/release-manifest';
const gateBlock = { caseCap: 500, concurrency: 10, caseTimeoutMs: 30_000, passRate: 1, candidates: 'off', timeoutMs: 900_000, hook: true };
const manifest = (over: Record<string, unknown> = {}, gate: Record<string, unknown> | null = gateBlock) =>
  JSON.stringify({
    service: 'svc-a',
    releaseId: 'r1',
    locators: {
      function: 'svc-a-fn',
      alias: 'live',
      codeDeploy: { application: 'app', deploymentGroup: 'group-a' },
      appConfig: { application: 'ap1', environment: 'en1', profile: 'pr1' },
    },
    ...(gate ? { gate } : {}),
    ...over,
  });

/** In-memory tags and parameters; counts the calls. */
function source(tags: Record<string, Record<string, string>>, params: Record<string, string>) {
  const calls: string[] = [];
  const s: SettingsSource = {
    async groupTags(app, group) {
      calls.push(`tags ${app}/${group}`);
      return tags[`${app}/${group}`] ?? {};
    },
    async parameter(name) {
      calls.push(`param ${name}`);
      return params[name];
    },
  };
  return { s, calls };
}

describe('finding the service of a deployment (service-settings.ts)', () => {
  const tagged = { 'app/group-a': { [GATE_SETTINGS_TAG]: PARAM } };
  test.each<[string, Record<string, Record<string, string>>, Record<string, string>, { application?: string; deploymentGroup?: string }, RegExp]>([
    [
      'an untagged group',
      {},
      { [PARAM]: manifest() },
      { application: 'app', deploymentGroup: 'group-a' },
      /deployment group app\/group-a has no tag cdk-ai-release:gate-settings/,
    ],
    ['a group of another application', tagged, { [PARAM]: manifest() }, { application: 'other', deploymentGroup: 'group-a' }, /other\/group-a has no tag/],
    [
      'a tag naming another service’s settings',
      { 'app/group-b': { [GATE_SETTINGS_TAG]: PARAM } },
      { [PARAM]: manifest() },
      { application: 'app', deploymentGroup: 'group-b' },
      /belongs to deployment group app\/group-a; refused/,
    ],
    [
      'a parameter that does not exist',
      tagged,
      {},
      { application: 'app', deploymentGroup: 'group-a' },
      /the SSM parameter \/cdk-ai-release\/Platform\/svc-a\/release-manifest does not exist/,
    ],
    ['a parameter that is not JSON', tagged, { [PARAM]: '{nope' }, { application: 'app', deploymentGroup: 'group-a' }, /is not JSON/],
    ['a manifest without a gate block', tagged, { [PARAM]: manifest({}, null) }, { application: 'app', deploymentGroup: 'group-a' }, /has no gate block/],
    [
      'a gate block that is not a hook’s',
      tagged,
      { [PARAM]: manifest({}, { ...gateBlock, hook: false }) },
      { application: 'app', deploymentGroup: 'group-a' },
      /is not a hook's/,
    ],
    [
      'a bad field',
      tagged,
      { [PARAM]: manifest({}, { ...gateBlock, caseCap: 0 }) },
      { application: 'app', deploymentGroup: 'group-a' },
      /release-manifest gate.caseCap must be an integer of at least 1, got "0"/,
    ],
    [
      'a timeout too short for one case',
      tagged,
      { [PARAM]: manifest({}, { ...gateBlock, timeoutMs: 40_000 }) },
      { application: 'app', deploymentGroup: 'group-a' },
      /gate.timeoutMs must be an integer of at least caseTimeoutMs \+ 20000 \(50000\), got 40000/,
    ],
    ['a deployment with no group', tagged, { [PARAM]: manifest() }, { application: 'app' }, /names no application or deployment group/],
  ])('%s: refused with the reason', async (_what, tags, params, d, message) => {
    await expect(serviceGateForDeployment('d-1', d, source(tags, params).s)).rejects.toThrow(message);
  });

  test('a tagged group: the service, its function, its settings and its group, from its manifest', async () => {
    const s = await serviceGateForDeployment('d-1', { application: 'app', deploymentGroup: 'group-a' }, source(tagged, { [PARAM]: manifest() }).s);
    expect(s).toEqual({
      service: 'svc-a',
      source: PARAM,
      targetFunction: 'svc-a-fn',
      settings: { caseCap: 500, concurrency: 10, caseTimeoutMs: 30_000, passRate: 1, candidates: 'off' },
      timeoutMs: 900_000,
      deploymentGroup: { application: 'app', name: 'group-a' },
    });
  });

  test('an evaluator: its settings, model and the live AppConfig ids of the locators', () => {
    const s = parseServiceGate(PARAM, manifest({}, { ...gateBlock, evaluation: { k: 3, pass: 'majority', maxUsd: 10, modelId: 'us.m-v1:0' } }));
    expect(s.evaluation).toEqual({
      settings: { k: 3, pass: 'majority', maxUsd: 10 },
      modelId: 'us.m-v1:0',
      application: 'ap1',
      environment: 'en1',
      profile: 'pr1',
    });
    expect(() => parseServiceGate(PARAM, manifest({}, { ...gateBlock, evaluation: { k: 0, pass: 'majority', maxUsd: 10, modelId: 'm' } }))).toThrow(
      /gate.evaluation.k must be a whole number of replays/,
    );
  });
});

/** An in-memory regression store. */
function memoryStore(): GateStore & { objects: Map<string, string> } {
  const objects = new Map<string, string>();
  return {
    objects,
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

function sharedWorld(o: { deployment?: Partial<DeploymentTarget>; tags?: Record<string, Record<string, string>>; params?: Record<string, string> } = {}) {
  const answers: { id: string; status: string }[] = [];
  const invoked: { fn: string; qualifier: string }[] = [];
  const logs: string[] = [];
  const store = memoryStore();
  const src = source(o.tags ?? { 'app/group-a': { [GATE_SETTINGS_TAG]: PARAM } }, o.params ?? { [PARAM]: manifest() });
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
          creator: 'CloudFormation',
          ...o.deployment,
        };
      },
      async answer(id, _hook, status) {
        answers.push({ id, status });
      },
    },
    settings: src.s,
    clock: { now: () => Date.now() },
    log: (l) => logs.push(l),
    sleep: (ms) => new Promise<void>((r) => setTimeout(r, ms).unref()),
  };
  const forService = (s: ServiceGate) => ({
    store,
    invoker: {
      async invoke(qualifier: string) {
        invoked.push({ fn: s.targetFunction, qualifier });
        return {
          payload: JSON.stringify({ [GATE_RESPONSE_KEY]: { output: { answer: 'ok' }, kinds: [], details: [], latencyMs: 5, degraded: false, tuple: {} } }),
        };
      },
    },
  });
  return { shared, forService, answers, invoked, logs, store, calls: src.calls };
}

const event = { DeploymentId: 'd-XYZ', LifecycleEventHookExecutionId: 'hook-1' };

describe('the shared BeforeAllowTraffic hook (runSharedCodeHook)', () => {
  test('a tagged group: the service’s cases are replayed on the AppSpec’s version of its function → Succeeded, report under its folder', async () => {
    const w = sharedWorld();
    const c = gateCase({ service: 'svc-a' });
    await w.store.put(`cases/svc-a/accepted/${c.caseId}.json`, JSON.stringify(c));
    const r = await runSharedCodeHook(event, w.shared, w.forService, Date.now() + 20_000);
    expect(r.status).toBe('Succeeded');
    expect(r.service).toBe('svc-a');
    expect(w.answers).toEqual([{ id: 'd-XYZ', status: 'Succeeded' }]);
    expect(w.invoked).toEqual([{ fn: 'svc-a-fn', qualifier: '7' }]);
    const report = JSON.parse(w.store.objects.get(gateKeys('svc-a', 'code-d-XYZ').json)!) as GateReport;
    expect(report.verdict).toBe('passed');
  });

  test.each([
    ['untagged group', { tags: {} }, /has no tag cdk-ai-release:gate-settings/],
    [
      'settings of another group',
      { deployment: { deploymentGroup: 'group-b' }, tags: { 'app/group-b': { [GATE_SETTINGS_TAG]: PARAM } } },
      /belongs to deployment group app\/group-a/,
    ],
    ['missing parameter', { params: {} }, /does not exist/],
  ])('%s → Failed, with the reason logged, nothing replayed', async (_what, o, reason) => {
    const w = sharedWorld(o);
    const r = await runSharedCodeHook(event, w.shared, w.forService, Date.now() + 20_000);
    expect(r.status).toBe('Failed');
    expect(w.answers).toEqual([{ id: 'd-XYZ', status: 'Failed' }]);
    expect(w.invoked).toEqual([]);
    expect(r.error).toMatch(reason);
    expect(w.logs.some((l) => JSON.parse(l).message.includes('service of the deployment is unknown'))).toBe(true);
  });

  test.each(['CloudFormationRollback', 'codeDeployRollback'])(
    'a rollback (%s) is Succeeded at once, even on an untagged group: no lookup, no replay',
    async (creator) => {
      const w = sharedWorld({ deployment: { creator }, tags: {} });
      const r = await runSharedCodeHook(event, w.shared, w.forService, Date.now() + 20_000);
      expect(r.status).toBe('Succeeded');
      expect(w.answers).toEqual([{ id: 'd-XYZ', status: 'Succeeded' }]);
      expect(w.calls).toEqual([]);
      expect(w.invoked).toEqual([]);
    },
  );

  test('a settings lookup that hangs is answered Failed before the deadline', async () => {
    const w = sharedWorld();
    const hung: SharedHookPorts = { ...w.shared, settings: { groupTags: () => new Promise(() => {}), parameter: async () => undefined } };
    const t0 = Date.now();
    const r = await runSharedCodeHook(event, hung, w.forService, Date.now() + 300);
    expect(r.status).toBe('Failed');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(w.answers).toEqual([{ id: 'd-XYZ', status: 'Failed' }]);
    expect(r.error).toMatch(/did not answer before the gate's deadline/);
  });
});

describe('the shared config gate (runSharedConfigGate)', () => {
  const req = (over: Partial<ConfigGateRequest> = {}): ConfigGateRequest => ({
    kind: 'ai-release.config-gate',
    service: 'svc-a',
    configVersion: '4',
    qualifier: 'gate',
    settingsParameter: PARAM,
    ...over,
  });
  test('replays through the service’s gate alias and writes config-<version>', async () => {
    const w = sharedWorld();
    const c = gateCase({ service: 'svc-a' });
    await w.store.put(`cases/svc-a/accepted/${c.caseId}.json`, JSON.stringify(c));
    const report = await runSharedConfigGate(req(), w.shared, w.forService, Date.now() + 20_000);
    expect(report.verdict).toBe('passed');
    expect(w.invoked).toEqual([{ fn: 'svc-a-fn', qualifier: 'gate' }]);
    expect(w.store.objects.has(gateKeys('svc-a', 'config-4').json)).toBe(true);
  });
  test.each([
    [{ settingsParameter: undefined }, /ConfigGateRequest.settingsParameter is missing/],
    [{ service: 'svc-b' }, /ConfigGateRequest.service is "svc-b", but \/cdk-ai-release\/Platform\/svc-a\/release-manifest holds the settings of "svc-a"/],
  ])('a request it cannot place throws, naming why: %j', async (over, message) => {
    const w = sharedWorld();
    await expect(runSharedConfigGate(req(over), w.shared, w.forService, Date.now() + 20_000)).rejects.toThrow(message);
    expect(w.invoked).toEqual([]);
  });
});

describe('the settings adapter (ListTagsForResource, GetParameter)', () => {
  const creds = { region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
  test('follows NextToken across tag pages, on the group ARN; a missing parameter is undefined, other errors propagate', async () => {
    const cd = new CodeDeployClient(creds);
    const cdMock = mockClient(cd);
    cdMock
      .on(ListTagsForResourceCommand, { NextToken: undefined })
      .resolves({ Tags: [{ Key: 'team', Value: 'x' }], NextToken: 't2' })
      .on(ListTagsForResourceCommand, { NextToken: 't2' })
      .resolves({ Tags: [{ Key: GATE_SETTINGS_TAG, Value: PARAM }] });
    const ssm = new SSMClient(creds);
    const ssmMock = mockClient(ssm);
    ssmMock.on(GetParameterCommand, { Name: PARAM }).resolves({ Parameter: { Value: 'v' } });
    ssmMock.on(GetParameterCommand, { Name: '/missing' }).rejects(new ParameterNotFound({ message: 'no', $metadata: {} }));
    ssmMock.on(GetParameterCommand, { Name: '/denied' }).rejects(Object.assign(new Error('AccessDenied'), { name: 'AccessDeniedException' }));
    const s = settingsSource(cd, ssm, 'arn:aws:codedeploy:eu-west-1:111122223333:deploymentgroup:');
    expect(await s.groupTags('app', 'group-a')).toEqual({ team: 'x', [GATE_SETTINGS_TAG]: PARAM });
    expect(cdMock.commandCalls(ListTagsForResourceCommand).map((c) => c.args[0].input.ResourceArn)).toEqual([
      'arn:aws:codedeploy:eu-west-1:111122223333:deploymentgroup:app/group-a',
      'arn:aws:codedeploy:eu-west-1:111122223333:deploymentgroup:app/group-a',
    ]);
    expect(await s.parameter(PARAM)).toBe('v');
    expect(await s.parameter('/missing')).toBeUndefined();
    await expect(s.parameter('/denied')).rejects.toThrow('AccessDenied');
  });
});
