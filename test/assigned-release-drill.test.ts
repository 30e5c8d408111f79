/**
 * The assigned config canary end to end in the drill (lib/drill/assigned-release.ts): the runtime's assignment, the
 * real canary judge and the real share controller on one virtual clock. A few seeds here; bench/drill-assigned.ts runs
 * the full count (bench/RESULTS.md).
 */
import { DEFAULT_SHARE_SCHEDULE } from '../lambda/share-controller/controller';
import { type AssignedDrillOptions, drillAssignedReleases, runAssignedRelease } from '../lib/drill/assigned-release';
import { DEFAULT_PROPAGATION } from '../lib/drill/share-rollback';

const BAD: AssignedDrillOptions = { ratePerSecond: 5, schedule: DEFAULT_SHARE_SCHEDULE, baseErrorRate: 0.005, candidateErrorRate: 0.2, periodSeconds: 60 };

describe('assigned config canary, judge and controller on one clock (drill)', () => {
  test('a bad candidate (20 % errors at 5 req/s) is rolled back by the judge before promotion; the candidate is off traffic within one poll of share 0', async () => {
    const s = await drillAssignedReleases(BAD, 4);
    expect(s.rolledBack).toBe(4);
    expect(s.promoted).toBe(0);
    for (const r of s.results) {
      // The judge's record (the controller's next look) or its verdict alarm (EventBridge), whichever came first.
      expect(r.reason).toMatch(/^(the canary judge shows a regression|alarm in ALARM: verdict)$/);
      // The share went to 0 after the verdict, by the controller's next look or the verdict alarm, whichever first:
      // at most a minute (the look) after the verdict, never before it.
      expect(r.shareZeroAt! - r.verdictAt!).toBeGreaterThanOrEqual(0);
      expect(r.shareZeroAt! - r.verdictAt!).toBeLessThanOrEqual(60);
      // Everyone off the candidate within one extension poll of the share-0 deployment: the runtime reads the share
      // document through while a release runs (share-reader.ts), so its own TTL adds nothing.
      expect(r.lastCandidateAt! - r.shareZeroAt!).toBeLessThanOrEqual(DEFAULT_PROPAGATION.pollIntervalSeconds);
      // Before the 50 % step's end: the release never reached promotion.
      expect(r.shareZeroAt!).toBeLessThan(120 + 300);
    }
    expect(s.timeToRollback.median).toBeGreaterThan(30);
  }, 60_000);

  test('a good candidate on production-like traffic (clusters, a shared disturbance, drift) is promoted, not rolled back', async () => {
    const s = await drillAssignedReleases({ ...BAD, candidateErrorRate: BAD.baseErrorRate }, 4, 500);
    expect(s.rolledBack).toBe(0);
    expect(s.promoted).toBe(4);
  }, 60_000);

  test('the shared disturbance alone does not roll back: both arms see it, so the comparison does not move', async () => {
    const r = await runAssignedRelease({ ...BAD, candidateErrorRate: BAD.baseErrorRate, disturbance: { fromSeconds: 60, seconds: 240, factor: 10 } }, 7);
    expect(r.outcome).toBe('promoted');
    // The candidate did see the disturbance: its error rate over the release was far above the base.
    expect(r.candidateErrors / r.candidateRequests).toBeGreaterThan(2 * BAD.baseErrorRate);
  }, 60_000);

  test('the run is a function of its seed', async () => {
    const a = await runAssignedRelease(BAD, 3);
    const b = await runAssignedRelease(BAD, 3);
    expect(a).toEqual(b);
    expect((await runAssignedRelease(BAD, 4)).firstBadAt).not.toBe(a.firstBadAt);
  }, 60_000);
});
