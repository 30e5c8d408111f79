/**
 * The gate's CodeDeploy hook and config request, end to end over real adapters: cases in s3rver (S3 protocol on
 * loopback), Lambda and CodeDeploy through aws-sdk-client-mock. Every hook test asserts the status sent to CodeDeploy.
 */
import { CodeDeployClient, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { codeDeployPort, lambdaInvoker, s3GateStore } from '../lambda/gate/aws-adapters';
import { DEFAULT_GATE_SETTINGS, type GateSettings } from '../lambda/gate/gate';
import { type HookPorts, runCodeHook, runConfigGate } from '../lambda/gate/hook';
import type { GateStore } from '../lambda/gate/ports';
import {
  type ConfigGateRequest,
  GATE_ALIAS_NAME,
  GATE_CLIENT_CONTEXT_KEY,
  GATE_DEPLOYMENT_ENV,
  GATE_ENV,
  GATE_METRIC,
  GATE_RESPONSE_KEY,
  type GateReport,
  gateKeys,
  LEARNING_ENV,
  type RegressionCase,
} from '../lambda/shared/contract';
import { gateCase } from './gate-fixtures';
import { BUCKET, s3Client, startS3 } from './s3rver-harness';

let s3: Awaited<ReturnType<typeof startS3>>;
let client: S3Client;
beforeAll(async () => {
  s3 = await startS3();
  client = s3Client(s3.endpoint);
});
afterAll(async () => {
  client?.destroy();
  await s3?.close();
});

const appSpec = (fn = 'svc-fn', target = '7') =>
  JSON.stringify({
    version: 0.0,
    Resources: [{ svc: { Type: 'AWS::Lambda::Function', Properties: { Name: fn, Alias: 'live', CurrentVersion: '6', TargetVersion: target } } }],
    Hooks: [{ BeforeAllowTraffic: 'gate-fn' }],
  });

const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
/** The runtime's answer to a gate invocation. */
const verdict = (kinds: string[] = [], extra: Record<string, unknown> = {}) =>
  enc({
    [GATE_RESPONSE_KEY]: { output: { answer: 'ok' }, kinds, details: kinds.map((k) => `${k}: found`), latencyMs: 40, degraded: false, tuple: {}, ...extra },
  });

interface Setup {
  service: string;
  cases?: RegressionCase[];
  settings?: Partial<GateSettings>;
  /** Answer per case input (JSON text); default: a clean verdict. */
  answer?: (
    input: string,
    qualifier: string | undefined,
  ) => Promise<{ Payload?: Uint8Array; FunctionError?: string }> | { Payload?: Uint8Array; FunctionError?: string };
  deployment?: Record<string, unknown> | Error;
  store?: (s: GateStore) => GateStore;
  answerInMs?: number;
  reportReserveMs?: number;
}

async function setup(o: Setup) {
  const store = s3GateStore(client, BUCKET, () => 60_000);
  for (const c of o.cases ?? []) await store.put(`cases/${o.service}/${c.state}/${c.caseId}.json`, JSON.stringify({ ...c, service: o.service }));
  const lambda = new LambdaClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const lambdaMock = mockClient(lambda);
  lambdaMock.on(InvokeCommand).callsFake(async (input) => {
    const payload = new TextDecoder().decode(input.Payload as Uint8Array);
    const r = o.answer ? await o.answer(payload, input.Qualifier) : { Payload: verdict() };
    return { StatusCode: 200, ...r };
  });
  const cd = new CodeDeployClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const cdMock = mockClient(cd);
  if (o.deployment instanceof Error) cdMock.on(GetDeploymentCommand).rejects(o.deployment);
  else
    cdMock.on(GetDeploymentCommand).resolves({
      deploymentInfo: {
        applicationName: 'app',
        deploymentGroupName: 'group',
        creator: 'CloudFormation',
        revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec() } },
        ...o.deployment,
      },
    });
  cdMock.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
  const logs: string[] = [];
  const ports: HookPorts = {
    store: o.store ? o.store(store) : store,
    invoker: lambdaInvoker(lambda, 'svc-fn'),
    deployments: codeDeployPort(cd),
    clock: { now: () => Date.now() },
    log: (l) => logs.push(l),
    sleep: (ms) => new Promise<void>((r) => setTimeout(r, ms).unref()),
  };
  const options = {
    service: o.service,
    targetFunction: 'svc-fn',
    deploymentGroup: { application: 'app', name: 'group' },
    settings: { ...DEFAULT_GATE_SETTINGS, ...o.settings },
    answerBy: Date.now() + (o.answerInMs ?? 20_000),
    reportReserveMs: o.reportReserveMs ?? 1000,
  };
  const sent = () => cdMock.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input);
  const stored = async (releaseKey: string): Promise<GateReport | undefined> => {
    const got = await store.get(gateKeys(o.service, releaseKey).json);
    return got ? (JSON.parse(got.body) as GateReport) : undefined;
  };
  return { ports, options, lambdaMock, sent, stored, logs, store };
}

const event = { DeploymentId: 'd-ABC123', LifecycleEventHookExecutionId: 'hook-1' };
const accepted = (n: number, over: Partial<RegressionCase> = {}) => Array.from({ length: n }, () => gateCase(over));

describe('the CodeDeploy pre-traffic hook', () => {
  test('pass: every accepted case passes on the version from the AppSpec → Succeeded, report written, metric emitted', async () => {
    const s = await setup({ service: 'svc-pass', cases: accepted(3) });
    const r = await runCodeHook(event, s.ports, s.options);
    expect(s.sent()).toEqual([{ deploymentId: 'd-ABC123', lifecycleEventHookExecutionId: 'hook-1', status: 'Succeeded' }]);
    expect(r.status).toBe('Succeeded');
    // The version replayed against is the AppSpec's TargetVersion, with the ClientContext asking for the runtime's verdict.
    const calls = s.lambdaMock.commandCalls(InvokeCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => `${c.FunctionName}:${c.Qualifier}`))).toEqual(new Set(['svc-fn:7']));
    expect(JSON.parse(Buffer.from(calls[0].ClientContext!, 'base64').toString('utf8'))).toEqual({ custom: { [GATE_CLIENT_CONTEXT_KEY]: '1' } });
    const report = await s.stored('code-d-ABC123');
    expect(report?.verdict).toBe('passed');
    expect(report?.blocking).toEqual({ total: 3, selected: 3, passed: 3, failed: 0, notRun: 0 });
    expect(report?.target).toEqual({ functionName: 'svc-fn', qualifier: '7' });
    expect((await s.store.get(gateKeys('svc-pass', 'code-d-ABC123').md))?.body).toMatch(/# Regression gate: svc-pass — PASSED/);
    const emf = s.logs.map((l) => JSON.parse(l)).find((l) => l._aws);
    expect(emf).toMatchObject({ Service: 'svc-pass', [GATE_METRIC.PASSED]: 1, [GATE_METRIC.PASS_RATE]: 1 });
  });

  test('fail: one case breaks the contract on the new version → Failed, the case and its reason in the report', async () => {
    const cases = accepted(3);
    const bad = cases[1];
    const s = await setup({ service: 'svc-fail', cases, answer: (input) => ({ Payload: input === bad.input ? verdict(['contract']) : verdict() }) });
    await runCodeHook(event, s.ports, s.options);
    expect(s.sent().map((x) => x.status)).toEqual(['Failed']);
    const report = (await s.stored('code-d-ABC123'))!;
    expect(report.verdict).toBe('failed');
    expect(report.cases[0]).toMatchObject({ caseId: bad.caseId, outcome: 'failed', reasons: ['contract: found'] });
    expect(report.summary).toMatch(/2\/3 blocking cases passed/);
  });

  test('partial: 1 of 4 fails — Succeeded at passRate 0.75, Failed at the default (every case)', async () => {
    const cases = accepted(4);
    const answer = (input: string) =>
      input === cases[0].input ? { FunctionError: 'Unhandled', Payload: enc({ errorType: 'Error', errorMessage: 'boom' }) } : { Payload: verdict() };
    const lenient = await setup({ service: 'svc-partial-a', cases, answer, settings: { passRate: 0.75 } });
    await runCodeHook(event, lenient.ports, lenient.options);
    expect(lenient.sent().map((x) => x.status)).toEqual(['Succeeded']);
    const strict = await setup({ service: 'svc-partial-b', cases, answer });
    await runCodeHook(event, strict.ports, strict.options);
    expect(strict.sent().map((x) => x.status)).toEqual(['Failed']);
    expect((await strict.stored('code-d-ABC123'))!.cases[0].reasons).toEqual(['error: Error: boom']);
  });

  test('empty store (the first release): Succeeded with passed-empty and the note', async () => {
    const s = await setup({ service: 'svc-empty' });
    await runCodeHook(event, s.ports, s.options);
    expect(s.sent().map((x) => x.status)).toEqual(['Succeeded']);
    const report = (await s.stored('code-d-ABC123'))!;
    expect(report.verdict).toBe('passed-empty');
    expect(report.summary).toMatch(/no accepted case to replay yet/);
    expect(s.lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  test('crash: GetDeployment denied → Failed, with the error in the report', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform: codedeploy:GetDeployment'), { name: 'AccessDeniedException' });
    const s = await setup({ service: 'svc-crash', cases: accepted(1), deployment: denied });
    await runCodeHook(event, s.ports, s.options);
    expect(s.sent().map((x) => x.status)).toEqual(['Failed']);
    const report = (await s.stored('code-d-ABC123'))!;
    expect(report.verdict).toBe('failed');
    expect(report.error).toMatch(/AccessDeniedException: User is not authorized/);
  });

  test('crash: a case object the gate cannot read (unknown schema) → Failed, not a silent pass', async () => {
    const s = await setup({ service: 'svc-bad-case' });
    await s.store.put('cases/svc-bad-case/accepted/x.json', JSON.stringify({ schemaVersion: 9 }));
    await runCodeHook(event, s.ports, s.options);
    expect(s.sent().map((x) => x.status)).toEqual(['Failed']);
    expect((await s.stored('code-d-ABC123'))!.error).toMatch(/schemaVersion 9 is not supported/);
  });

  test('a malformed case file and one whose body disagrees with its key: Failed with both reasons, not a crash, not passed-empty', async () => {
    const s = await setup({ service: 'svc-disagree' });
    await s.store.put(`cases/svc-disagree/accepted/${'a'.repeat(32)}.json`, JSON.stringify({ schemaVersion: 1, caseId: 'a'.repeat(32), state: 'retired' }));
    await s.store.put(`cases/svc-disagree/accepted/${'b'.repeat(32)}.json`, '{ not json');
    await runCodeHook(event, s.ports, s.options);
    expect(s.sent().map((x) => x.status)).toEqual(['Failed']);
    const report = (await s.stored('code-d-ABC123'))!;
    expect(report.verdict).toBe('failed');
    expect(report.error).toBeUndefined();
    expect(report.cases.map((c) => c.reasons.join(' ')).sort()).toEqual([
      expect.stringMatching(/accepted\/a{32}\.json: its body says state "retired"/),
      expect.stringMatching(/accepted\/b{32}\.json: not valid JSON/),
    ]);
  });

  test('timeout: a store that never answers — the hook still answers Failed before its own deadline', async () => {
    const hang = (st: GateStore): GateStore => ({ ...st, list: () => new Promise(() => {}) });
    const s = await setup({ service: 'svc-hang', cases: accepted(1), store: hang, answerInMs: 600, reportReserveMs: 200 });
    const t0 = Date.now();
    const r = await runCodeHook(event, s.ports, s.options);
    const took = Date.now() - t0;
    expect(s.sent().map((x) => x.status)).toEqual(['Failed']);
    expect(took).toBeLessThan(600 + 300);
    expect(r.report?.deadlineReached).toBe(true);
    expect(r.report?.error).toMatch(/did not finish before its own deadline/);
  });

  test('timeout: a version that never answers — cases cut by the deadline count as not passed, Failed in time', async () => {
    const s = await setup({
      service: 'svc-slow',
      cases: accepted(3),
      answer: () => new Promise(() => {}),
      settings: { caseTimeoutMs: 60_000 },
      answerInMs: 1500,
      reportReserveMs: 500,
    });
    const t0 = Date.now();
    await runCodeHook(event, s.ports, s.options);
    expect(Date.now() - t0).toBeLessThan(1500 + 300);
    expect(s.sent().map((x) => x.status)).toEqual(['Failed']);
    const report = (await s.stored('code-d-ABC123'))!;
    expect(report.deadlineReached).toBe(true);
    expect(report.blocking).toMatchObject({ selected: 3, passed: 0, notRun: 3 });
  });

  test('a case over its per-case timeout fails as a timeout, the others still run', async () => {
    const cases = accepted(3);
    const s = await setup({
      service: 'svc-case-timeout',
      cases,
      answer: (input) => (input === cases[2].input ? new Promise(() => {}) : { Payload: verdict() }),
      settings: { caseTimeoutMs: 200, passRate: 0.5 },
    });
    await runCodeHook(event, s.ports, s.options);
    expect(s.sent().map((x) => x.status)).toEqual(['Succeeded']);
    const report = (await s.stored('code-d-ABC123'))!;
    expect(report.cases.find((c) => c.caseId === cases[2].caseId)).toMatchObject({
      outcome: 'failed',
      reasons: [expect.stringMatching(/^timeout: no answer within/)],
    });
  });

  test('bounded concurrency: never more than `concurrency` invocations in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const s = await setup({
      service: 'svc-conc',
      cases: accepted(12),
      settings: { concurrency: 3 },
      answer: async () => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight -= 1;
        return { Payload: verdict() };
      },
    });
    await runCodeHook(event, s.ports, s.options);
    expect(peak).toBe(3);
    expect(s.sent().map((x) => x.status)).toEqual(['Succeeded']);
  });

  test('a rollback deployment is never gated: Succeeded at once, nothing invoked', async () => {
    const s = await setup({
      service: 'svc-rollback',
      cases: accepted(2),
      answer: () => ({ Payload: verdict(['error']) }),
      deployment: { creator: 'CloudFormationRollback' },
    });
    await runCodeHook(event, s.ports, s.options);
    expect(s.sent().map((x) => x.status)).toEqual(['Succeeded']);
    expect(s.lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  test('a deployment of another group or function is refused (Failed): the gate only passes what it gates', async () => {
    const other = await setup({ service: 'svc-other', cases: accepted(1), deployment: { deploymentGroupName: 'someone-else' } });
    await runCodeHook(event, other.ports, other.options);
    expect(other.sent().map((x) => x.status)).toEqual(['Failed']);
    const fn = await setup({
      service: 'svc-other-fn',
      cases: accepted(1),
      deployment: { revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec('another-fn') } } },
    });
    await runCodeHook(event, fn.ports, fn.options);
    expect(fn.sent().map((x) => x.status)).toEqual(['Failed']);
    expect((await fn.stored('code-d-ABC123'))!.error).toMatch(/moves another-fn, not the gated function svc-fn/);
  });
});

describe('the config plane request', () => {
  const request = (over: Partial<ConfigGateRequest> = {}): ConfigGateRequest => ({
    kind: 'ai-release.config-gate',
    service: 'svc-config',
    configVersion: '12',
    configLabel: 'cfg-abc',
    qualifier: GATE_ALIAS_NAME,
    ...over,
  });

  test('replays through the gate alias and returns the report, written under config-<version>', async () => {
    const cases = accepted(2);
    const s = await setup({ service: 'svc-config', cases, answer: (input) => ({ Payload: input === cases[0].input ? verdict(['safety']) : verdict() }) });
    const report = await runConfigGate(request(), s.ports, s.options);
    expect(report.verdict).toBe('failed');
    expect(report.releaseKey).toBe('config-12');
    expect(report.target).toEqual({ functionName: 'svc-fn', qualifier: 'gate', configVersion: '12', configLabel: 'cfg-abc' });
    expect(new Set(s.lambdaMock.commandCalls(InvokeCommand).map((c) => c.args[0].input.Qualifier))).toEqual(new Set(['gate']));
    expect((await s.stored('config-12'))?.verdict).toBe('failed');
    expect(s.sent()).toEqual([]); // no CodeDeploy on this plane
  });

  test('a bad request names the field', async () => {
    const s = await setup({ service: 'svc-config' });
    await expect(runConfigGate(request({ qualifier: 'live' }), s.ports, s.options)).rejects.toThrow(/qualifier must be "gate"/);
    await expect(runConfigGate(request({ service: 'other' }), s.ports, s.options)).rejects.toThrow(/service is "other", but this gate serves "svc-config"/);
    await expect(runConfigGate(request({ configVersion: '' }), s.ports, s.options)).rejects.toThrow(/configVersion must be/);
  });
});

describe('handler.ts (environment and dispatch)', () => {
  const env = {
    [GATE_ENV.SERVICE]: 'svc-handler',
    [GATE_ENV.TARGET_FUNCTION]: 'svc-fn',
    [GATE_ENV.CASE_CAP]: '50',
    [LEARNING_ENV.BUCKET]: 'store-bucket',
    [GATE_DEPLOYMENT_ENV.APPLICATION]: 'app',
    [GATE_DEPLOYMENT_ENV.DEPLOYMENT_GROUP]: 'group',
  };
  const saved: Record<string, string | undefined> = {};
  beforeAll(() => {
    for (const [k, v] of Object.entries(env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    process.env.AWS_REGION ??= 'eu-west-1';
  });
  afterAll(() => {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });

  /** The handler builds its clients at module scope: load it and the SDK in one isolated registry, and mock there. */
  function loadHandler() {
    let handler!: (e: unknown, c: { getRemainingTimeInMillis(): number }) => Promise<unknown>;
    let sdk!: { s3: typeof import('@aws-sdk/client-s3'); cd: typeof import('@aws-sdk/client-codedeploy') };
    let s3m!: ReturnType<typeof mockClient>;
    let cdm!: ReturnType<typeof mockClient>;
    jest.isolateModules(() => {
      sdk = { s3: require('@aws-sdk/client-s3'), cd: require('@aws-sdk/client-codedeploy') };
      s3m = mockClient(sdk.s3.S3Client);
      s3m.on(sdk.s3.ListObjectsV2Command).resolves({ Contents: [] });
      s3m.on(sdk.s3.PutObjectCommand).resolves({});
      cdm = mockClient(sdk.cd.CodeDeployClient);
      cdm.on(sdk.cd.GetDeploymentCommand).resolves({
        deploymentInfo: {
          applicationName: 'app',
          deploymentGroupName: 'group',
          revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec() } },
        },
      });
      cdm.on(sdk.cd.PutLifecycleEventHookExecutionStatusCommand).resolves({});
      handler = require('../lambda/gate/handler').handler;
    });
    const statuses = () => cdm.commandCalls(sdk.cd.PutLifecycleEventHookExecutionStatusCommand).map((c) => (c.args[0].input as { status: string }).status);
    const restore = () => {
      s3m.restore();
      cdm.restore();
    };
    return { handler, sdk, s3m, statuses, restore };
  }
  const ctx = { getRemainingTimeInMillis: () => 60_000 };

  test('a hook event on an empty store: Succeeded sent, the report PUT under gates/', async () => {
    const h = loadHandler();
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await expect(h.handler(event, ctx)).resolves.toMatchObject({ status: 'Succeeded' });
      expect(h.statuses()).toEqual(['Succeeded']);
      expect(h.s3m.commandCalls(h.sdk.s3.PutObjectCommand).map((c) => (c.args[0].input as { Key: string }).Key)).toEqual([
        'gates/svc-handler/code-d-ABC123.md',
        'gates/svc-handler/code-d-ABC123.json',
      ]);
      await expect(h.handler({ hello: 1 }, ctx)).rejects.toThrow(/takes a CodeDeploy lifecycle hook event/);
    } finally {
      out.mockRestore();
      h.restore();
    }
  });

  test('misconfigured (a bad setting in the environment): a hook event is still answered Failed, and the error names the variable', async () => {
    process.env[GATE_ENV.PASS_RATE] = '2';
    const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const h = loadHandler();
    try {
      await expect(h.handler(event, ctx)).rejects.toThrow(`${GATE_ENV.PASS_RATE} must be a number between 0 and 1, got "2"`);
      expect(h.statuses()).toEqual(['Failed']);
    } finally {
      delete process.env[GATE_ENV.PASS_RATE];
      err.mockRestore();
      h.restore();
    }
  });
});
