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
import { fullTrafficMinute, type Regression, type Schedule, type SimulationOptions, type TrafficModel } from '../lambda/judge/simulate';
import { mulberry32, normal } from '../lambda/judge/simulate';

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

// One seeded generator and one normal draw for the simulations, the engine's own (lambda/judge/simulate.ts).
export { mulberry32 };

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
    state = updateJudge(state, { canaryShare: 0, observations: minuteOfTraffic(rand, sc, 0, minute * 60_000) }, { inPlace: true }).state;
  }
  for (let minute = 0; minute < minutes; minute++) {
    const s = minute < (sc.canaryMinutes ?? 5) ? share : 1;
    const r = updateJudge(state, { canaryShare: s, observations: minuteOfTraffic(rand, sc, s, minute * 60_000) }, { inPlace: true });
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

// ---- Issue 16: traffic as production has it (lambda/judge/simulate.ts) -------------------------------------------

/** CodeDeploy's default here: 10 % for 5 minutes, then 100 % for the 10-minute after-traffic bound. */
export const CANARY_10_5: Schedule = {
  steps: [
    { atMinute: 0, share: 0.1 },
    { atMinute: 5, share: 1 },
  ],
  endMinute: 15,
};

/** TimeBasedCanary: `percent` for `minutes`, then 100 % for `afterMinutes`. */
export function canarySchedule(percent: number, minutes: number, afterMinutes = 10): Schedule {
  return {
    steps: [
      { atMinute: 0, share: percent / 100 },
      { atMinute: minutes, share: 1 },
    ],
    endMinute: minutes + afterMinutes,
  };
}

/** TimeBasedLinear: +`percent` every `minutes` until 100 %, then `afterMinutes`. */
export function linearSchedule(percent: number, minutes: number, afterMinutes = 10): Schedule {
  const steps: { atMinute: number; share: number }[] = [];
  for (let i = 0, p = percent; ; i++, p += percent) {
    steps.push({ atMinute: i * minutes, share: Math.min(100, p) / 100 });
    if (p >= 100) break;
  }
  return { steps, endMinute: steps[steps.length - 1].atMinute + afterMinutes };
}

export interface WorldScenario {
  readonly name: string;
  /** The traffic, given the schedule (disturbances "after full traffic" start at the schedule's full-traffic minute). */
  readonly traffic: (schedule: Schedule) => TrafficModel;
  readonly options?: SimulationOptions;
}

/** Config plane, per-conversation assignment in the runtime: 4 turns per conversation, conversations that differ. */
const CONVERSATIONS: TrafficModel = {
  rps: 5,
  assignment: 'conversation',
  conversations: { meanTurns: 4, errorSpread: 1.5, latencySpread: 0.3 },
  environments: { perVersion: 3, errorSpread: 0.2, latencySpread: 0.03, shared: true },
};

/**
 * Good releases (the new version behaves as the old one) under each condition of the issue 16 table, plus ramps and
 * uneven environments. The wiring's default: a 30-minute stable baseline before the release.
 */
export const GOOD_WORLD: readonly WorldScenario[] = [
  { name: 'i.i.d., stationary, 5 rps', traffic: () => ({ rps: 5 }) },
  {
    name: 'a shared dependency: both versions at 5 % errors for 2 min after full traffic',
    traffic: (s) => ({ rps: 5, disturbances: [{ fromMinute: fullTrafficMinute(s) + 1, toMinute: fullTrafficMinute(s) + 3, errorRate: 0.05 }] }),
  },
  {
    name: 'shared latency ×1.2 after full traffic',
    traffic: (s) => ({ rps: 5, disturbances: [{ fromMinute: fullTrafficMinute(s), toMinute: 1e9, latencyFactor: 1.2 }] }),
  },
  {
    name: 'shared latency ×1.5 after full traffic',
    traffic: (s) => ({ rps: 5, disturbances: [{ fromMinute: fullTrafficMinute(s), toMinute: 1e9, latencyFactor: 1.5 }] }),
  },
  {
    name: 'traffic doubles during the release, errors grow with load',
    traffic: (s) => ({
      rps: 5,
      load: [
        [0, 1],
        [s.endMinute, 2],
      ],
      errorLoadExponent: 1,
    }),
  },
  { name: 'callers retry a failing request 5 times (clustered failures)', traffic: () => ({ rps: 5, retries: 5 }) },
  {
    name: 'code plane: 3 execution environments per version that differ a little',
    traffic: () => ({ rps: 5, environments: { perVersion: 3, errorSpread: 0.2, latencySpread: 0.03 } }),
  },
  {
    name: 'config plane via AppConfig (per environment): 3 environments that differ a little, share observed',
    traffic: () => ({ rps: 5, assignment: 'environment', environments: { perVersion: 3, errorSpread: 0.2, latencySpread: 0.03, shared: true } }),
  },
  {
    name: 'config plane per conversation (runtime): hard and slow conversations, 3 shared environments, clusters = conversations',
    traffic: () => CONVERSATIONS,
    options: { clusterBy: 'conversation', judge: { unit: 'cluster' } },
  },
  {
    name: 'the same traffic judged per request (no cluster keys): the invalid design',
    traffic: () => CONVERSATIONS,
    options: { clusterBy: 'none' },
  },
  { name: 'drifting mix: a 10 %-error request type from 5 % to 15 % of traffic', traffic: () => ({ rps: 5, mix: { errorRate: 0.1, from: 0.05, to: 0.15 } }) },
  {
    name: 'traffic ramp: load ×0.5 → ×1.5 over the release',
    traffic: (s) => ({
      rps: 5,
      load: [
        [0, 0.5],
        [s.endMinute, 1.5],
      ],
    }),
  },
];

export const BAD_ERRORS_X3: Regression = { errorFactor: 3 };
export const BAD_P50_20: Regression = { latencyFactor: 1.2 };

/** The balanced step the planner's schedules use here: 50 % for 20 minutes, then 100 % for 10. */
export const BALANCED_50_20: Schedule = canarySchedule(50, 20);

/** Shared disturbances DURING a judged step (concurrent control present): the randomization must absorb them. */
export const DURING_STEP: readonly WorldScenario[] = [
  {
    name: 'during the step: both versions at 5 % errors for 2 min',
    traffic: () => ({ rps: 5, disturbances: [{ fromMinute: 8, toMinute: 10, errorRate: 0.05 }] }),
  },
  {
    name: 'during the step: shared latency ×1.5 from minute 5',
    traffic: () => ({ rps: 5, disturbances: [{ fromMinute: 5, toMinute: 1e9, latencyFactor: 1.5 }] }),
  },
  {
    name: 'during the step: traffic doubles, errors grow with load, callers retry 5 times',
    traffic: (s) => ({
      rps: 5,
      load: [
        [0, 1],
        [s.endMinute, 2],
      ],
      errorLoadExponent: 1,
      retries: 5,
    }),
  },
];
