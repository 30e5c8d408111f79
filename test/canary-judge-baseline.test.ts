/** The stable baseline before a release: read once, at the release's first update, and fed to the engine with share 0. */
import { BASELINE_BUDGET_MS, type JudgeSettings, runAfterTrafficHook, runSchedule } from '../lambda/canary-judge/canary-judge';
import type { LogsPort } from '../lambda/canary-judge/canary-judge';
import { baselineQuery } from '../lambda/canary-judge/samples';
import { ENGINE } from '../lambda/canary-judge/engine';
import { configJudgeReleaseKey, judgeKey } from '../lambda/shared/contract';
import { fakePorts, T0, traffic } from './canary-judge-fakes';

const MIN = 60_000;
const S: JudgeSettings = { service: 'svc', alpha: 0.01, periodMs: 10_000, afterTrafficBoundMs: 600_000, baselineWindowMs: 30 * MIN };
/** The deployment was created 2 minutes before now (T0); traffic reached the canary a minute later. */
const CREATED = T0 - 2 * MIN;
const TRAFFIC = T0 - MIN;
const deployment = { id: 'd-1', current: '3', target: '4', createdAt: CREATED, trafficStartedAt: TRAFFIC };
const key = judgeKey('svc', 'code-d-1');

/** 40 minutes of stable-only traffic before the deployment (1 rps), then a 10 % canary. */
function lines(o: { canaryLines?: boolean; rps?: number } = {}) {
  const before = traffic({ from: CREATED - 40 * MIN, to: CREATED, rps: o.rps ?? 1, canary: '4', stable: '3', canaryShare: 0, stableErrorEvery: 50 });
  // A stray line of another version in the window (an older deployment's leftovers): never part of the baseline.
  before.push({ at: CREATED - 5 * MIN + 7, version: '2' });
  const gate = [{ at: CREATED + 10_000, version: '4', error: true }];
  const canary = o.canaryLines === false ? [] : traffic({ from: TRAFFIC, to: T0 + 5 * MIN, rps: 5, canary: '4', stable: '3', canaryShare: 0.1 });
  return [...before, ...gate, ...canary];
}

/** A Logs port that records each query's text and range before handing it to the stream. */
function recording(inner: LogsPort) {
  const seen: { query: string; startSec: number; endSec: number; deadline: number }[] = [];
  const port: LogsPort = {
    query: (q, a, b, d) => {
      seen.push({ query: q, startSec: a, endSec: b, deadline: d });
      return inner.query(q, a, b, d);
    },
  };
  return { port, seen };
}

describe('the stable baseline before a code release', () => {
  test('the first update reads the 30 minutes before the deployment, stable version only, and feeds them with share 0 first', async () => {
    const f = fakePorts({ lines: lines(), deployments: [deployment] });
    const rec = recording(f.logs);
    const ports = { ...f.ports, logs: rec.port };
    await runSchedule(ports, S, T0 + 20_000);
    const first = rec.seen[0];
    expect(first.query).toBe(baselineQuery('svc', { plane: 'code', canary: '4', stable: '3' }));
    expect(first.query).toContain('filter Service = "svc" and ispresent(Invocations) and Version = "3"');
    expect(first.startSec).toBe((CREATED - 30 * MIN) / 1000);
    expect(first.endSec).toBe(CREATED / 1000);
    expect(first.deadline).toBeLessThanOrEqual(T0 + BASELINE_BUDGET_MS);
    // The next query is the canary's own window, from the start of traffic.
    expect(rec.seen[1].startSec).toBe(TRAFFIC / 1000);
    expect(rec.seen[1].query).not.toContain('Version =');

    const zero = f.batches.filter((b) => b.canaryShare === 0);
    expect(zero.length).toBeGreaterThan(0);
    // Every share-0 batch comes before the first canary batch, holds only stable observations from the window, in time order.
    const firstCanary = f.batches.findIndex((b) => b.canaryShare > 0);
    expect(firstCanary).toBe(zero.length);
    const fed = zero.flatMap((b) => b.observations);
    expect(fed.every((o) => o.version === 'stable' && o.at >= CREATED - 30 * MIN && o.at < CREATED)).toBe(true);
    expect(fed.map((o) => o.at)).toEqual([...fed.map((o) => o.at)].sort((a, b) => a - b));
    // 1 rps for 30 minutes, less the one line of version 2.
    expect(fed).toHaveLength(30 * 60);

    const record = await f.state.load(key);
    expect(record?.baseline).toEqual({ from: CREATED - 30 * MIN, to: CREATED, samples: 30 * 60, batches: zero.length });
    // The baseline is not counted as canary-phase samples or updates.
    expect(record?.samples.stable).toBe(f.batches.slice(firstCanary).reduce((n, b) => n + b.observations.filter((o) => o.version === 'stable').length, 0));
  });

  test('a baseline beyond the row limit is fed in slices, oldest first, each a share-0 batch, none twice', async () => {
    // 12 rps for 30 minutes: 21,600 lines, three Logs Insights slices of at most 10,000 rows.
    const f = fakePorts({ lines: lines({ rps: 12 }), deployments: [deployment] });
    await runSchedule(f.ports, S, T0 + 20_000);
    const zero = f.batches.filter((b) => b.canaryShare === 0);
    expect(zero).toHaveLength(3);
    const ats = zero.flatMap((b) => b.observations.map((o) => o.at));
    expect(new Set(ats).size).toBe(12 * 30 * 60);
    expect(ats).toHaveLength(12 * 30 * 60);
    expect(ats).toEqual([...ats].sort((a, b) => a - b));
    expect((await f.state.load(key))?.baseline).toMatchObject({ samples: 12 * 30 * 60, batches: 3 });
  });

  test('only once per release: later updates and minutes do not read it again', async () => {
    const f = fakePorts({ lines: lines(), deployments: [deployment] });
    await runSchedule(f.ports, S, T0 + 50_000);
    f.clock.t = T0 + MIN;
    await runSchedule(f.ports, S, T0 + MIN + 50_000);
    expect(f.logs.calls.filter((c) => c.endSec === CREATED / 1000)).toHaveLength(1);
    expect(f.batches.filter((b) => b.canaryShare === 0).length).toBe((await f.state.load(key))?.baseline?.batches);
  });

  test('a failed read judges without the baseline and says so in the record; the release is not failed', async () => {
    const f = fakePorts({ lines: lines(), deployments: [deployment] });
    const inner: LogsPort = f.logs;
    const ports = {
      ...f.ports,
      logs: {
        query: (q: string, a: number, b: number, d: number) =>
          q.includes('Version =') ? Promise.reject(new Error('ThrottlingException')) : inner.query(q, a, b, d),
      },
    };
    const out = await runSchedule(ports, S, T0 + 20_000);
    expect(out.error).toBeUndefined();
    expect(f.batches.some((b) => b.canaryShare === 0)).toBe(false);
    expect(f.batches.some((b) => b.canaryShare > 0)).toBe(true);
    const record = await f.state.load(key);
    expect(record?.baseline).toEqual({ from: CREATED - 30 * MIN, to: CREATED, samples: 0, batches: 0, error: 'ThrottlingException' });
    expect(record?.updates).toBeGreaterThan(0);
    expect(f.logged.some((l) => l.message.includes('baseline could not be read'))).toBe(true);
  });

  test('a read that runs out of its budget keeps the slices it got, stops, and the hook still answers in time', async () => {
    // 25 rps for 30 minutes: 45,000 lines, five slices; each takes 8 s of the clock, the 20-second budget allows three.
    const f = fakePorts({ lines: lines({ rps: 25 }), deployments: [deployment] });
    const inner: LogsPort = f.logs;
    const ports = {
      ...f.ports,
      logs: {
        query: async (q: string, a: number, b: number, d: number) => {
          if (q.includes('Version =')) f.clock.t += 8_000;
          return inner.query(q, a, b, d);
        },
      },
    };
    const hook = { DeploymentId: 'd-1', LifecycleEventHookExecutionId: 'e-1' };
    const out = await runAfterTrafficHook(hook, ports, { ...S, afterTrafficBoundMs: 2 * MIN }, T0 + 14 * MIN);
    expect(out.answered).toBe(true);
    expect(f.deployments.answers[0].at).toBeLessThanOrEqual(T0 + 2 * MIN);
    const record = await f.state.load(key);
    expect(record?.baseline?.batches).toBe(3);
    expect(record?.baseline?.samples).toBe(f.batches.filter((b) => b.canaryShare === 0).reduce((n, b) => n + b.observations.length, 0));
    expect(record?.baseline?.samples).toBeLessThan(25 * 30 * 60);
    expect(record?.baseline?.samples).toBeGreaterThan(29_000);
    expect(record?.baseline?.error).toMatch(/ran out of its time/);
    expect(f.batches.findIndex((b) => b.canaryShare > 0)).toBe(3);
  });

  test('the statistics engine itself takes the share-0 batches before the canary ones', async () => {
    const f = fakePorts({ lines: lines(), deployments: [deployment], engine: ENGINE });
    const out = await runSchedule(f.ports, S, T0 + 50_000);
    expect(out.error).toBeUndefined();
    const record = await f.state.load(key);
    expect(record?.baseline).toMatchObject({ samples: 30 * 60, batches: 1 });
    expect(record?.baseline?.error).toBeUndefined();
    expect(record?.updates).toBeGreaterThan(0);
    // The engine's state counts the baseline's stable values it kept (its reservoir for the conformal ranks).
    expect(JSON.stringify(record?.engine)).toContain('"baselineSeen":');
    const engine = record?.engine as { metrics: { baselineSeen?: number }[] };
    expect(engine.metrics.some((m) => (m.baselineSeen ?? 0) >= 30 * 60)).toBe(true);
  });

  test('a baseline window of 0 reads nothing', async () => {
    const f = fakePorts({ lines: lines(), deployments: [deployment] });
    await runSchedule(f.ports, { ...S, baselineWindowMs: 0 }, T0 + 20_000);
    expect(f.batches.some((b) => b.canaryShare === 0)).toBe(false);
    expect((await f.state.load(key))?.baseline).toBeUndefined();
  });
});

describe('the stable baseline before a config rollout', () => {
  test('labels other than the new config, before the rollout started, fed with share 0 before the rollout is judged', async () => {
    const started = T0 - MIN;
    const before = traffic({ from: started - 40 * MIN, to: started, rps: 1, canary: 'cfg-new', stable: 'cfg-old', canaryShare: 0, field: 'config' });
    // The config gate's replays with the new label, before the rollout: not the baseline.
    before.push({ at: started - 3 * MIN, config: 'cfg-new', version: '7', error: true });
    const during = traffic({ from: started, to: T0 + MIN, rps: 5, canary: 'cfg-new', stable: 'cfg-old', canaryShare: 0.2, field: 'config' });
    const f = fakePorts({
      lines: [...before, ...during],
      rollouts: [{ environmentId: 'env1', deploymentNumber: 4, profileId: 'p', version: '9', label: 'cfg-new', startedAt: started }],
    });
    const rec = recording(f.logs);
    await runSchedule({ ...f.ports, logs: rec.port }, S, T0 + 20_000);
    expect(rec.seen[0].query).toContain('and ispresent(config) and config != "cfg-new"');
    expect([rec.seen[0].startSec, rec.seen[0].endSec]).toEqual([(started - 30 * MIN) / 1000, started / 1000]);
    const zero = f.batches.filter((b) => b.canaryShare === 0);
    const fed = zero.flatMap((b) => b.observations);
    expect(fed).toHaveLength(30 * 60);
    expect(fed.every((o) => o.version === 'stable')).toBe(true);
    expect(f.batches.findIndex((b) => b.canaryShare > 0)).toBe(zero.length);
    const record = await f.state.load(judgeKey('svc', configJudgeReleaseKey('env1', 4)));
    expect(record?.baseline).toMatchObject({ from: started - 30 * MIN, to: started, samples: 30 * 60 });
  });

  test('a label that cannot be quoted widens the read instead of breaking the query', () => {
    expect(baselineQuery('svc', { plane: 'config', canary: 'a"b' })).not.toContain('config !=');
    expect(() => baselineQuery('Svc', { plane: 'code', canary: '4', stable: '3' })).toThrow('service "Svc" is not a service name');
  });
});
