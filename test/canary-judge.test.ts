import { lambdaAppSpecContent, parseLambdaAppSpec } from '../lambda/shared/appspec';
import { isHookEvent, isTickEvent, type JudgeSettings, runAfterTrafficHook, runConfigTick, runSchedule } from '../lambda/canary-judge/canary-judge';
import { INGESTION_LAG_MS, parseInsightsTimestamp, parseRow, QUERY_FIELDS, type QueryRow, samplesQuery, windowSamples } from '../lambda/canary-judge/samples';
import { PowertoolsTelemetry } from '../lambda/runtime';
import { judgeKey, type VersionTuple } from '../lambda/shared/contract';
import { ENGINE } from '../lambda/canary-judge/engine';
import { fakeEngine, fakePorts, insightsTime, rowOf, T0, traffic } from './canary-judge-fakes';

const S: JudgeSettings = { service: 'svc', alpha: 0.01, periodMs: 10_000, afterTrafficBoundMs: 600_000 };
const MIN = 60_000;

describe('samples from the runtime EMF lines', () => {
  test("the query's fields are the ones the runtime writes, and a line parses to an observation", () => {
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((c: string) => {
      lines.push(String(c));
      return true;
    }) as typeof process.stdout.write);
    const tuple: VersionTuple = {
      service: 'svc',
      codeVersion: '42',
      config: 'cfg-abc123',
      prompt: '1',
      model: '1',
      retrieval: 'none',
      tools: 'none',
      outputContract: '1',
      degrade: 'v1',
    };
    try {
      new PowertoolsTelemetry('svc').invocation(tuple, 'req-1', {
        error: true,
        latencyMs: 1234,
        costUsd: 0.002,
        inputTokens: 10,
        outputTokens: 20,
        qualityScore: 0.8,
        safetyViolation: true,
        contractViolation: false,
        degraded: false,
        caseId: 'c0ffee',
      });
    } finally {
      spy.mockRestore();
    }
    const doc = JSON.parse(lines.join('').trim().split('\n')[0]);
    // Logs Insights discovers the top-level keys of a JSON log event as fields.
    const row: QueryRow = [
      { field: '@timestamp', value: insightsTime(doc._aws.Timestamp) },
      ...Object.entries(doc)
        .filter(([, v]) => typeof v !== 'object')
        .map(([field, v]) => ({ field, value: String(v) })),
    ];
    // Absent here: a counter that did not happen, and the assignment fields (no config canary assigned this request).
    for (const f of QUERY_FIELDS.filter((x) => x !== '@timestamp' && x !== 'ContractViolations' && !x.startsWith('assignment'))) expect(doc).toHaveProperty(f);
    expect(samplesQuery('svc')).toContain('filter Service = "svc" and ispresent(Invocations)');
    expect(parseRow(row)).toEqual({
      at: doc._aws.Timestamp,
      codeVersion: '42',
      configLabel: 'cfg-abc123',
      error: true,
      safety: true,
      contract: false,
      latencyMs: 1234,
      costUsd: 0.002,
      quality: 0.8,
      cluster: 'c0ffee', // retries of one input fold into one cluster
      // the execution environment (no AWS_LAMBDA_LOG_STREAM_NAME outside Lambda: the id drawn at init)
      environment: doc.environment,
    });
    expect(doc.environment).toMatch(/^env-[0-9a-f]{16}$/);
  });

  test('clusters: an assigned conversation is the unit (its key and assigned share); otherwise the input case id', () => {
    const base = [
      { field: '@timestamp', value: '2026-11-27 09:00:00.000' },
      { field: 'Version', value: '2' },
    ];
    const conv = parseRow([
      ...base,
      { field: 'caseId', value: 'case-1' },
      { field: 'assignmentUnit', value: 'u-1' },
      { field: 'assignmentUnitKind', value: 'conversation' },
      { field: 'assignmentShare', value: '0.1' },
    ]);
    expect([conv.cluster, conv.share]).toEqual(['u-1', 0.1]);
    // a request the caller gave no conversation for is its own unit: the case id still clusters its retries
    const req = parseRow([
      ...base,
      { field: 'caseId', value: 'case-1' },
      { field: 'assignmentUnit', value: 'u-2' },
      { field: 'assignmentUnitKind', value: 'request' },
      { field: 'assignmentShare', value: '0.1' },
    ]);
    expect([req.cluster, req.share]).toEqual(['case-1', undefined]);
    expect(parseRow(base).cluster).toBeUndefined();
    const w = windowSamples(
      [
        [...base, { field: 'caseId', value: 'case-1' }],
        [
          ...base,
          { field: 'assignmentUnit', value: 'u-1' },
          { field: 'assignmentUnitKind', value: 'conversation' },
          { field: 'assignmentShare', value: '0.5' },
        ],
      ],
      Date.parse('2026-11-27T09:00:00Z'),
      Date.parse('2026-11-27T09:01:00Z'),
      { plane: 'code', canary: '2', stable: '1' },
    );
    expect(w.observations.map((o) => [o.cluster, o.share])).toEqual([
      ['case-1', undefined],
      ['u-1', 0.5],
    ]);
  });

  test('@timestamp in the forms Logs Insights prints, UTC; anything else is refused', () => {
    const base = Date.parse('2026-11-27T09:00:00Z');
    expect(parseInsightsTimestamp('2026-11-27 09:00:00.123')).toBe(base + 123);
    expect(parseInsightsTimestamp('2026-11-27 09:00:00.1')).toBe(base + 100);
    expect(parseInsightsTimestamp('2026-11-27 09:00:00')).toBe(base);
    expect(parseInsightsTimestamp('2026-11-27T09:00:01.007Z')).toBe(base + 1007);
    expect(() => parseInsightsTimestamp('27/11/2026 09:00')).toThrow('unreadable @timestamp "27/11/2026 09:00"');
    expect(() => parseInsightsTimestamp('2026-11-27 09:00:00,5')).toThrow('unreadable @timestamp');
  });

  test('a service name that could break out of the query string is refused', () => {
    expect(() => samplesQuery('svc" or 1=1')).toThrow('is not a service name (lower-case letters, digits and dashes)');
  });

  test('a window cut at the row limit leaves its last millisecond for the next window; other versions and times are dropped', () => {
    const sides = { plane: 'code' as const, canary: '2', stable: '1' };
    const rows = [
      rowOf({ at: T0 - 1, version: '2' }), // before the window
      rowOf({ at: T0, version: '2', error: true }),
      rowOf({ at: T0 + 5, version: '9' }), // neither side
      rowOf({ at: T0 + 7, version: '1' }),
      rowOf({ at: T0 + 7, version: '2' }),
    ];
    const w = windowSamples(rows, T0, T0 + 1000, sides, 5);
    expect(w.truncated).toBe(true);
    expect(w.until).toBe(T0 + 7);
    expect(w.observations.map((o) => [o.version, o.at, o.error])).toEqual([['canary', T0, true]]);
    const all = windowSamples(rows, T0, T0 + 1000, sides);
    expect(all.truncated).toBe(false);
    expect(all.until).toBe(T0 + 1000);
    expect(all.observations.map((o) => o.version)).toEqual(['canary', 'stable', 'canary']);
  });

  test('the versions of a Lambda deployment come from its AppSpec content, JSON or YAML, in either revision form', () => {
    const json = JSON.stringify({
      version: 0.0,
      Resources: [{ fn: { Type: 'AWS::Lambda::Function', Properties: { Name: 'f', Alias: 'live', CurrentVersion: '3', TargetVersion: '4' } } }],
    });
    expect(parseLambdaAppSpec(lambdaAppSpecContent('d-1', { appSpecContent: { content: json } }))).toMatchObject({ currentVersion: '3', targetVersion: '4' });
    const yaml =
      'version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: f\n        Alias: live\n        CurrentVersion: 7\n        TargetVersion: 8\n';
    // a String revision (revision.string.content), as the regression gate reads it too
    expect(parseLambdaAppSpec(lambdaAppSpecContent('d-2', { revisionType: 'String', string: { content: yaml } }))).toMatchObject({
      currentVersion: '7',
      targetVersion: '8',
    });
    expect(() => lambdaAppSpecContent('d-3', { revisionType: 'S3' })).toThrow('deployment d-3 has no AppSpec content (revisionType S3');
    expect(() => parseLambdaAppSpec('{"Resources":[{"svc":{"Type":"AWS::ECS::Service","Properties":{}}}]}')).toThrow('is this a Lambda deployment?');
  });

  test('events are told apart: a lifecycle hook, an AppConfig tick, anything else', () => {
    expect(isHookEvent({ DeploymentId: 'd-1', LifecycleEventHookExecutionId: 'x' })).toBe(true);
    expect(isHookEvent({ DeploymentId: 'd-1' })).toBe(false);
    expect(isTickEvent({ Type: 'AtDeploymentTick' })).toBe(true);
    expect(isTickEvent({ Type: 'OnDeploymentComplete' })).toBe(false);
  });
});

const deployment = { id: 'd-ABC', current: '1', target: '2', createdAt: T0 - 3 * MIN, trafficStartedAt: T0 - 2 * MIN };

describe('the schedule (rate 1 minute)', () => {
  test('no deployment in progress: one list call, no query, no metric', async () => {
    const f = fakePorts({ deployments: [{ ...deployment, inProgress: false }] });
    expect(await runSchedule(f.ports, S, T0 + 50_000)).toEqual({ deployments: 0, cycles: 0 });
    expect(f.deployments.listCalls).toBe(1);
    expect(f.logs.calls).toHaveLength(0);
    expect(f.verdict.published).toHaveLength(0);
  });

  test('a good canary: judged every period until the minute ends, each sample once, verdict 0 each cycle', async () => {
    const lines = traffic({
      from: T0 - 2 * MIN,
      to: T0 + MIN,
      rps: 5,
      canary: '2',
      stable: '1',
      canaryShare: 0.1,
      canaryErrorEvery: 100,
      stableErrorEvery: 100,
    });
    const f = fakePorts({ lines, deployments: [deployment] });
    const out = await runSchedule(f.ports, S, T0 + 50_000);
    expect(out).toEqual({ deployments: 1, cycles: 5, verdict: 0 });
    expect(f.verdict.published.map((p) => [p.plane, p.value, p.at - T0])).toEqual([0, 10, 20, 30, 40].map((s) => ['code', 0, s * 1000]));
    const record = f.state.objects.get(judgeKey('svc', 'code-d-ABC'))!;
    expect(record.until).toBe(T0 + 40_000 - INGESTION_LAG_MS);
    const judged = lines.filter((l) => l.at >= deployment.trafficStartedAt && l.at < record.until);
    expect(record.samples.canary + record.samples.stable).toBe(judged.length);
    expect(f.batches.reduce((n, b) => n + b.observations.length, 0)).toBe(judged.length);
    // the canary's share is its observed share of each batch
    for (const b of f.batches) expect(b.canaryShare).toBeCloseTo(b.observations.filter((o) => o.version === 'canary').length / b.observations.length, 12);
    expect(record).toMatchObject({ plane: 'code', canary: '2', stable: '1', phase: 'canary', verdict: 'continue', updates: 5 });
  });

  test('a canary that errors: verdict 1, and it stays 1 without querying again', async () => {
    const lines = traffic({ from: T0 - 2 * MIN, to: T0 + 2 * MIN, rps: 5, canary: '2', stable: '1', canaryShare: 0.1, canaryErrorEvery: 3 });
    const f = fakePorts({ lines, deployments: [deployment] });
    const out = await runSchedule(f.ports, S, T0 + 50_000);
    expect(out.verdict).toBe(1);
    expect(f.state.objects.get(judgeKey('svc', 'code-d-ABC'))!.verdict).toBe('regression');
    const queries = f.logs.calls.length;
    f.clock.t = T0 + MIN;
    await runSchedule(f.ports, S, T0 + MIN + 50_000);
    expect(f.logs.calls).toHaveLength(queries);
    expect(f.verdict.published.slice(-5).map((p) => p.value)).toEqual([1, 1, 1, 1, 1]);
  });

  test('retries of one failing input count once, with the real engine, and the record says how clusters were formed', async () => {
    // A good canary; a caller retries one failing input 5 times, the retries spread over both versions by the alias.
    const base = traffic({ from: T0 - 2 * MIN, to: T0 + MIN, rps: 5, canary: '2', stable: '1', canaryShare: 0.1 });
    const lines = base.map((l, i) => (i % 50 < 5 && i > 600 ? { ...l, error: true, caseId: `retried-${Math.floor(i / 50)}` } : { ...l, caseId: `input-${i}` }));
    const f = fakePorts({ lines, deployments: [deployment], engine: ENGINE });
    await runSchedule(f.ports, S, T0 + 50_000);
    const record = f.state.objects.get(judgeKey('svc', 'code-d-ABC'))!;
    expect(record.clusters).toMatchObject({ unit: 'request', key: 'case' });
    expect(record.clusters!.folded).toBeGreaterThan(0);
    expect(record.clusters!.keyed).toBeGreaterThan(0);
  });

  test('once the AfterAllowTraffic hook owns a release, the schedule steps aside (no double counting, no metric)', async () => {
    const f = fakePorts({ lines: [], deployments: [deployment] });
    const key = judgeKey('svc', 'code-d-ABC');
    await runSchedule(f.ports, S, T0 + 1);
    await f.state.save(key, { ...f.state.objects.get(key)!, phase: 'after-traffic' });
    const before = { queries: f.logs.calls.length, published: f.verdict.published.length };
    f.clock.t = T0 + MIN;
    expect(await runSchedule(f.ports, S, T0 + MIN + 50_000)).toMatchObject({ deployments: 1, cycles: 0 });
    expect(f.logs.calls).toHaveLength(before.queries);
    expect(f.verdict.published).toHaveLength(before.published);
  });

  test('a failing cycle ends the invocation without an error (no Lambda retry to overlap the next minute), and the next minute resumes', async () => {
    const lines = traffic({ from: T0 - 2 * MIN, to: T0 + 2 * MIN, rps: 5, canary: '2', stable: '1', canaryShare: 0.1 });
    const f = fakePorts({ lines, deployments: [deployment] });
    await runSchedule(f.ports, S, T0 + 1);
    const until = f.state.objects.get(judgeKey('svc', 'code-d-ABC'))!.until;
    f.logs.fail = new Error('Logs Insights query q-1 ended Timeout');
    f.clock.t = T0 + MIN;
    expect(await runSchedule(f.ports, S, T0 + MIN + 50_000)).toEqual({ deployments: 1, cycles: 0, error: 'Logs Insights query q-1 ended Timeout' });
    f.logs.fail = undefined;
    f.clock.t = T0 + 2 * MIN;
    await runSchedule(f.ports, S, T0 + 2 * MIN + 1);
    const r = f.state.objects.get(judgeKey('svc', 'code-d-ABC'))!;
    expect(r.until).toBe(T0 + 2 * MIN - INGESTION_LAG_MS);
    expect(r.samples.canary + r.samples.stable).toBe(lines.filter((l) => l.at >= deployment.trafficStartedAt && l.at < r.until).length);
    expect(until).toBeLessThan(r.until);
  });

  test("the regression gate's replays before traffic starts (BeforeAllowTraffic) are never canary samples", async () => {
    // BeforeAllowTraffic: the gate invokes the new version with known-failing cases; every one errors
    const replays = Array.from({ length: 200 }, (_, i) => ({ at: T0 - 2 * MIN + i * 100, version: '2', error: true }));
    const live = traffic({ from: T0 - MIN, to: T0 + 2 * MIN, rps: 5, canary: '2', stable: '1', canaryShare: 0.1 });
    const f = fakePorts({ lines: [...replays, ...live], deployments: [{ ...deployment, trafficStartedAt: undefined }] });
    expect(await runSchedule(f.ports, S, T0 + 50_000)).toEqual({ deployments: 1, cycles: 0 });
    expect(f.logs.calls).toHaveLength(0);
    f.deployments.deployments[0] = { ...deployment, trafficStartedAt: T0 - MIN };
    f.clock.t = T0 + MIN;
    const out = await runSchedule(f.ports, S, T0 + MIN + 50_000);
    expect(out.verdict).toBe(0);
    const r = f.state.objects.get(judgeKey('svc', 'code-d-ABC'))!;
    expect(r.verdict).toBe('continue');
    expect(f.batches.flatMap((b) => b.observations).filter((o) => o.error)).toEqual([]);
    expect(Math.min(...f.batches.flatMap((b) => b.observations.map((o) => o.at)))).toBeGreaterThanOrEqual(T0 - MIN);
  });

  test("CodeDeploy's own rollback deployment is not judged (its target is the old version)", async () => {
    const f = fakePorts({ deployments: [{ ...deployment, current: '2', target: '1', rollbackOf: 'd-PREV' }] });
    expect(await runSchedule(f.ports, S, T0 + 50_000)).toEqual({ deployments: 1, cycles: 0 });
    expect(f.logs.calls).toHaveLength(0);
  });

  test('more samples than one query returns: the window is read in slices, each sample exactly once', async () => {
    // 110 requests/s for 105 s: about 11,550 lines in one window, over Logs Insights' 10,000 rows
    const lines = traffic({ from: T0 - 2 * MIN, to: T0, rps: 110, canary: '2', stable: '1', canaryShare: 0.5 });
    const f = fakePorts({ lines, deployments: [deployment] });
    await runSchedule(f.ports, S, T0 + 1);
    const record = f.state.objects.get(judgeKey('svc', 'code-d-ABC'))!;
    const judged = lines.filter((l) => l.at >= deployment.trafficStartedAt && l.at < record.until).length;
    expect(judged).toBeGreaterThan(10_000);
    expect(f.logs.calls.map((c) => c.rows)).toEqual([10_000, expect.any(Number)]);
    expect(record.samples.canary + record.samples.stable).toBe(judged);
    expect(record.until).toBe(T0 - INGESTION_LAG_MS);
  });
});

const hook = { DeploymentId: 'd-ABC', LifecycleEventHookExecutionId: 'exec-1' };

describe('the AfterAllowTraffic hook', () => {
  const afterTraffic = (o: { canaryErrorEvery?: number } = {}) =>
    traffic({ from: T0 - 2 * MIN, to: T0 + 15 * MIN, rps: 1, canary: '2', stable: '1', canaryShare: 1, ...o });

  test('conclusive without a regression: Succeeded, every batch judged at canary share 1, the verdict recorded', async () => {
    const { engine, batches } = fakeEngine({ enough: 100 });
    const f = fakePorts({ lines: afterTraffic(), deployments: [deployment], engine });
    const out = await runAfterTrafficHook(hook, f.ports, S, T0 + 14 * MIN);
    expect(out).toEqual({ status: 'Succeeded', verdict: 'no-regression-shown', answered: true });
    expect(f.deployments.answers).toEqual([{ deploymentId: 'd-ABC', executionId: 'exec-1', status: 'Succeeded', at: expect.any(Number) }]);
    expect(f.deployments.answers[0].at - T0).toBeLessThan(S.afterTrafficBoundMs);
    expect(batches.every((b) => b.canaryShare === 1)).toBe(true);
    expect(f.state.objects.get(judgeKey('svc', 'code-d-ABC'))).toMatchObject({
      phase: 'after-traffic',
      verdict: 'no-regression-shown',
      concludedAt: expect.any(String),
    });
  });

  test('a first window that reaches back into the traffic shift is judged at its observed share, then 1', async () => {
    const shift = traffic({ from: T0 - 2 * MIN, to: T0, rps: 2, canary: '2', stable: '1', canaryShare: 0.1 });
    const full = traffic({ from: T0, to: T0 + 15 * MIN, rps: 2, canary: '2', stable: '1', canaryShare: 1 });
    const { engine, batches } = fakeEngine({ enough: 400 });
    const f = fakePorts({ lines: [...shift, ...full], deployments: [deployment], engine });
    f.clock.t = T0 + 20_000; // the hook starts 20 s after full traffic, with no record of the canary phase
    await runAfterTrafficHook(hook, f.ports, S, T0 + 14 * MIN);
    expect(batches[0].canaryShare).toBeGreaterThan(0.1);
    expect(batches[0].canaryShare).toBeLessThan(0.5);
    expect(batches.slice(2).every((b) => b.canaryShare === 1)).toBe(true);
  });

  test('a regression: Failed (CodeDeploy rolls back), verdict metric 1', async () => {
    const f = fakePorts({ lines: afterTraffic({ canaryErrorEvery: 2 }), deployments: [deployment] });
    const out = await runAfterTrafficHook(hook, f.ports, S, T0 + 14 * MIN);
    expect(out).toMatchObject({ status: 'Failed', verdict: 'regression', answered: true });
    expect(f.deployments.answers.map((a) => a.status)).toEqual(['Failed']);
    expect(f.verdict.published.at(-1)).toMatchObject({ plane: 'code', value: 1 });
    expect(f.state.objects.get(judgeKey('svc', 'code-d-ABC'))!.verdict).toBe('regression');
  });

  test('never conclusive: answers Succeeded (inconclusive) when the bound passes, not later', async () => {
    const f = fakePorts({ lines: afterTraffic(), deployments: [deployment] });
    const out = await runAfterTrafficHook(hook, f.ports, S, T0 + 14 * MIN);
    expect(out).toMatchObject({ status: 'Succeeded', verdict: 'inconclusive' });
    const at = f.deployments.answers[0].at - T0;
    expect(at).toBeLessThanOrEqual(S.afterTrafficBoundMs);
    expect(at).toBeGreaterThan(S.afterTrafficBoundMs - 2 * S.periodMs);
    expect(f.state.objects.get(judgeKey('svc', 'code-d-ABC'))!.verdict).toBe('inconclusive');
  });

  test("a deadline shorter than the bound (the function's remaining time) wins", async () => {
    const f = fakePorts({ lines: afterTraffic(), deployments: [deployment] });
    await runAfterTrafficHook(hook, f.ports, S, T0 + 2 * MIN);
    expect(f.deployments.answers[0].at).toBeLessThanOrEqual(T0 + 2 * MIN);
  });

  test('the judge crashes: still answers, Succeeded, the error recorded as inconclusive', async () => {
    const f = fakePorts({ lines: afterTraffic(), deployments: [deployment] });
    await runSchedule(f.ports, S, T0 + 1); // a record from the canary phase
    f.logs.fail = new Error('ThrottlingException: too many concurrent queries');
    const out = await runAfterTrafficHook(hook, f.ports, S, T0 + 14 * MIN);
    expect(out).toEqual({ status: 'Succeeded', verdict: 'inconclusive', error: 'ThrottlingException: too many concurrent queries', answered: true });
    expect(f.deployments.answers.map((a) => a.status)).toEqual(['Succeeded']);
    expect(f.state.objects.get(judgeKey('svc', 'code-d-ABC'))).toMatchObject({ verdict: 'inconclusive', error: expect.stringContaining('Throttling') });
    expect(f.logged.map((l) => l.message)).toContain('canary judge failed in the AfterAllowTraffic hook; answering Succeeded (no evidence of a regression)');
  });

  test('an unknown deployment (GetDeployment fails) is answered too', async () => {
    const f = fakePorts({ deployments: [] });
    expect(await runAfterTrafficHook({ ...hook, DeploymentId: 'd-NONE' }, f.ports, S, T0 + MIN)).toMatchObject({ status: 'Succeeded', answered: true });
  });

  test('the answer is retried; when it cannot be delivered the hook says so instead of throwing', async () => {
    const f = fakePorts({ lines: afterTraffic({ canaryErrorEvery: 2 }), deployments: [deployment] });
    f.deployments.failAnswers = 2;
    expect(await runAfterTrafficHook(hook, f.ports, S, T0 + 14 * MIN)).toMatchObject({ status: 'Failed', answered: true });
    const g = fakePorts({ lines: afterTraffic(), deployments: [deployment] });
    g.deployments.failAnswers = 3;
    expect(await runAfterTrafficHook(hook, g.ports, S, T0 + 14 * MIN)).toMatchObject({ answered: false });
    // an earlier attempt that landed after all: CodeDeploy says the event is complete, which is an answer
    const h = fakePorts({ lines: afterTraffic(), deployments: [deployment] });
    h.deployments.failAnswers = 1;
    h.deployments.failWith = Object.assign(new Error('already completed'), { name: 'LifecycleEventAlreadyCompletedException' });
    expect(await runAfterTrafficHook(hook, h.ports, S, T0 + 14 * MIN)).toMatchObject({ answered: true });
    expect(h.logged.filter((l) => l.message.startsWith('PutLifecycleEventHookExecutionStatus failed'))).toEqual([]);
  });
});

describe('the config plane: the schedule judges the rollout, AT_DEPLOYMENT_TICK reads the stored verdict', () => {
  const tick = (n = 3) => ({
    Type: 'AtDeploymentTick' as const,
    Application: { Id: 'app1' },
    Environment: { Id: 'env1' },
    ConfigurationProfile: { Id: 'prof1' },
    DeploymentNumber: n,
    ConfigurationVersion: '9',
    PercentageComplete: '20.0',
  });
  const rolloutInfo = (o: { label?: string } = {}) => ({
    environmentId: 'env1',
    deploymentNumber: 3,
    profileId: 'prof1',
    version: '9',
    startedAt: T0,
    ...(o.label ? { label: o.label } : {}),
  });
  const rollout = (o: { canaryErrorEvery?: number } = {}) =>
    traffic({ from: T0 - 2 * MIN, to: T0 + 10 * MIN, rps: 5, canary: 'cfg-new', stable: 'cfg-old', canaryShare: 0.2, field: 'config', ...o });

  test('a regression on the new config label: the schedule stores it and publishes 1; the tick answers ROLL_BACK (the sampled shape)', async () => {
    const f = fakePorts({ lines: rollout({ canaryErrorEvery: 3 }), rollouts: [rolloutInfo({ label: 'cfg-new' })] });
    expect(await runConfigTick(tick(), f.ports, S, 1500)).toEqual({ Directive: 'CONTINUE' }); // no verdict stored yet
    f.clock.t = T0 + 3 * MIN;
    const out = await runSchedule(f.ports, S, f.clock.t + 1);
    expect(out).toMatchObject({ deployments: 0, configRollouts: 1, cycles: 1, configVerdict: 1 });
    expect(f.verdict.published).toEqual([{ plane: 'config', value: 1, at: T0 + 3 * MIN }]);
    expect(f.state.objects.get(judgeKey('svc', 'config-env1-3'))).toMatchObject({ plane: 'config', canary: 'cfg-new', verdict: 'regression' });
    expect(f.labelCalls).toEqual([]); // GetDeployment's VersionLabel
    const queries = f.logs.calls.length;
    expect(await runConfigTick(tick(), f.ports, S, 1500)).toEqual({
      Directive: 'ROLL_BACK',
      Description: expect.stringContaining('canary judge: config cfg-new regressed on errors'),
    });
    expect(f.logs.calls.length).toBe(queries); // the tick never queries
    // another rollout's tick is not rolled back by this one's verdict
    expect(await runConfigTick(tick(4), f.ports, S, 1500)).toEqual({ Directive: 'CONTINUE' });
  });

  test('a good config: CONTINUE; the label is looked up once and the evidence accumulates minute by minute', async () => {
    const f = fakePorts({ lines: rollout(), labels: { '9': 'cfg-new' }, rollouts: [rolloutInfo()] });
    for (let i = 1; i <= 3; i++) {
      f.clock.t = T0 + i * MIN;
      await runSchedule(f.ports, S, f.clock.t + 1);
      expect(await runConfigTick(tick(), f.ports, S, 1500)).toEqual({ Directive: 'CONTINUE' });
    }
    expect(f.labelCalls).toEqual(['prof1:9']);
    expect(f.verdict.published.map((p) => [p.plane, p.value])).toEqual([
      ['config', 0],
      ['config', 0],
      ['config', 0],
    ]);
    const r = f.state.objects.get(judgeKey('svc', 'config-env1-3'))!;
    expect(r.updates).toBe(3);
    expect(r.until).toBe(T0 + 3 * MIN - INGESTION_LAG_MS);
    expect(r.samples.canary).toBeGreaterThan(0);
    expect(r.samples.stable).toBeGreaterThan(r.samples.canary);
    expect(r.verdict).toBe('inconclusive');
  });

  test('nothing in progress on either plane: one list call each, nothing judged', async () => {
    const f = fakePorts({ lines: rollout() });
    expect(await runSchedule(f.ports, S, T0 + 50_000)).toEqual({ deployments: 0, cycles: 0 });
    expect([f.deployments.listCalls, f.configDeployments.listCalls, f.logs.calls.length]).toEqual([1, 1, 0]);
  });

  test("the config gate's replays through the gate alias before the rollout started are never canary samples", async () => {
    const replays = Array.from({ length: 100 }, (_, i) => ({ at: T0 - 30_000 + i * 100, config: 'cfg-new', version: '7', error: true }));
    const f = fakePorts({ lines: [...replays, ...rollout()], rollouts: [rolloutInfo({ label: 'cfg-new' })] });
    for (let i = 1; i <= 2; i++) {
      f.clock.t = T0 + i * MIN;
      await runSchedule(f.ports, S, f.clock.t + 1);
    }
    expect(f.batches.length).toBeGreaterThan(0);
    expect(f.batches.flatMap((b) => b.observations).filter((o) => o.error)).toEqual([]);
  });

  test('the tick answers within its budget: a slow or failing read is CONTINUE, never a rollback', async () => {
    const f = fakePorts();
    f.state.objects.set(judgeKey('svc', 'config-env1-3'), { verdict: 'regression' } as never);
    f.ports.state.load = () => new Promise(() => {}); // S3 never answers
    const started = Date.now();
    expect(await runConfigTick(tick(), f.ports, S, 50)).toEqual({ Directive: 'CONTINUE' });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(f.logged.at(-1)!.message).toBe('canary judge: the judge record did not arrive within the tick budget; the rollout continues');
    f.ports.state.load = async () => {
      throw new Error('AccessDenied');
    };
    expect(await runConfigTick(tick(), f.ports, S, 50)).toEqual({ Directive: 'CONTINUE' });
    expect(f.logged.at(-1)!.message).toBe('canary judge failed at AT_DEPLOYMENT_TICK; the rollout continues (no evidence of a regression)');
  });

  test('a schedule crash on the config plane is no verdict: logged, nothing published, the tick continues', async () => {
    const f = fakePorts({ lines: rollout(), labels: {}, rollouts: [rolloutInfo()] });
    f.clock.t = T0 + MIN;
    expect(await runSchedule(f.ports, S, f.clock.t + 1)).toMatchObject({ configRollouts: 1, cycles: 0, error: 'no label for version 9' });
    expect(f.verdict.published).toEqual([]);
    expect(await runConfigTick(tick(), f.ports, S, 1500)).toEqual({ Directive: 'CONTINUE' });
  });
});
