/**
 * Who announces the code canary (issue 17 D, h8-codepairs): the pre-traffic hook tells the share controller the
 * version under test before the replays (so the environments they start read it), narrows the window to the traffic
 * shift when it answers Succeeded and ends it when it answers Failed; the controller writes it into the share document
 * (share 0: nobody moves to a candidate config) unless a config release ramps. Nothing about it can change the gate's
 * verdict or keep CodeDeploy waiting.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { shareControllerAnnouncer } from '../lambda/gate/aws-adapters';
import { DEFAULT_GATE_SETTINGS } from '../lambda/gate/gate';
import { CODE_CANARY_SLACK_SECONDS, type HookPorts, runCodeHook } from '../lambda/gate/hook';
import type { CodeCanaryPort, GateStore } from '../lambda/gate/ports';
import { type ControllerPorts, DEFAULT_SHARE_SCHEDULE, handle } from '../lambda/share-controller/controller';
import { type CanaryShareDocument, GATE_RESPONSE_KEY, type RegressionCase, type ShareControllerRecord } from '../lambda/shared/contract';
import { gateCase } from './gate-fixtures';

const SETTINGS = { service: 'svc', schedule: DEFAULT_SHARE_SCHEDULE, alarmNames: ['a'], clientLagSeconds: 20 };

function controller(record?: Partial<ShareControllerRecord>) {
  const shares: CanaryShareDocument[] = [];
  const now = Date.parse('2026-12-07T14:00:00Z');
  const ports: ControllerPorts = {
    share: { deploy: async (doc) => void shares.push(doc) },
    live: { deploy: async () => 1, state: async () => 'COMPLETE' },
    alarms: async () => new Map(),
    verdict: async () => undefined,
    load: async () =>
      record ? ({ schemaVersion: 1, service: 'svc', releaseKey: 'config-assigned-3-x', phase: 'promoted', ...record } as ShareControllerRecord) : undefined,
    save: async () => undefined,
    now: () => now,
    log: () => undefined,
  };
  return { ports, shares, now };
}

describe('the share controller writes the code canary', () => {
  test('announced: share 0 (everyone on live), the version and its expiry', async () => {
    const c = controller();
    const r = await handle({ kind: 'ai-release.code-canary', functionVersion: '7', releaseKey: 'code-d-1', forSeconds: 960 }, c.ports, SETTINGS);
    expect(r).toEqual({ action: 'code-canary', functionVersion: '7', until: c.now + 960_000 });
    expect(c.shares).toEqual([
      {
        schemaVersion: 1,
        releaseKey: '',
        share: 0,
        at: new Date(c.now).toISOString(),
        codeCanary: { functionVersion: '7', releaseKey: 'code-d-1', at: c.now, until: c.now + 960_000 },
      },
    ]);
  });

  test('after a finished config release too (promoted or rolled back)', async () => {
    const c = controller({ phase: 'rolled-back' });
    await handle({ kind: 'ai-release.code-canary', functionVersion: '7', releaseKey: 'code-d-1', forSeconds: 60 }, c.ports, SETTINGS);
    expect(c.shares[0].codeCanary?.functionVersion).toBe('7');
  });

  test.each(['ramping', 'promoting'] as const)('never while a config release is %s: one plane at a time, its share untouched', async (phase) => {
    const c = controller({ phase });
    const r = await handle({ kind: 'ai-release.code-canary', functionVersion: '7', releaseKey: 'code-d-1', forSeconds: 60 }, c.ports, SETTINGS);
    expect(r).toMatchObject({ action: 'none', why: expect.stringContaining('one plane at a time') });
    expect(c.shares).toEqual([]);
  });

  test('forSeconds 0 ends it (until = now: no environment draws any more)', async () => {
    const c = controller();
    await handle({ kind: 'ai-release.code-canary', functionVersion: '7', releaseKey: 'code-d-1', forSeconds: 0 }, c.ports, SETTINGS);
    expect(c.shares[0].codeCanary?.until).toBe(c.now);
  });

  test.each([
    [{ functionVersion: '$LATEST', forSeconds: 60 }, /functionVersion, a published Lambda version number/],
    [{ functionVersion: '7', forSeconds: -1 }, /forSeconds from 0 to 176400/],
    [{ functionVersion: '7', forSeconds: 200_000 }, /forSeconds from 0 to 176400/],
  ])('a bad event is refused with the field and the fix: %j', async (over, message) => {
    const c = controller();
    await expect(handle({ kind: 'ai-release.code-canary', releaseKey: 'code-d-1', ...over }, c.ports, SETTINGS)).rejects.toThrow(message);
    expect(c.shares).toEqual([]);
  });
});

function memStore(cases: readonly RegressionCase[]): GateStore {
  const objects: Record<string, string> = Object.fromEntries(cases.map((c) => [`cases/svc/${c.state}/${c.caseId}.json`, JSON.stringify(c)]));
  return {
    get: async (k) => (k in objects ? { body: objects[k] } : undefined),
    put: async (k, b) => {
      objects[k] = b;
      return 'written';
    },
    list: async (p) => Object.keys(objects).filter((k) => k.startsWith(p)),
    newest: async () => undefined,
  };
}

/** The hook over fakes; `order` records announcements, replays and the answer as they happen. */
function hook(o: { failCase?: boolean; announcer?: (order: string[]) => CodeCanaryPort; creator?: string; answerInMs?: number; functionName?: string } = {}) {
  const order: string[] = [];
  let now = Date.parse('2026-12-07T14:00:00Z');
  const answered: string[] = [];
  const ports: HookPorts = {
    store: memStore([gateCase({ service: 'svc' }), gateCase({ service: 'svc' })]),
    invoker: {
      async invoke(qualifier) {
        order.push(`replay ${qualifier}`);
        now += 1000;
        return {
          payload: JSON.stringify({
            [GATE_RESPONSE_KEY]: { output: { answer: 'ok' }, kinds: o.failCase ? ['error'] : [], details: [], latencyMs: 20, degraded: false, tuple: {} },
          }),
        };
      },
    },
    deployments: {
      target: async () => ({
        functionName: o.functionName ?? 'svc-fn',
        alias: 'live',
        targetVersion: '7',
        currentVersion: '6',
        creator: o.creator ?? 'CloudFormation',
      }),
      answer: async (_d, _h, status) => {
        order.push(`answer ${status}`);
        answered.push(status);
      },
    },
    clock: { now: () => now },
    log: () => undefined,
    // The announcement's own wait (≤ 5 s) passes at once; the hook's watchdog (minutes) keeps its real length.
    sleep: (ms) => new Promise<void>((r) => setTimeout(r, ms <= 5000 ? 20 : ms).unref()),
    codeCanary: (o.announcer ?? ((ord) => ({ announce: async (v, key, s) => void ord.push(`announce ${v} ${key} ${Math.round(s)}`) })))(order),
  };
  const answerBy = now + (o.answerInMs ?? 600_000);
  const options = { service: 'svc', targetFunction: 'svc-fn', settings: DEFAULT_GATE_SETTINGS, answerBy, reportReserveMs: 1000, codeCanaryShiftSeconds: 900 };
  return { ports, options, order, answered, start: now };
}

const event = { DeploymentId: 'd-1', LifecycleEventHookExecutionId: 'h-1' };

describe('the pre-traffic hook announces the code canary', () => {
  test('before its replays (held to its deadline + the shift), then narrowed to the shift when it answers Succeeded', async () => {
    const h = hook();
    const r = await runCodeHook(event, h.ports, h.options);
    expect(r.status).toBe('Succeeded');
    const shift = 900 + CODE_CANARY_SLACK_SECONDS;
    expect(h.order).toEqual([`announce 7 code-d-1 ${600 + shift}`, 'replay 7', 'replay 7', `announce 7 code-d-1 ${shift}`, 'answer Succeeded']);
  });

  test('a failed gate ends the announcement (0 s) before answering Failed', async () => {
    const h = hook({ failCase: true });
    const r = await runCodeHook(event, h.ports, h.options);
    expect(r.status).toBe('Failed');
    expect(h.order.slice(-2)).toEqual(['announce 7 code-d-1 0', 'answer Failed']);
  });

  test('a rollback deployment (not gated) announces nothing', async () => {
    const h = hook({ creator: 'codeDeployRollback' });
    await runCodeHook(event, h.ports, h.options);
    expect(h.order).toEqual(['answer Succeeded']);
  });

  test("a deployment of another function is refused (Failed) and announces nothing: its version is not this service's canary", async () => {
    const h = hook({ functionName: 'other-fn' });
    expect((await runCodeHook(event, h.ports, h.options)).status).toBe('Failed');
    expect(h.order).toEqual(['answer Failed']);
  });

  test('an announcer that fails or hangs never changes the verdict nor keeps CodeDeploy waiting', async () => {
    const failing = hook({ announcer: () => ({ announce: async () => Promise.reject(new Error('TooManyRequestsException')) }) });
    expect((await runCodeHook(event, failing.ports, failing.options)).status).toBe('Succeeded');
    expect(failing.answered).toEqual(['Succeeded']);
    const hanging = hook({ announcer: () => ({ announce: () => new Promise<void>(() => {}) }) });
    expect((await runCodeHook(event, hanging.ports, hanging.options)).status).toBe('Succeeded');
    expect(hanging.answered).toEqual(['Succeeded']);
  });
});

describe('the announcer adapter (synchronous invoke of the share controller)', () => {
  const client = new LambdaClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const mock = mockClient(client);
  afterEach(() => mock.reset());

  test('sends the code-canary event, RequestResponse, to the controller; retries its throttling', async () => {
    let calls = 0;
    mock.on(InvokeCommand).callsFake(async () => {
      calls++;
      if (calls === 1) throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
      return { StatusCode: 200, Payload: new TextEncoder().encode('{"action":"code-canary"}') };
    });
    await shareControllerAnnouncer(client, 'svc-share-controller').announce('7', 'code-d-1', 959.6);
    const sent = mock.commandCalls(InvokeCommand).map((c) => c.args[0].input);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ FunctionName: 'svc-share-controller', InvocationType: 'RequestResponse' });
    expect(JSON.parse(new TextDecoder().decode(sent[1].Payload as Uint8Array))).toEqual({
      kind: 'ai-release.code-canary',
      functionVersion: '7',
      releaseKey: 'code-d-1',
      forSeconds: 960,
    });
  });

  test("a controller error is the announcer's error (the hook logs it and goes on)", async () => {
    mock.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: new TextEncoder().encode('{"errorMessage":"boom"}') as never });
    await expect(shareControllerAnnouncer(client, 'c').announce('7', 'code-d-1', 60)).rejects.toThrow(/answered Unhandled: .*boom/);
  });
});
