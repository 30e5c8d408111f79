/**
 * The config gate's behaviour: the deployer stages the candidate, asks the gate and starts the live rollout only on a
 * passing report; the live environment's PRE_START_DEPLOYMENT check refuses unpassed versions (store in s3rver); the
 * runtime reads the candidate environment only through the `gate` alias.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { AppConfigClient, GetDeploymentCommand, ListDeploymentsCommand } from '@aws-sdk/client-appconfig';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import {
  type AppConfigPort,
  type Clock,
  type CustomResourceEvent,
  type DeploymentInfo,
  handle,
  type InvokeGate,
} from '../lambda/config-deployer/config-deployer';
import { lambdaGate } from '../lambda/config-deployer/gate-port';
import { RESPONSE_MAX_BYTES, responseBody } from '../lambda/config-deployer/response';
import { appConfigHistory, RECENT_DEPLOYMENTS, s3GateRecords } from '../lambda/config-gate-check/aws-adapters';
import { CHECK_BUDGET_MS, check, type DeploymentHistory, type PreStartDeploymentEvent, RECORD_BUDGET_MS } from '../lambda/config-gate-check/check';
import { AiRuntime, type ConfigPort, type InvocationContext, type TelemetryPort } from '../lambda/runtime/ai-runtime';
import { GateReplayTelemetry, GateSelectingRuntime, invokedThroughGate, qualifierOf } from '../lambda/runtime/gate-selection';
import { createAiRuntime } from '../lambda/runtime';
import {
  CONFIG_GATE_ENV,
  type ConfigGateRequest,
  configGateReleaseKey,
  ENV,
  FAILURE_RECORD_TYPE,
  GATE_REPLAY_FAILURE_TYPE,
  type GateReport,
  gateKeys,
} from '../lambda/shared/contract';
import { BUCKET, s3Client, startS3 } from './s3rver-harness';
import { gateReport } from './config-gate-fixtures';

// ---------------------------------------------------------------------------------------------------------------
// A fake AppConfig with one deployment list per environment; every deployment completes on its second poll unless
// the environment's script says otherwise.

function fakeAppConfig(scripts: Record<string, DeploymentInfo['state'][]> = {}) {
  type Fake = { -readonly [K in keyof DeploymentInfo]: DeploymentInfo[K] } & { script: string[]; strategy: string };
  const byEnv = new Map<string, Fake[]>();
  const log: string[] = [];
  const list = (env: string) => byEnv.get(env) ?? byEnv.set(env, []).get(env)!;
  const advance = (d: { state: string; script: string[] }) => {
    if (d.script.length > 1 && !['COMPLETE', 'ROLLED_BACK', 'REVERTED'].includes(d.state)) d.script.shift();
    d.state = d.script[0];
  };
  const port: AppConfigPort = {
    async start(p) {
      const ds = list(p.environment);
      const script = [...(scripts[p.environment] ?? ['DEPLOYING', 'COMPLETE'])];
      const d = { number: ds.length + 1, state: script[0], script, profile: p.profile, version: p.version, strategy: p.strategy };
      ds.push(d);
      log.push(`start ${p.environment} v${p.version} ${p.strategy}`);
      return d.number;
    },
    async get(env, n) {
      const d = list(env).find((x) => x.number === n)!;
      advance(d);
      return { ...d };
    },
    async running(env) {
      return list(env).filter((d) => ['DEPLOYING', 'BAKING', 'VALIDATING', 'ROLLING_BACK'].includes(d.state));
    },
    async latest(env) {
      const ds = list(env);
      return ds[ds.length - 1];
    },
    async stop(env, n) {
      log.push(`stop ${env} #${n}`);
      const d = list(env).find((x) => x.number === n)!;
      d.script = ['REVERTED'];
      d.state = 'REVERTED';
    },
  };
  return { port, log, byEnv };
}

function fakeClock(): Clock {
  let t = 0;
  return { now: () => t, sleep: async (ms) => void (t += ms) };
}

const PROPS = {
  Application: 'app1',
  Environment: 'live1',
  Profile: 'prof1',
  Version: '7',
  Strategy: 'canary1',
  RollbackStrategy: 'instant1',
  Description: 'assistant release config cfg-abc',
  GateFunction: 'assistant-gate',
  CandidateEnvironment: 'cand1',
  Service: 'assistant',
  ConfigLabel: 'cfg-abcdef012345',
};

function event(over: Partial<typeof PROPS> = {}, extra: Partial<CustomResourceEvent> = {}): CustomResourceEvent {
  return { RequestType: 'Update', ResourceProperties: { ...PROPS, ...over }, OldResourceProperties: { ...PROPS, Version: '6' }, ...extra };
}

const report = gateReport;

/** A fake gate that records the requests it gets and what AppConfig had done by then. */
function fakeGate(answer: (req: ConfigGateRequest) => Promise<GateReport>, log: string[]): { gate: InvokeGate; requests: ConfigGateRequest[] } {
  const requests: ConfigGateRequest[] = [];
  return {
    requests,
    gate: async (req) => {
      requests.push(req);
      log.push(`gate v${req.configVersion}`);
      return answer(req);
    },
  };
}

describe('the deployer with a gate (fake AppConfig, fake gate)', () => {
  test('pass: candidate staged instantly, the gate asked through the gate alias, then the live rollout', async () => {
    const ac = fakeAppConfig();
    const g = fakeGate(async () => report(), ac.log);
    const out = await handle(event(), ac.port, fakeClock(), { budgetMs: 600_000, pollMs: 1000, invokeGate: g.gate });
    expect(out.status).toBe('SUCCESS');
    // Order is the point: the live deployment starts only after the gate answered.
    expect(ac.log).toEqual(['start cand1 v7 instant1', 'gate v7', 'start live1 v7 canary1']);
    expect(g.requests).toEqual([
      { kind: 'ai-release.config-gate', service: 'assistant', configVersion: '7', configLabel: 'cfg-abcdef012345', qualifier: 'gate' },
    ]);
    expect(out.data).toMatchObject({ Direction: 'release', Version: '7', GateVerdict: 'passed', GateReport: 'gates/assistant/config-7.json' });
  });

  test('a first release (empty store) passes with passed-empty', async () => {
    const ac = fakeAppConfig();
    const g = fakeGate(async () => report({ verdict: 'passed-empty', summary: 'no cases yet: passed (first release)' }), ac.log);
    const out = await handle(event({}, { RequestType: 'Create', OldResourceProperties: undefined }), ac.port, fakeClock(), {
      budgetMs: 600_000,
      pollMs: 1000,
      invokeGate: g.gate,
    });
    expect(out.status).toBe('SUCCESS');
    expect(ac.log[ac.log.length - 1]).toBe('start live1 v7 canary1');
  });

  test('fail: the resource fails with the report summary on one line; nothing is deployed to the live environment', async () => {
    const ac = fakeAppConfig();
    const summary = 'failed: 2 of 40 accepted cases failed\n(case 3f2a: contract; case 9b1c: safety)';
    const g = fakeGate(async () => report({ verdict: 'failed', summary }), ac.log);
    const out = await handle(event(), ac.port, fakeClock(), { budgetMs: 600_000, pollMs: 1000, invokeGate: g.gate });
    expect(out.status).toBe('FAILED');
    expect(out.reason).toContain('failed: 2 of 40 accepted cases failed (case 3f2a: contract; case 9b1c: safety)');
    expect(out.reason).toContain('gates/assistant/config-7.json');
    expect(out.reason).not.toContain('\n');
    expect(ac.log.some((l) => l.startsWith('start live1'))).toBe(false);
    expect(out.data).toMatchObject({ GateVerdict: 'failed' });
  });

  test('gate error: a gate that throws fails the release with its message; the live environment is untouched', async () => {
    const ac = fakeAppConfig();
    const g = fakeGate(async () => {
      throw new Error('the gate function failed (Unhandled): Task timed out after 300.00 seconds');
    }, ac.log);
    const out = await handle(event(), ac.port, fakeClock(), { budgetMs: 600_000, pollMs: 1000, invokeGate: g.gate });
    expect(out.status).toBe('FAILED');
    expect(out.reason).toMatch(/did not answer: the gate function failed \(Unhandled\): Task timed out/);
    expect(ac.log.some((l) => l.startsWith('start live1'))).toBe(false);
  });

  test.each([
    ['another version', { target: { functionName: 'f', qualifier: 'gate', configVersion: '6' } }, 'replayed config version 6, not 7'],
    ['another service', { service: 'billing' }, 'about service "billing"'],
    ['the code plane', { plane: 'code' as const }, 'code-plane report'],
    ['an unknown schema', { schemaVersion: 2 as never }, 'schemaVersion 2'],
    ['an unknown verdict', { verdict: 'maybe' as never }, 'verdict "maybe"'],
  ])('a report about %s is not a pass', async (_what, over, message) => {
    const ac = fakeAppConfig();
    const g = fakeGate(async () => report(over as Partial<GateReport>), ac.log);
    const out = await handle(event(), ac.port, fakeClock(), { budgetMs: 600_000, pollMs: 1000, invokeGate: g.gate });
    expect(out.status).toBe('FAILED');
    expect(out.reason).toContain(message);
    expect(ac.log.some((l) => l.startsWith('start live1'))).toBe(false);
  });

  test('a candidate that cannot be staged is never replayed', async () => {
    const ac = fakeAppConfig({ cand1: ['DEPLOYING', 'ROLLED_BACK'] });
    const g = fakeGate(async () => report(), ac.log);
    const out = await handle(event(), ac.port, fakeClock(), { budgetMs: 600_000, pollMs: 1000, invokeGate: g.gate });
    expect(out.status).toBe('FAILED');
    expect(out.reason).toMatch(
      /^config gate: could not stage version 7 \(cfg-abcdef012345\): config deployment #1 of version 7 .* candidate environment cand1 ended ROLLED_BACK/,
    );
    expect(g.requests).toEqual([]);
  });

  test('a stack rollback is not gated: the previous version goes back to the live environment at once', async () => {
    const ac = fakeAppConfig();
    const g = fakeGate(async () => report({ verdict: 'failed', summary: 'would fail' }), ac.log);
    const rollback = event({ Version: '6' }, { OldResourceProperties: { ...PROPS, Version: '7' } });
    const out = await handle(rollback, ac.port, fakeClock(), { budgetMs: 600_000, pollMs: 1000, invokeGate: g.gate });
    expect(out.status).toBe('SUCCESS');
    expect(ac.log).toEqual(['start live1 v6 instant1']);
    expect(g.requests).toEqual([]);
  });

  test('a stack rollback after a failed gate deploys nothing: the live environment still serves the previous version', async () => {
    const ac = fakeAppConfig();
    // The previous release's deployment is the live environment's latest, COMPLETE.
    await ac.port.start({ environment: 'live1', profile: 'prof1', version: '6', strategy: 'canary1', description: '' });
    await ac.port.get('live1', 1);
    ac.log.length = 0;
    const rollback = event({ Version: '6' }, { OldResourceProperties: { ...PROPS, Version: '7' } });
    const out = await handle(rollback, ac.port, fakeClock(), { budgetMs: 600_000, pollMs: 1000 });
    expect(out).toMatchObject({ status: 'SUCCESS', data: { Direction: 'rollback', Version: '6', DeploymentNumber: '1' } });
    expect(out.reason).toContain('nothing to roll back');
    expect(ac.log).toEqual([]);
  });

  test('an ungated resource (no GateFunction) deploys straight to the live environment, as before', async () => {
    const ac = fakeAppConfig();
    const { GateFunction: _g, CandidateEnvironment: _c, ...ungated } = PROPS;
    const out = await handle(
      { RequestType: 'Update', ResourceProperties: ungated, OldResourceProperties: { ...ungated, Version: '6' } },
      ac.port,
      fakeClock(),
      {
        budgetMs: 600_000,
        pollMs: 1000,
      },
    );
    expect(out.status).toBe('SUCCESS');
    expect(ac.log).toEqual(['start live1 v7 canary1']);
  });

  test('a gated resource without its candidate environment, or without a way to invoke the gate, fails naming what is missing', async () => {
    const ac = fakeAppConfig();
    const noCandidate = await handle(event({ CandidateEnvironment: '' }), ac.port, fakeClock(), { budgetMs: 600_000, invokeGate: async () => report() });
    expect(noCandidate.reason).toBe('config deployment: GateFunction is set but CandidateEnvironment is missing; the gate needs both');
    const noPort = await handle(event(), ac.port, fakeClock(), { budgetMs: 600_000 });
    expect(noPort.reason).toBe('config deployment: GateFunction is set but the deployer has no way to invoke it');
    expect(ac.log).toEqual([]);
  });

  test("the gate's time counts: a gate that used the budget leaves the live rollout overdue, and it is stopped, not left running", async () => {
    const ac = fakeAppConfig({ live1: ['DEPLOYING', 'DEPLOYING', 'DEPLOYING', 'DEPLOYING', 'COMPLETE'] });
    const clock = fakeClock();
    const g = fakeGate(async () => {
      await clock.sleep(590_000);
      return report();
    }, ac.log);
    const out = await handle(event(), ac.port, clock, { budgetMs: 600_000, pollMs: 5000, invokeGate: g.gate });
    expect(out.status).toBe('FAILED');
    expect(out.reason).toMatch(/was still DEPLOYING .* after 600 s, its time budget; stopped it/);
    expect(ac.log).toContain('stop live1 #1');
  });
});

describe("CloudFormation's answer: the gate summary is the Reason, within the 4096-byte response limit", () => {
  const ids = { StackId: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/Example/1', RequestId: 'req-1', LogicalResourceId: 'Deploy' };

  test('a short reason goes through whole', () => {
    const body = JSON.parse(responseBody(ids, { status: 'FAILED', physicalResourceId: 'p', reason: 'config gate FAILED for version 7: failed: 1 of 3' }));
    expect(body).toMatchObject({ Status: 'FAILED', Reason: 'config gate FAILED for version 7: failed: 1 of 3', RequestId: 'req-1' });
  });

  test('a long multi-byte summary is cut by bytes, at a whole character, and says so', () => {
    const reason = `config gate FAILED for version 7 of assistant: ${'复盘失败案例 '.repeat(1500)}`;
    const text = responseBody(ids, {
      status: 'FAILED',
      physicalResourceId: 'p',
      reason,
      data: { GateVerdict: 'failed', GateReport: 'gates/assistant/config-7.json' },
    });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(RESPONSE_MAX_BYTES);
    const body = JSON.parse(text);
    expect(body.Reason.startsWith('config gate FAILED for version 7 of assistant: 复盘失败案例')).toBe(true);
    expect(body.Reason.endsWith('(cut; the full reason is in the deployer log)')).toBe(true);
    expect(body.Reason).not.toContain('\uFFFD');
    expect(body.Data.GateReport).toBe('gates/assistant/config-7.json');
    // …and it uses the room: a 3000-character cut (the old rule) of this text would have been over 4096 bytes.
    expect(Buffer.byteLength(reason.slice(0, 3000))).toBeGreaterThan(RESPONSE_MAX_BYTES);
    expect(Buffer.byteLength(text)).toBeGreaterThan(RESPONSE_MAX_BYTES - 200);
  });
});

describe('the gate port over Lambda Invoke (mocked SDK)', () => {
  const lambdaMock = mockClient(LambdaClient);
  afterEach(() => lambdaMock.reset());
  const request: ConfigGateRequest = { kind: 'ai-release.config-gate', service: 'assistant', configVersion: '7', qualifier: 'gate' };

  test('a synchronous invoke with the request as payload; the report is the answer', async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(report())) as never });
    const got = await lambdaGate(new LambdaClient({ region: 'us-east-1' }), 'assistant-gate')(request);
    expect(got.verdict).toBe('passed');
    const input = lambdaMock.commandCalls(InvokeCommand)[0].args[0].input;
    expect(input.FunctionName).toBe('assistant-gate');
    expect(input.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array))).toEqual(request);
  });

  test('a function error rejects with its type and message', async () => {
    const payload = { errorType: 'Error', errorMessage: 'cannot read cases: AccessDenied' };
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: new TextEncoder().encode(JSON.stringify(payload)) as never });
    await expect(lambdaGate(new LambdaClient({ region: 'us-east-1' }), 'g')(request)).rejects.toThrow(
      'the gate function failed (Unhandled): Error: cannot read cases: AccessDenied',
    );
  });

  test("no answer within the gate's share of the budget: the invoke is aborted and the release fails with why", async () => {
    let signal: AbortSignal | undefined;
    const hanging = {
      send: (_cmd: unknown, opts: { abortSignal?: AbortSignal }) =>
        new Promise((_resolve, reject) => {
          signal = opts.abortSignal;
          signal?.addEventListener('abort', () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })));
        }),
    } as unknown as LambdaClient;
    await expect(lambdaGate(hanging, 'g', 50)(request)).rejects.toThrow("no answer within 0 s, the gate's share of the config plane's time budget");
    expect(signal?.aborted).toBe(true);
  });

  test('an answer that is not JSON rejects', async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode('null-ish <html>') as never });
    await expect(lambdaGate(new LambdaClient({ region: 'us-east-1' }), 'g')(request)).rejects.toThrow('not JSON');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The live environment's PRE_START_DEPLOYMENT check, against a regression store in s3rver.

describe('the gate check (PRE_START_DEPLOYMENT) over a store in s3rver', () => {
  let s3: Awaited<ReturnType<typeof startS3>>;
  beforeAll(async () => {
    s3 = await startS3();
  });
  afterAll(async () => s3.close());

  const put = async (key: string, body: unknown) =>
    s3Client(s3.endpoint).send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: typeof body === 'string' ? body : JSON.stringify(body) }));
  const records = () => s3GateRecords(s3Client(s3.endpoint), BUCKET);
  /** Versions this environment has served to COMPLETE. */
  const served = (...versions: string[]): DeploymentHistory & { asked: string[] } => {
    const asked: string[] = [];
    return {
      asked,
      async servedComplete(app, env, profile, version) {
        asked.push(`${app}/${env}/${profile}/${version}`);
        return profile === 'prof1' && versions.includes(version);
      },
    };
  };
  const pre = (version: string, over: Partial<PreStartDeploymentEvent> = {}): PreStartDeploymentEvent => ({
    InvocationId: 'inv-1',
    Type: 'PreStartDeployment',
    Parameters: { service: 'assistant', profile: 'prof1' },
    Application: { Id: 'app1' },
    Environment: { Id: 'live1' },
    ConfigurationProfile: { Id: 'prof1', Name: 'assistant-release' },
    DeploymentNumber: 12,
    ConfigurationVersion: version,
    ...over,
  });
  const key = (v: string) => gateKeys('assistant', configGateReleaseKey(v)).json;

  test('a version with a passing record may start', async () => {
    await put(key('21'), report({ target: { functionName: 'f', qualifier: 'gate', configVersion: '21' }, summary: 'passed: 12/12 accepted cases' }));
    const d = await check(pre('21'), records(), served());
    expect(d).toEqual({ allow: true, reason: "version 21 of assistant's release config passed the config gate (passed): passed: 12/12 accepted cases" });
  });

  test('a version with no record, never live here, is refused with where the record was looked for', async () => {
    const d = await check(pre('22'), records(), served());
    expect(d.allow).toBe(false);
    expect(d.reason).toBe(
      `config gate check: version 22 of assistant's release config has no config gate record (s3://${BUCKET}/gates/assistant/config-22.json) and was not served by environment live1 in its recent deployments; release it with cdk deploy, which replays the regression cases through the gate alias first`,
    );
  });

  test('a version whose gate failed is refused with the summary', async () => {
    await put(key('23'), report({ verdict: 'failed', target: { functionName: 'f', qualifier: 'gate', configVersion: '23' }, summary: 'failed: 1 of 12' }));
    const d = await check(pre('23'), records(), served());
    expect(d).toEqual({
      allow: false,
      reason: `config gate check: version 23 of assistant's release config FAILED the config gate: failed: 1 of 12 (s3://${BUCKET}/${key('23')})`,
    });
  });

  test('a record about another version (copied by hand) is not a pass', async () => {
    await put(key('24'), report({ target: { functionName: 'f', qualifier: 'gate', configVersion: '21' } }));
    const d = await check(pre('24'), records(), served());
    expect(d.allow).toBe(false);
    expect(d.reason).toContain('is not usable: it replayed version 21');
  });

  test('stack rollback: the previous version, live before, is allowed without a record (and so is one whose re-gate failed)', async () => {
    const history = served('5', '23');
    expect(await check(pre('5'), records(), history)).toEqual({
      allow: true,
      reason:
        "version 5 of assistant's release config was already served by environment live1 (a deployment of it completed): a rollback or a redeploy of a live version",
    });
    expect((await check(pre('23'), records(), history)).allow).toBe(true);
    expect(history.asked).toEqual(['app1/live1/prof1/5', 'app1/live1/prof1/23']);
  });

  test('an unreadable store does not refuse a version that was live, and refuses any other with the error', async () => {
    const broken = { location: 's3://x', read: async () => Promise.reject(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' })) };
    expect((await check(pre('5'), broken, served('5'))).allow).toBe(true);
    const d = await check(pre('30'), broken, served('5'));
    expect(d).toEqual({
      allow: false,
      reason:
        "config gate check: cannot read the gate record of version 30 of assistant's release config (s3://x/gates/assistant/config-30.json): AccessDenied: Access Denied; refusing",
    });
  });

  test('another profile in the live environment is refused; a broken association fails closed', async () => {
    await put(key('21'), report({ target: { functionName: 'f', qualifier: 'gate', configVersion: '21' } }));
    const other = await check(pre('21', { ConfigurationProfile: { Id: 'degr1' } }), records(), served('21'));
    expect(other.allow).toBe(false);
    expect(other.reason).toContain('serves only the release config profile prof1 of assistant, not profile degr1');
    const noParams = await check(pre('21', { Parameters: {} }), records(), served('21'));
    expect(noParams.allow).toBe(false);
    expect(noParams.reason).toContain('has no "service" or "profile" parameter');
  });

  test('the handler throws the refusal (so AppConfig does not start the deployment) and answers an object without Content on a pass', async () => {
    await put(key('41'), report({ target: { functionName: 'f', qualifier: 'gate', configVersion: '41' } }));
    process.env.AI_RELEASE_GATE_CHECK_BUCKET = BUCKET;
    let handler!: (e: PreStartDeploymentEvent) => Promise<unknown>;
    let restore!: () => void;
    // The handler builds its clients at module scope: in an isolated module registry, its S3 client goes to s3rver
    // and its AppConfig client is mocked (no deployment ever completed in this environment).
    jest.isolateModules(() => {
      const s3m = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
      const acm = require('@aws-sdk/client-appconfig') as typeof import('@aws-sdk/client-appconfig');
      const Original = s3m.S3Client;
      const spy = jest.spyOn(s3m, 'S3Client').mockImplementation(
        () =>
          new Original({
            endpoint: s3.endpoint,
            forcePathStyle: true,
            region: 'us-east-1',
            credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
            maxAttempts: 1,
          }),
      );
      const acMock = mockClient(acm.AppConfigClient);
      acMock.on(acm.ListDeploymentsCommand).resolves({ Items: [] });
      ({ handler } = require('../lambda/config-gate-check/handler'));
      spy.mockRestore();
      restore = () => acMock.restore();
    });
    const logs = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      // AppConfig's documented PRE_* answer: an object; `Content` only when the configuration is to be changed. Not
      // null (what a handler returning nothing answers), and no Content key (which would replace the config).
      const answer = await handler(pre('41'));
      expect(answer).not.toBeNull();
      expect(answer).toEqual({ statusCode: 200 });
      expect(JSON.parse(JSON.stringify(answer))).not.toHaveProperty('Content');
      await expect(handler(pre('99'))).rejects.toThrow("version 99 of assistant's release config has no config gate record");
      expect(logs.mock.calls.map((c) => JSON.parse(c[0] as string))).toEqual([
        expect.objectContaining({ message: 'config gate check', allow: true, version: '41', environment: 'live1' }),
        expect.objectContaining({ message: 'config gate check', allow: false, version: '99' }),
      ]);
    } finally {
      logs.mockRestore();
      restore();
      delete process.env.AI_RELEASE_GATE_CHECK_BUCKET;
    }
  });
});

describe('the gate check answers within its latency budget (slow fakes)', () => {
  const pre = (version: string): PreStartDeploymentEvent => ({
    Parameters: { service: 'assistant', profile: 'prof1' },
    Application: { Id: 'app1' },
    Environment: { Id: 'live1' },
    ConfigurationProfile: { Id: 'prof1' },
    ConfigurationVersion: version,
  });
  /** A port that answers `value` after `ms` (never, when undefined), and records whether its signal aborted. */
  function slow<T>(ms: number | undefined, value: () => T, honoursSignal = true) {
    const state = { calls: 0, aborted: 0 };
    const run = (signal: AbortSignal) =>
      new Promise<T>((resolve, reject) => {
        state.calls++;
        const timer = ms === undefined ? undefined : setTimeout(() => resolve(value()), ms);
        signal.addEventListener('abort', () => {
          state.aborted++;
          if (!honoursSignal) return;
          clearTimeout(timer);
          reject(signal.reason);
        });
      });
    return { state, run };
  }
  const passing = (v: string) => JSON.stringify(report({ target: { functionName: 'f', qualifier: 'gate', configVersion: v } }));
  const timed = async <T>(p: Promise<T>) => {
    const t0 = Date.now();
    const value = await p;
    return { value, ms: Date.now() - t0 };
  };
  const budget = { budgetMs: 300, recordBudgetMs: 150 };

  test('a passing record answers at once: the history is not asked', async () => {
    const s3 = slow(5, () => passing('7'));
    const h = slow(5, () => true);
    const d = await check(pre('7'), { location: 's3://b', read: (_k, sig) => s3.run(sig) }, { servedComplete: (...a) => h.run(a[4]) }, budget);
    expect(d.allow).toBe(true);
    expect(h.state.calls).toBe(0);
  });

  test('a slow store: its read is aborted at its share, and a version the environment served is still allowed (a rollback is not blocked)', async () => {
    const s3 = slow(undefined, () => passing('5'));
    const h = slow(10, () => true);
    const { value: d, ms } = await timed(
      check(pre('5'), { location: 's3://b', read: (_k, sig) => s3.run(sig) }, { servedComplete: (...a) => h.run(a[4]) }, budget),
    );
    expect(d.allow).toBe(true);
    expect(s3.state.aborted).toBe(1);
    expect(ms).toBeGreaterThanOrEqual(140);
    expect(ms).toBeLessThan(300);
  });

  test('a new version with no record and a slow history: refused at the budget (fail closed), naming what timed out', async () => {
    const h = slow(undefined, () => true);
    const { value: d, ms } = await timed(
      check(pre('8'), { location: 's3://b', read: async () => undefined }, { servedComplete: (...a) => h.run(a[4]) }, budget),
    );
    expect(d.allow).toBe(false);
    expect(d.reason).toContain('has no config gate record (s3://b/gates/assistant/config-8.json)');
    expect(d.reason).toContain('whether environment live1 served it is unknown (CheckTimeoutError: the deployment history lookup did not answer within');
    expect(h.state.aborted).toBe(1);
    expect(ms).toBeGreaterThanOrEqual(280);
    expect(ms).toBeLessThan(450);
  });

  test('both slow, and ports that ignore their signal: still one answer within the budget, refused', async () => {
    const s3 = slow(undefined, () => passing('9'), false);
    const h = slow(undefined, () => true, false);
    const { value: d, ms } = await timed(
      check(pre('9'), { location: 's3://b', read: (_k, sig) => s3.run(sig) }, { servedComplete: (...a) => h.run(a[4]) }, budget),
    );
    expect(d.allow).toBe(false);
    expect(d.reason).toContain('cannot read the gate record');
    expect(d.reason).toContain('the gate record read did not answer within 150 ms');
    expect(d.reason).toContain('the deployment history lookup did not answer within');
    expect(ms).toBeLessThan(450);
  });

  test('the defaults: 2 s in all, at most 1 s of it for the record', async () => {
    expect(CHECK_BUDGET_MS).toBe(2000);
    expect(RECORD_BUDGET_MS).toBeLessThan(CHECK_BUDGET_MS);
    const s3 = slow(undefined, () => undefined);
    const h = slow(undefined, () => true);
    const { value: d, ms } = await timed(check(pre('10'), { location: 's3://b', read: (_k, sig) => s3.run(sig) }, { servedComplete: (...a) => h.run(a[4]) }));
    expect(d.allow).toBe(false);
    expect(d.reason).toContain(`did not answer within ${RECORD_BUDGET_MS} ms`);
    expect(ms).toBeGreaterThanOrEqual(CHECK_BUDGET_MS - 50);
    expect(ms).toBeLessThan(CHECK_BUDGET_MS + 400);
  });
});

describe('the deployment history adapter (mocked AppConfig)', () => {
  let appconfig: ReturnType<typeof mockClient>;
  beforeAll(() => {
    appconfig = mockClient(AppConfigClient);
  });
  afterAll(() => appconfig.restore());

  test('COMPLETE deployments of the version are confirmed by profile (version numbers are per profile); one page of the recent ones only', async () => {
    appconfig.on(ListDeploymentsCommand).resolves({
      Items: [
        { DeploymentNumber: 9, State: 'ROLLED_BACK', ConfigurationVersion: '5' },
        { DeploymentNumber: 8, State: 'COMPLETE', ConfigurationVersion: '5' },
        { DeploymentNumber: 2, State: 'COMPLETE', ConfigurationVersion: '4' },
      ],
      NextToken: 'p2',
    });
    appconfig.on(GetDeploymentCommand, { DeploymentNumber: 8 }).resolves({ ConfigurationProfileId: 'degr1', State: 'COMPLETE' });
    appconfig.on(GetDeploymentCommand, { DeploymentNumber: 2 }).resolves({ ConfigurationProfileId: 'prof1', State: 'COMPLETE' });
    const history = appConfigHistory(new AppConfigClient({ region: 'us-east-1' }));
    const signal = new AbortController().signal;
    // Deployment 8 completed version 5 of another profile; 9 (our profile?) rolled back: version 5 was never served.
    expect(await history.servedComplete('app1', 'live1', 'prof1', '5', signal)).toBe(false);
    expect(await history.servedComplete('app1', 'live1', 'prof1', '4', signal)).toBe(true);
    expect(appconfig.commandCalls(GetDeploymentCommand).map((c) => c.args[0].input.DeploymentNumber)).toEqual([8, 2]);
    // One small page, newest first, never the next one: the lookup's cost is bounded.
    const lists = appconfig.commandCalls(ListDeploymentsCommand).map((c) => c.args[0].input);
    expect(lists).toEqual([
      { ApplicationId: 'app1', EnvironmentId: 'live1', MaxResults: RECENT_DEPLOYMENTS },
      { ApplicationId: 'app1', EnvironmentId: 'live1', MaxResults: RECENT_DEPLOYMENTS },
    ]);
    expect(RECENT_DEPLOYMENTS).toBeLessThanOrEqual(50);
  });

  test('every AppConfig call carries the check’s abort signal', async () => {
    appconfig.reset();
    appconfig.on(ListDeploymentsCommand).resolves({ Items: [{ DeploymentNumber: 3, State: 'COMPLETE', ConfigurationVersion: '7' }] });
    appconfig.on(GetDeploymentCommand).resolves({ ConfigurationProfileId: 'prof1', State: 'COMPLETE' });
    const seen: unknown[] = [];
    const client = new AppConfigClient({ region: 'us-east-1' });
    const send = client.send.bind(client);
    client.send = ((cmd: never, opts?: { abortSignal?: unknown }) => {
      seen.push(opts?.abortSignal);
      return send(cmd, opts as never);
    }) as typeof client.send;
    const signal = new AbortController().signal;
    expect(await appConfigHistory(client).servedComplete('app1', 'live1', 'prof1', '7', signal)).toBe(true);
    expect(seen).toEqual([signal, signal]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The runtime's choice of environment.

describe('the runtime reads the candidate environment only through the gate alias', () => {
  const ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:assistant-fn';

  test('the qualifier of the invoked ARN', () => {
    expect(qualifierOf(`${ARN}:gate`)).toBe('gate');
    expect(qualifierOf(`${ARN}:live`)).toBe('live');
    expect(qualifierOf(`${ARN}:12`)).toBe('12');
    expect(qualifierOf(ARN)).toBeUndefined();
    expect(qualifierOf(undefined)).toBeUndefined();
    expect(invokedThroughGate({ invokedFunctionArn: `${ARN}:gate` })).toBe(true);
    for (const arn of [`${ARN}:live`, `${ARN}:7`, ARN, `${ARN}:gatex`, 'arn:aws:lambda:eu-west-1:123456789012:function:gate']) {
      expect(invokedThroughGate({ invokedFunctionArn: arn })).toBe(false);
    }
    expect(invokedThroughGate({})).toBe(false);
  });

  /** A config port that serves one environment's documents and counts reads. */
  function envConfig(label: string, reads: string[]): ConfigPort {
    const release = {
      prompt: { template: `${label}: {{q}}` },
      model: { provider: 'bedrock', modelId: `${label}-model`, pricing: { inputPer1kTokensUsd: 0, outputPer1kTokensUsd: 0 } },
      tools: { tools: [] },
      outputContract: { schema: { type: 'object' } },
      _release: { service: 'assistant', label: `cfg-${label}`, contentHash: label, sections: {} },
    };
    return {
      async get(profile: string) {
        reads.push(`${label}:${profile}`);
        return profile === 'rel' ? { content: release, version: label, stale: false } : { content: { values: {} }, version: 'd', stale: false };
      },
    } as unknown as ConfigPort;
  }
  const telemetry = (name: string, lines: string[]): TelemetryPort => ({
    invocation: (t) => lines.push(`${name} invocation ${t.config}`),
    failure: (r) => lines.push(`${name} failure ${r.type}`),
    warn: () => undefined,
    stamp: () => undefined,
  });

  test('live and candidate each have their own runtime; the alias picks per invocation, warm or not', async () => {
    const reads: string[] = [];
    const lines: string[] = [];
    const rt = createAiRuntime<{ q: string }, { model: string }>({
      env: {
        [ENV.SERVICE]: 'assistant',
        [ENV.APPCONFIG_APPLICATION]: 'app1',
        [ENV.APPCONFIG_ENVIRONMENT]: 'live1',
        [ENV.CONFIG_PROFILE]: 'rel',
        [ENV.DEGRADE_PROFILE]: 'deg',
        [CONFIG_GATE_ENV.CANDIDATE_ENVIRONMENT]: 'cand1',
      },
      config: envConfig('live', reads),
      candidateConfig: envConfig('candidate', reads),
      telemetry: telemetry('live', lines),
      candidateTelemetry: telemetry('gate', lines),
    });
    expect(rt).toBeInstanceOf(GateSelectingRuntime);
    const handler = rt.handler(async (_in, ctx) => ({ output: { model: ctx.model.modelId } }));
    const ctx = (qualifier?: string): InvocationContext => ({
      awsRequestId: 'r',
      invokedFunctionArn: qualifier ? `${ARN}:${qualifier}` : ARN,
      getRemainingTimeInMillis: () => 10_000,
    });
    expect(await handler({ q: 'a' }, ctx('live'))).toEqual({ model: 'live-model' });
    // Live traffic never builds (nor reads) the candidate runtime.
    expect(reads.some((r) => r.startsWith('candidate'))).toBe(false);
    expect(await handler({ q: 'a' }, ctx('gate'))).toEqual({ model: 'candidate-model' });
    expect(await handler({ q: 'a' }, ctx('live'))).toEqual({ model: 'live-model' });
    expect(await handler({ q: 'a' }, ctx('9'))).toEqual({ model: 'live-model' });
    expect(await handler({ q: 'a' }, ctx())).toEqual({ model: 'live-model' });
    expect(reads.filter((r) => r.startsWith('candidate:rel'))).toHaveLength(1);
    expect(lines).toEqual([
      'live invocation cfg-live',
      'gate invocation cfg-candidate',
      'live invocation cfg-live',
      'live invocation cfg-live',
      'live invocation cfg-live',
    ]);
  });

  test('the candidate runtime is built on the first gate invocation only, once', async () => {
    const lines: string[] = [];
    const mk = (label: string) =>
      new AiRuntime<{ q: string }, { m: string }>({
        service: 'assistant',
        releaseProfile: 'rel',
        degradeProfile: 'deg',
        codeVersion: '3',
        config: envConfig(label, []),
        telemetry: telemetry(label, lines),
      });
    let built = 0;
    const rt = new GateSelectingRuntime(mk('live'), () => {
      built++;
      return mk('candidate');
    });
    const h = rt.handler(async (_i, ctx) => ({ output: { m: ctx.model.modelId } }));
    await h({ q: 'x' }, { invokedFunctionArn: `${ARN}:live` });
    expect(built).toBe(0);
    await h({ q: 'x' }, { invokedFunctionArn: `${ARN}:gate` });
    await h({ q: 'x' }, { invokedFunctionArn: `${ARN}:gate` });
    expect(built).toBe(1);
    expect(lines).toEqual(['live invocation cfg-live', 'candidate invocation cfg-candidate', 'candidate invocation cfg-candidate']);
  });

  test('without a candidate environment the runtime is the single live runtime, as before', () => {
    const rt = createAiRuntime({
      env: { [ENV.SERVICE]: 's', [ENV.APPCONFIG_APPLICATION]: 'a', [ENV.APPCONFIG_ENVIRONMENT]: 'e', [ENV.CONFIG_PROFILE]: 'p', [ENV.DEGRADE_PROFILE]: 'd' },
      config: { get: async () => ({ content: {}, stale: false }) } as unknown as ConfigPort,
      telemetry: telemetry('x', []),
    });
    expect(rt).toBeInstanceOf(AiRuntime);
  });

  test('gate replays never feed the snapshot filter: their failure records carry the replay type, not the failure type', () => {
    const lines: Record<string, unknown>[] = [];
    const inner = telemetry('inner', []);
    const t = new GateReplayTelemetry(inner, (l) => lines.push(l));
    t.failure({ type: FAILURE_RECORD_TYPE, kinds: ['contract'], kind: 'contract', service: 'assistant', requestId: 'r1' } as never);
    expect(lines).toHaveLength(1);
    expect(lines[0].type).toBe(GATE_REPLAY_FAILURE_TYPE);
    expect(lines[0].type).not.toBe(FAILURE_RECORD_TYPE);
    expect(lines[0]).toMatchObject({ requestId: 'r1', kinds: ['contract'] });
  });
});
