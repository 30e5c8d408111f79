/**
 * The canary judge judges assigned config canaries on its own (issue 16 C): no AppConfig rollout runs while the share
 * controller ramps a release, so the schedule finds the release in the controller's record (phase `ramping`), judges
 * the candidate's label against live, and stores the verdict where the controller reads it. The controller, the real
 * one, moves the share on it: regression → share 0 (and the record says why); no regression → promotion.
 */
import { assignedFromRecord } from '../lambda/canary-judge/assigned-port';
import { type AssignedReleasesPort, type JudgeSettings, runSchedule } from '../lambda/canary-judge/canary-judge';
import { type ControllerPorts, type ControllerSettings, DEFAULT_SHARE_SCHEDULE, handle as look } from '../lambda/share-controller/controller';
import { judgeKey, type ShareControllerRecord } from '../lambda/shared/contract';
import { fakePorts, T0, traffic } from './canary-judge-fakes';

const S: JudgeSettings = { service: 'svc', alpha: 0.01, periodMs: 10_000, afterTrafficBoundMs: 600_000, configUnit: 'cluster' };
const MIN = 60_000;
const SETTINGS: ControllerSettings = { service: 'svc', schedule: DEFAULT_SHARE_SCHEDULE, alarmNames: ['svc-config-rollback'], clientLagSeconds: 20 };

/** The judge's fakes plus the real share controller on the same clock, sharing the judge's record store. */
function world(o: { canaryErrorEvery?: number } = {}) {
  // Live traffic before the release, then 10 % of it on the candidate label (the runtime stamps the served label).
  const lines = [
    ...traffic({ from: T0 - 5 * MIN, to: T0, rps: 5, canary: 'cfg-new', stable: 'cfg-old', canaryShare: 0, field: 'config' }),
    ...traffic({ from: T0, to: T0 + 20 * MIN, rps: 5, canary: 'cfg-new', stable: 'cfg-old', canaryShare: 0.1, field: 'config', ...o }),
  ];
  const f = fakePorts({ lines });
  let stored: ShareControllerRecord | undefined;
  const shares: number[] = [];
  const live: string[] = [];
  const controller: ControllerPorts = {
    share: {
      async deploy(doc) {
        shares.push(doc.share);
      },
    },
    live: {
      async deploy(version) {
        live.push(version);
        return 1;
      },
      async state() {
        return 'COMPLETE';
      },
    },
    alarms: async (names) => new Map(names.map((n) => [n, 'OK' as const])),
    // The controller reads the judge's record of its release (judge/<service>/<releaseKey>.json).
    verdict: async (releaseKey) => (await f.state.load(judgeKey('svc', releaseKey)))?.verdict,
    load: async () => stored,
    save: async (r) => {
      stored = r;
    },
    now: () => f.clock.now(),
    log: () => undefined,
  };
  const assigned: AssignedReleasesPort = { current: () => assignedFromRecord(stored, async () => 'unused') };
  const ports = { ...f.ports, assigned };
  return {
    f,
    ports,
    controller,
    shares,
    live,
    get stored() {
      return stored;
    },
  };
}

describe('the judge judges an assigned config canary from the share record', () => {
  test('a regressing candidate at 10 %: the schedule stores a regression for the release, the controller sets the share to 0 and says why', async () => {
    const w = world({ canaryErrorEvery: 3 });
    await look({ kind: 'ai-release.share-start', candidateVersion: '9', candidateLabel: 'cfg-new', candidateContentHash: 'h' }, w.controller, SETTINGS);
    const key = w.stored!.releaseKey;
    let verdictAt: number | undefined;
    for (let i = 1; i <= 3 && verdictAt === undefined; i++) {
      w.f.clock.t = T0 + i * MIN;
      const out = await runSchedule(w.ports, S, w.f.clock.t + 1);
      expect(out).toMatchObject({ deployments: 0, assignedRelease: key });
      if (w.f.state.objects.get(judgeKey('svc', key))?.verdict === 'regression') verdictAt = w.f.clock.t;
      await look({ kind: 'tick' }, w.controller, SETTINGS);
    }
    expect(verdictAt).toBeDefined();
    expect(w.f.state.objects.get(judgeKey('svc', key))).toMatchObject({ plane: 'config', canary: 'cfg-new', verdict: 'regression' });
    expect(w.f.verdict.published.at(-1)).toMatchObject({ plane: 'config', value: 1 });
    // Share 0 at the controller's first look after the verdict; never promoted; the record says the judge did it.
    expect(w.shares).toEqual([0.1, 0]);
    expect(w.live).toEqual([]);
    expect(w.stored).toMatchObject({ phase: 'rolled-back', share: 0, reason: 'the canary judge shows a regression' });
    // The release is decided: the next minute judges nothing (no query), whatever the stream holds.
    const queries = w.f.logs.calls.length;
    w.f.clock.t += MIN;
    expect(await runSchedule(w.ports, S, w.f.clock.t + 1)).toEqual({ deployments: 0, cycles: 0 });
    expect(w.f.logs.calls.length).toBe(queries);
  });

  test('the candidate is judged from the release start on, by arm (the config label the runtime stamps)', async () => {
    const w = world();
    w.f.clock.t = T0;
    await look({ kind: 'ai-release.share-start', candidateVersion: '9', candidateLabel: 'cfg-new', candidateContentHash: 'h' }, w.controller, SETTINGS);
    w.f.clock.t = T0 + 2 * MIN;
    await runSchedule(w.ports, S, w.f.clock.t + 1);
    const r = w.f.state.objects.get(judgeKey('svc', w.stored!.releaseKey))!;
    expect(r.canary).toBe('cfg-new');
    expect(r.samples.canary).toBeGreaterThan(0);
    // 10 % of the lines are the candidate's: the stable side holds the other 90 %.
    expect(r.samples.stable / r.samples.canary).toBeGreaterThan(7);
    expect(r.verdict).not.toBe('regression');
    expect(w.f.batches.flatMap((b) => b.observations).every((ob) => ob.at >= T0)).toBe(true);
  });

  test('a good candidate is not held back by the judge: the controller ramps to 50 % and promotes', async () => {
    const w = world();
    w.f.clock.t = T0;
    await look({ kind: 'ai-release.share-start', candidateVersion: '9', candidateLabel: 'cfg-new', candidateContentHash: 'h' }, w.controller, SETTINGS);
    for (let i = 1; i <= 12 && w.stored?.phase !== 'promoted'; i++) {
      w.f.clock.t = T0 + i * MIN;
      await runSchedule(w.ports, S, w.f.clock.t + 1);
      await look({ kind: 'tick' }, w.controller, SETTINGS);
    }
    expect(w.shares).toEqual([0.1, 0.5, 0]);
    expect(w.live).toEqual(['9']);
    expect(w.stored?.phase).toBe('promoted');
  });

  test('only a ramping release is judged; its label comes from the record, else from the hosted version', async () => {
    const rec = (over: Partial<ShareControllerRecord>): ShareControllerRecord => ({
      schemaVersion: 1,
      service: 'svc',
      releaseKey: 'config-assigned-9-x',
      candidateVersion: '9',
      candidateContentHash: 'h',
      phase: 'ramping',
      step: 0,
      share: 0.1,
      stepSince: 5,
      startedAt: 5,
      history: [],
      ...over,
    });
    const asked: string[] = [];
    const label = async (v: string) => (asked.push(v), `cfg-of-${v}`);
    expect(await assignedFromRecord(undefined, label)).toBeUndefined();
    for (const phase of ['promoting', 'promoted', 'rolled-back'] as const) expect(await assignedFromRecord(rec({ phase }), label)).toBeUndefined();
    expect(await assignedFromRecord(rec({ candidateLabel: 'cfg-new' }), label)).toEqual({
      releaseKey: 'config-assigned-9-x',
      candidateLabel: 'cfg-new',
      startedAt: 5,
    });
    expect(asked).toEqual([]);
    expect(await assignedFromRecord(rec({}), label)).toMatchObject({ candidateLabel: 'cfg-of-9' });
    expect(asked).toEqual(['9']);
  });
});
