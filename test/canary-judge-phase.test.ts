/**
 * Issue 16-F: the judge never dies silently. One batch whose observed share is exactly 1 (a tiny first canary window,
 * a config-rollout window holding only new-config requests, the one-row remainder of a window cut at the row limit)
 * used to switch the real engine to its after-traffic phase; every later batch then threw, every schedule minute
 * failed and the hook answered Succeeded. These tests drive the REAL engine (lambda/canary-judge/engine.ts) through
 * the wiring; the phase must come from the deployment's state. Also issue 15-A3: rollback deployments are not judged.
 */
import { type JudgeSettings, runAfterTrafficHook, runSchedule } from '../lambda/canary-judge/canary-judge';
import { ENGINE } from '../lambda/canary-judge/engine';
import type { JudgeBatch, JudgeEngine } from '../lambda/canary-judge/engine-port';
import { INGESTION_LAG_MS } from '../lambda/canary-judge/samples';
import { judgeKey } from '../lambda/shared/contract';
import { fakePorts, type Line, T0, traffic } from './canary-judge-fakes';

const S: JudgeSettings = { service: 'svc', alpha: 0.01, periodMs: 10_000, afterTrafficBoundMs: 600_000 };
const MIN = 60_000;
const KEY = judgeKey('svc', 'code-d-ABC');

/** The real engine, recording the batches it is given. */
function realEngine(): { engine: JudgeEngine; batches: JudgeBatch[] } {
  const batches: JudgeBatch[] = [];
  return {
    batches,
    engine: {
      newJudgeState: ENGINE.newJudgeState,
      updateJudge: (state, batch) => {
        batches.push(batch);
        return ENGINE.updateJudge(state, batch);
      },
      concludeJudge: ENGINE.concludeJudge,
    },
  };
}

/** Runs the schedule minute by minute from `from` for `minutes`, returning each minute's outcome. */
async function minutes(f: ReturnType<typeof fakePorts>, from: number, n: number) {
  const out = [];
  for (let i = 0; i < n; i++) {
    f.clock.t = from + i * MIN;
    out.push(await runSchedule(f.ports, S, f.clock.t + 50_000));
  }
  return out;
}

const shifting = { id: 'd-ABC', current: '1', target: '2', createdAt: T0 - MIN, trafficStartedAt: T0 };

describe('issue 16-F: one one-sided batch never kills the judge', () => {
  test('a tiny first canary window (one canary request, no stable one) is merged, not judged as full traffic: every minute judges', async () => {
    // 10 % canary at 0.5 req/s: the first window after traffic starts holds a single request, on the canary
    const lines: Line[] = [
      { at: T0 + 1000, version: '2' },
      ...traffic({ from: T0 + 12_000, to: T0 + 8 * MIN, rps: 0.5, canary: '2', stable: '1', canaryShare: 0.1 }),
    ];
    const { engine, batches } = realEngine();
    const f = fakePorts({ lines, deployments: [shifting], engine });
    f.clock.t = T0 + 1000 + INGESTION_LAG_MS + 1;
    const outs = await minutes(f, f.clock.t, 6);
    expect(outs.filter((o) => o.error)).toEqual([]);
    // never fed as full traffic while CodeDeploy still shifts it
    expect(batches.filter((b) => b.canaryShare === 1)).toEqual([]);
    const r = f.state.objects.get(KEY)!;
    expect(r.updates).toBeGreaterThan(10);
    // the single canary request was judged (merged into a later window), not dropped
    expect(r.samples.canary).toBe(lines.filter((l) => l.version === '2' && l.at < r.until).length);
    expect(r.failures).toBeUndefined();
    expect(f.verdict.health).toEqual([]);
  });

  test('a config-rollout window holding only new-config requests does not end the rollout judging', async () => {
    const rollout = { environmentId: 'env1', deploymentNumber: 3, profileId: 'prof1', version: '9', label: 'cfg-new', startedAt: T0, percentageComplete: 20 };
    // 10 seconds with only new-config requests (the clients that had switched were the only ones asked), then a mix
    const only = traffic({ from: T0, to: T0 + 10_000, rps: 1, canary: 'cfg-new', stable: 'cfg-old', canaryShare: 1, field: 'config' });
    const mixed = traffic({ from: T0 + 10_000, to: T0 + 8 * MIN, rps: 2, canary: 'cfg-new', stable: 'cfg-old', canaryShare: 0.2, field: 'config' });
    const { engine, batches } = realEngine();
    const f = fakePorts({ lines: [...only, ...mixed], rollouts: [rollout], engine });
    f.clock.t = T0 + 10_000 + INGESTION_LAG_MS;
    const outs = await minutes(f, f.clock.t, 5);
    expect(outs.filter((o) => o.error)).toEqual([]);
    expect(batches.filter((b) => b.canaryShare === 1)).toEqual([]);
    const r = f.state.objects.get(judgeKey('svc', 'config-env1-3'))!;
    expect(r.updates).toBeGreaterThan(10);
    expect(r.samples.canary).toBeGreaterThanOrEqual(only.length);
  });

  test('the one-row remainder of a window cut at the row limit is merged with the next window', async () => {
    // 10,000 requests in the first 10 s (Logs Insights' row limit): the window is cut before its last millisecond,
    // whose one row (a canary request) is the remainder the next slice reads alone
    const burst: Line[] = Array.from({ length: 10_000 }, (_, i) => ({ at: T0 + i, version: i === 9_999 || i % 2 === 1 ? '2' : '1' }));
    const lines: Line[] = [...burst, ...traffic({ from: T0 + 10_000, to: T0 + 5 * MIN, rps: 2, canary: '2', stable: '1', canaryShare: 0.3 })];
    const { engine, batches } = realEngine();
    const f = fakePorts({ lines, deployments: [shifting], engine });
    f.clock.t = T0 + 10_000 + INGESTION_LAG_MS;
    const outs = await minutes(f, f.clock.t, 4);
    expect(outs.filter((o) => o.error)).toEqual([]);
    expect(f.logs.calls[0].rows).toBe(10_000);
    expect(batches.filter((b) => b.canaryShare === 1)).toEqual([]);
    const r = f.state.objects.get(KEY)!;
    // every request judged exactly once, the remainder's included
    expect(r.samples.canary + r.samples.stable).toBe(lines.filter((l) => l.at < r.until).length);
    expect(r.unused).toBeUndefined();
  });

  test('after full traffic (AllowTraffic ended, from its end time): canary-only batches at share 1; the shift before it at its observed share; stragglers set aside, said in the record', async () => {
    const full = T0 + 3 * MIN;
    const lines: Line[] = [
      ...traffic({ from: T0, to: full, rps: 2, canary: '2', stable: '1', canaryShare: 0.2 }),
      ...traffic({ from: full, to: full + 12 * MIN, rps: 2, canary: '2', stable: '1', canaryShare: 1 }),
      // a caller that still invokes the old version by number after the shift
      { at: full + 30_000, version: '1' },
    ];
    const { engine, batches } = realEngine();
    const f = fakePorts({ lines, deployments: [{ ...shifting, trafficCompleteAt: full }], engine });
    // the schedule judged the first two minutes; the hook starts 40 s after the shift ended
    await minutes(f, T0 + INGESTION_LAG_MS + 1, 2);
    f.clock.t = full + 40_000;
    const out = await runAfterTrafficHook({ DeploymentId: 'd-ABC', LifecycleEventHookExecutionId: 'x' }, f.ports, S, full + 12 * MIN);
    expect(out.error).toBeUndefined();
    expect(out.status).toBe('Succeeded');
    const r = f.state.objects.get(KEY)!;
    expect(r.error).toBeUndefined();
    const firstFull = batches.findIndex((b) => b.canaryShare === 1);
    expect(firstFull).toBeGreaterThan(0);
    expect(batches.slice(firstFull).every((b) => b.canaryShare === 1 && b.observations.every((o) => o.at >= full && o.version === 'canary'))).toBe(true);
    expect(batches.slice(0, firstFull).every((b) => b.canaryShare < 1 && b.observations.every((o) => o.at < full))).toBe(true);
    expect(r.unused).toEqual({ samples: 1, reasons: [expect.stringContaining('stable')] });
    expect(r.fullTrafficAt).toBe(full);
  });

  test('a canary-only stream during the shift (no stable traffic at all) is held at most MERGE_MAX_MS, then set aside and said: record, cannot-judge metric', async () => {
    const lines = traffic({ from: T0, to: T0 + 10 * MIN, rps: 1, canary: '2', stable: '1', canaryShare: 1 });
    const { engine, batches } = realEngine();
    const f = fakePorts({ lines, deployments: [shifting], engine });
    const outs = await minutes(f, T0 + MIN, 4);
    expect(outs.filter((o) => o.error)).toEqual([]);
    expect(batches).toEqual([]);
    const r = f.state.objects.get(KEY)!;
    expect(r.unused?.samples).toBeGreaterThan(60);
    expect(r.unused?.reasons).toEqual([expect.stringContaining('no stable sample')]);
    expect(f.verdict.health.length).toBeGreaterThan(0);
    expect(f.verdict.health.every((h) => h.plane === 'code' && h.value === 1)).toBe(true);
  });

  test('config plane at 100 % (bake started): no before/after phase; windows where old-config clients still serve are judged at their share, new-config-only windows set aside, not a failure', async () => {
    const full = T0 + 2 * MIN;
    const lines = [
      ...traffic({ from: T0, to: full, rps: 2, canary: 'cfg-new', stable: 'cfg-old', canaryShare: 0.3, field: 'config' }),
      ...traffic({ from: full, to: full + 40_000, rps: 2, canary: 'cfg-new', stable: 'cfg-old', canaryShare: 0.9, field: 'config' }),
      ...traffic({ from: full + 40_000, to: full + 5 * MIN, rps: 2, canary: 'cfg-new', stable: 'cfg-old', canaryShare: 1, field: 'config' }),
    ];
    const { engine, batches } = realEngine();
    const rollout = { environmentId: 'env1', deploymentNumber: 3, profileId: 'prof1', version: '9', label: 'cfg-new', startedAt: T0, percentageComplete: 30 };
    const f = fakePorts({ lines, rollouts: [rollout], engine });
    await minutes(f, T0 + INGESTION_LAG_MS + 1, 2);
    f.rollouts[0] = { ...rollout, percentageComplete: 100, fullAt: full };
    const outs = await minutes(f, full + 20_000, 4);
    expect(outs.filter((o) => o.error)).toEqual([]);
    expect(batches.filter((b) => b.canaryShare === 1)).toEqual([]);
    expect(batches.some((b) => b.observations.some((o) => o.at >= full))).toBe(true);
    const r = f.state.objects.get(judgeKey('svc', 'config-env1-3'))!;
    expect(r.fullTrafficAt).toBeUndefined();
    expect(r.unused?.reasons).toEqual([expect.stringContaining('rollout reached 100 %')]);
    expect(r.unused!.samples).toBeGreaterThan(300);
    expect(f.verdict.health).toEqual([]);
  });

  test("a judge that cannot judge says so: the cannot-judge metric, the record's failures, the hook's record", async () => {
    const lines = traffic({ from: T0, to: T0 + 20 * MIN, rps: 2, canary: '2', stable: '1', canaryShare: 0.2 });
    const broken: JudgeEngine = {
      ...ENGINE,
      updateJudge: () => {
        throw new Error('canaryShare 0.2 after full traffic');
      },
    };
    const f = fakePorts({ lines, deployments: [shifting], engine: broken });
    const outs = await minutes(f, T0 + MIN, 3);
    expect(outs.every((o) => o.error?.includes('after full traffic'))).toBe(true);
    // one cannot-judge datapoint per failed minute, on the code plane
    expect(f.verdict.health.map((h) => [h.plane, h.value])).toEqual([
      ['code', 1],
      ['code', 1],
      ['code', 1],
    ]);
    const r = f.state.objects.get(KEY)!;
    expect(r.failures).toMatchObject({ count: 3, last: expect.stringContaining('after full traffic') });
    f.clock.t = T0 + 5 * MIN;
    const hook = await runAfterTrafficHook({ DeploymentId: 'd-ABC', LifecycleEventHookExecutionId: 'x' }, f.ports, S, T0 + 10 * MIN);
    expect(hook).toMatchObject({ status: 'Succeeded', verdict: 'inconclusive', answered: true });
    expect(f.verdict.health.at(-1)).toMatchObject({ plane: 'code', value: 1 });
    expect(f.state.objects.get(KEY)!.failures!.count).toBe(4);
  });
});

describe('issue 15-A3: rollback deployments are not judged', () => {
  test.each(['CloudFormationRollback', 'codeDeployRollback'])(
    'creator %s: the hook answers Succeeded at once, with no query, no verdict, no record',
    async (creator) => {
      const lines = traffic({ from: T0 - 5 * MIN, to: T0 + 5 * MIN, rps: 2, canary: '1', stable: '2', canaryShare: 1, canaryErrorEvery: 2 });
      const f = fakePorts({ lines, deployments: [{ id: 'd-ABC', current: '2', target: '1', createdAt: T0 - MIN, trafficStartedAt: T0 - MIN, creator }] });
      const out = await runAfterTrafficHook({ DeploymentId: 'd-ABC', LifecycleEventHookExecutionId: 'x' }, f.ports, S, T0 + 10 * MIN);
      expect(out).toMatchObject({ status: 'Succeeded', answered: true, rollback: creator });
      expect(f.deployments.answers).toEqual([expect.objectContaining({ status: 'Succeeded', at: T0 })]);
      expect(f.logs.calls).toHaveLength(0);
      expect(f.verdict.published).toEqual([]);
      expect(f.state.objects.size).toBe(0);
    },
  );

  test.each(['CloudFormationRollback', 'codeDeployRollback'])('creator %s: the schedule skips it (no query, no verdict)', async (creator) => {
    const lines = traffic({ from: T0 - 5 * MIN, to: T0 + 5 * MIN, rps: 2, canary: '1', stable: '2', canaryShare: 0.5 });
    const f = fakePorts({ lines, deployments: [{ id: 'd-ABC', current: '2', target: '1', createdAt: T0 - MIN, trafficStartedAt: T0 - MIN, creator }] });
    expect(await runSchedule(f.ports, S, T0 + 50_000)).toEqual({ deployments: 1, cycles: 0 });
    expect(f.logs.calls).toHaveLength(0);
    expect(f.verdict.published).toEqual([]);
  });

  test('a user deployment is still judged (the creator alone decides)', async () => {
    const lines = traffic({ from: T0 - 5 * MIN, to: T0 + 5 * MIN, rps: 2, canary: '2', stable: '1', canaryShare: 0.5 });
    const f = fakePorts({ lines, deployments: [{ ...shifting, trafficStartedAt: T0 - 2 * MIN, creator: 'user' }] });
    expect(await runSchedule(f.ports, S, T0 + 50_000)).toMatchObject({ deployments: 1, verdict: 0 });
    expect(f.logs.calls.length).toBeGreaterThan(0);
  });
});
