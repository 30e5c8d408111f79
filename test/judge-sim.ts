/**
 * Simulated request streams for the canary judge, where the answer is known. Shared by test/judge-sim.test.ts (a
 * small seeded run) and bench/judge.ts (the 1,000-seed figures).
 *
 * Poisson arrivals (exponential gaps) at `rps`; a canary share of 10 % for 5 minutes, then 100 % for 10 minutes
 * (the after-traffic bound); the judge runs once a minute on the minute's requests. Stable: error 1 %, safety
 * 0.1 %, contract 0.5 %, latency log-normal (median 1,200 ms, σ 0.5), cost log-normal (median 0.002 USD, σ 0.3),
 * quality normal (0.8, 0.1) clipped to [0, 1]. Optionally, `baselineMinutes` of stable-only traffic before the
 * deployment (what the judge's reader can query from the logs of the stable version).
 */
import { concludeJudge, newJudgeState, updateJudge, type JudgeObservation, type JudgeOptions } from '../lambda/judge/judge';

export interface Scenario {
  readonly rps: number;
  /** Canary error rate = base × this. @default 1 */
  readonly errorFactor?: number;
  /** Canary median latency = stable × this. @default 1 */
  readonly latencyFactor?: number;
  readonly baseErrorRate?: number;
  readonly latencySigma?: number;
  readonly canaryShare?: number;
  readonly canaryMinutes?: number;
  readonly afterMinutes?: number;
  /** Minutes of stable-only traffic before the deployment, fed as canaryShare 0 (the baseline). @default 0 */
  readonly baselineMinutes?: number;
  readonly options?: Partial<JudgeOptions>;
}

export interface Outcome {
  /** Regression called while the canary had its first share (before full rollout). */
  readonly beforeFull: boolean;
  /** Regression called by the end of the after-traffic bound. */
  readonly byBound: boolean;
  readonly conclusion: 'regression' | 'no-regression-shown' | 'inconclusive';
  readonly firstMetric?: string;
}

export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(rand: () => number): number {
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** One minute of Poisson traffic starting at `t0` ms. */
export function minuteOfTraffic(rand: () => number, sc: Scenario, share: number, t0: number): JudgeObservation[] {
  const base = sc.baseErrorRate ?? 0.01;
  const sigma = sc.latencySigma ?? 0.5;
  const out: JudgeObservation[] = [];
  let t = 0;
  for (;;) {
    t += -Math.log(1 - rand()) / sc.rps;
    if (t >= 60) break;
    const canary = share >= 1 || rand() < share;
    const errRate = canary ? Math.min(1, base * (sc.errorFactor ?? 1)) : base;
    out.push({
      version: canary ? 'canary' : 'stable',
      at: t0 + Math.floor(t * 1000),
      error: rand() < errRate,
      safety: rand() < 0.001,
      contract: rand() < 0.005,
      latencyMs: 1200 * (canary ? (sc.latencyFactor ?? 1) : 1) * Math.exp(sigma * normal(rand)),
      costUsd: 0.002 * Math.exp(0.3 * normal(rand)),
      quality: Math.min(1, Math.max(0, 0.8 + 0.1 * normal(rand))),
    });
  }
  return out;
}

export function runScenario(seed: number, sc: Scenario): Outcome {
  const rand = mulberry32(seed * 2654435761 + 1);
  let state = newJudgeState(sc.options);
  const share = sc.canaryShare ?? 0.1;
  let beforeFull = false;
  let byBound = false;
  let firstMetric: string | undefined;
  const minutes = (sc.canaryMinutes ?? 5) + (sc.afterMinutes ?? 10);
  const before = sc.baselineMinutes ?? 0;
  for (let minute = -before; minute < 0; minute++) {
    state = updateJudge(state, { canaryShare: 0, observations: minuteOfTraffic(rand, sc, 0, minute * 60_000) }).state;
  }
  for (let minute = 0; minute < minutes; minute++) {
    const s = minute < (sc.canaryMinutes ?? 5) ? share : 1;
    const r = updateJudge(state, { canaryShare: s, observations: minuteOfTraffic(rand, sc, s, minute * 60_000) });
    state = r.state;
    if (r.decision === 'regression') {
      firstMetric = r.evidence.find((e) => e.eValue >= e.threshold)?.metric;
      if (s < 1) beforeFull = true;
      byBound = true;
      break;
    }
  }
  return { beforeFull, byBound, conclusion: concludeJudge(state), firstMetric };
}

export interface Tally {
  readonly runs: number;
  readonly beforeFull: number;
  readonly byBound: number;
  readonly noRegressionShown: number;
  readonly inconclusive: number;
  readonly byMetric: Record<string, number>;
}

export function tally(seeds: number, firstSeed: number, sc: Scenario): Tally {
  let beforeFull = 0;
  let byBound = 0;
  let noRegressionShown = 0;
  let inconclusive = 0;
  const byMetric: Record<string, number> = {};
  for (let i = 0; i < seeds; i++) {
    const o = runScenario(firstSeed + i, sc);
    if (o.beforeFull) beforeFull++;
    if (o.byBound) byBound++;
    if (o.conclusion === 'no-regression-shown') noRegressionShown++;
    if (o.conclusion === 'inconclusive') inconclusive++;
    if (o.firstMetric) byMetric[o.firstMetric] = (byMetric[o.firstMetric] ?? 0) + 1;
  }
  return { runs: seeds, beforeFull, byBound, noRegressionShown, inconclusive, byMetric };
}
