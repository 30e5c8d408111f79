/**
 * The canary planner checked against the real engine: a schedule of judged steps (share < 1) is run minute by minute
 * through the pure judge (lambda/judge/judge.ts) on Poisson traffic from test/judge-sim.ts, and the share of seeds
 * that call a regression before full rollout is the simulated power. Shared by test/canary-plan.test.ts (few seeds)
 * and bench/canary-plan.ts (1,000 seeds).
 *
 * The engine is reached through `judgeSchedule` and `catchMinute` alone, so it can be pointed at a reworked engine.
 */
import { newJudgeState, updateJudge, type JudgeObservation, type JudgeOptions } from '../lambda/judge/judge';
import { TrafficGenerator } from '../lambda/judge/simulate';
import type { PlanStep } from '../lib/rollout/canary-plan';
import { minuteOfTraffic, mulberry32, type Scenario } from './judge-sim';

export interface PlanScenario extends Scenario {
  /** Canary quality = stable − this (clipped to [0, 1]). @default 0 */
  readonly qualityDrop?: number;
  /**
   * Clustered failures: every failing input is retried by its caller until it has failed this many times (each retry
   * routed on its own at the share, failing on either version: the input is bad), all with the input's cluster key.
   * The first failure's chance depends on its version (the regression); the retries are noise that the judge must fold.
   * @default 1 (no retries)
   */
  readonly clusterSize?: number;
  /** Leave the cluster keys off (the judge then counts every failing request). @default false */
  readonly unkeyed?: boolean;
  /**
   * The assigned config canary with conversations of this mean length (requests per conversation): traffic from the
   * engine's own generator (lambda/judge/simulate.ts `TrafficGenerator`, assignment 'conversation': a conversation's
   * version is drawn once, at its first request, with the share of that minute, and kept), every observation keyed
   * by its conversation and carrying its assigned share, judged with unit 'cluster' — what the wiring feeds the judge
   * on the 'assigned' path (lambda/canary-judge/samples.ts). @default undefined (the code plane: per-request routing)
   */
  readonly conversationTurns?: number;
}

/**
 * True when the engine calls a regression during the judged steps. The minutes are consumed one at a time and the rest
 * are never built once the engine has called it (a lazy `scheduleMinutes` stops generating traffic there).
 */
export function judgeSchedule(minutes: Iterable<{ share: number; observations: JudgeObservation[] }>, options?: Partial<JudgeOptions>): boolean {
  let state = newJudgeState(options);
  for (const m of minutes) {
    const r = updateJudge(state, { canaryShare: m.share, observations: m.observations });
    state = r.state;
    if (r.decision === 'regression') return true;
  }
  return false;
}

/**
 * The schedule's minutes of traffic, generated in order on demand: minute m's draws come after minute m − 1's from the
 * same seeded streams, so a consumer that stops early sees exactly the minutes an eager list would have held.
 */
export function* scheduleMinutes(seed: number, sc: PlanScenario, steps: readonly PlanStep[]): Generator<{ share: number; observations: JudgeObservation[] }> {
  const rand = mulberry32(seed * 2654435761 + 7);
  const total = steps.reduce((a, x) => a + x.minutes, 0);
  const conversations =
    sc.conversationTurns !== undefined
      ? new TrafficGenerator(
          seed,
          {
            rps: sc.rps,
            ...(sc.baseErrorRate !== undefined ? { baseErrorRate: sc.baseErrorRate } : {}),
            ...(sc.latencySigma !== undefined ? { latencySigma: sc.latencySigma } : {}),
            assignment: 'conversation',
            conversations: { meanTurns: sc.conversationTurns },
          },
          {
            ...(sc.errorFactor !== undefined ? { errorFactor: sc.errorFactor } : {}),
            ...(sc.latencyFactor !== undefined ? { latencyFactor: sc.latencyFactor } : {}),
          },
          total,
        )
      : undefined;
  let minute = 0;
  for (const st of steps)
    for (let i = 0; i < st.minutes; i++, minute++) {
      const obs = conversations
        ? conversations.minute(minute, st.share, 'conversation')
        : withRetries(rand, minuteOfTraffic(rand, sc, st.share, minute * 60_000), sc, st.share, `${seed}-${minute}`);
      const drop = sc.qualityDrop ?? 0;
      yield {
        share: st.share,
        observations:
          drop === 0 ? obs : obs.map((o) => (o.version === 'canary' && o.quality !== undefined ? { ...o, quality: Math.max(0, o.quality - drop) } : o)),
      };
    }
}

/** Each failing request of the minute becomes a cluster of `clusterSize` failing requests (its retries follow it). */
function withRetries(rand: () => number, obs: JudgeObservation[], sc: PlanScenario, share: number, tag: string): JudgeObservation[] {
  const k = sc.clusterSize ?? 1;
  if (k <= 1) return obs;
  const out: JudgeObservation[] = [];
  obs.forEach((o, i) => {
    if (!o.error) {
      out.push(o);
      return;
    }
    const cluster = sc.unkeyed ? {} : { cluster: `${tag}-${i}` };
    out.push({ ...o, ...cluster });
    for (let r = 1; r < k; r++) out.push({ ...o, ...cluster, version: rand() < share ? 'canary' : 'stable', at: o.at + r });
  });
  return out;
}

/** The minute (1-based) at which the engine calls a regression during the judged steps, or 0 when it never does. */
export function catchMinute(seed: number, sc: PlanScenario, steps: readonly PlanStep[]): number {
  let state = newJudgeState(sc.conversationTurns !== undefined ? { unit: 'cluster' } : undefined);
  let n = 0;
  for (const m of scheduleMinutes(seed, sc, steps)) {
    n++;
    const r = updateJudge(state, { canaryShare: m.share, observations: m.observations });
    state = r.state;
    if (r.decision === 'regression') return n;
  }
  return 0;
}

/** Share of seeds caught before full rollout. */
export function simulatedPower(seeds: number, firstSeed: number, sc: PlanScenario, steps: readonly PlanStep[]): number {
  let caught = 0;
  for (let i = 0; i < seeds; i++) if (catchMinute(firstSeed + i, sc, steps) > 0) caught++;
  return caught / seeds;
}

/**
 * `simulatedPower` that remembers each seed's verdict, for a test file that asks for the same seed of the same scenario
 * more than once. A seed's minute m depends only on the seed, the scenario and the shares of minutes 1..m (the streams
 * are drawn in minute order and nothing reads the schedule's length: `scheduleMinutes`), and the engine's verdict at m
 * only on those minutes. So a seed run on one schedule answers for any schedule whose minute-by-minute shares are a
 * prefix of it (caught iff caught by its last minute), and one caught on a prefix is caught on the longer schedule.
 * The answers are exactly those of `simulatedPower` (pinned by test/canary-plan-pin.test.ts).
 */
export class SeedMemo {
  private readonly runs = new Map<string, { shares: number[]; minute: number }>();
  /** Engine runs done (seeds not answered from memory). */
  computed = 0;

  power(seeds: number, firstSeed: number, sc: PlanScenario, steps: readonly PlanStep[]): number {
    const shares = steps.flatMap((st) => Array.from({ length: st.minutes }, () => st.share));
    let caught = 0;
    for (let i = 0; i < seeds; i++) {
      const key = `${JSON.stringify(sc)}#${firstSeed + i}`;
      const known = this.runs.get(key);
      const n = known ? prefixLength(known.shares, shares) : 0;
      let minute: number;
      if (known && n === shares.length) minute = known.minute > 0 && known.minute <= n ? known.minute : 0;
      else if (known && n === known.shares.length && known.minute > 0) minute = known.minute;
      else {
        this.computed++;
        minute = catchMinute(firstSeed + i, sc, steps);
        if (!known || shares.length > known.shares.length) this.runs.set(key, { shares, minute });
      }
      if (minute > 0) caught++;
    }
    return caught / seeds;
  }
}

function prefixLength(a: readonly number[], b: readonly number[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}
