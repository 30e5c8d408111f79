/**
 * The execution environment as the randomization unit (issue 16 B3): AppConfig's own rollout (configCanary
 * 'appconfig') tells CLIENTS — execution environments — to take the new config, by a hash of the client, at a growing
 * percentage; each takes it at its extension's next poll. Every request of an environment then carries its
 * environment's label, so an environment that errs more or runs slower for reasons of its own (a noisy host, a cold
 * cache, a slow AZ) rides on whichever label it has. Betting per request blames that on the release (measured:
 * 3.5 % of good releases rolled back at σ errors 0.5 / latency 0.15, 3 environments, bench/RESULTS.md § h9-audit16).
 *
 * What IS random, and known: which environments switch when. Under the sharp null (the new config changes no
 * outcome) the switch times τ_e are drawn independently of every outcome (AppConfig's hash of the client, the poll's
 * phase), and i.i.d. across environments. So, given everything seen before a batch (every outcome, every label), the
 * environments whose last line was on the old config in the previous batch — the POOL — are exchangeable in whether
 * they switch now: conditional on how many of them switched (m of n), WHICH m is a uniformly random m-subset of the
 * pool. One bet per batch with a switch: "the environments that switched are the ones that then did worse", scored on
 * the pool's outcomes over the next HORIZON_MS, paid as exp(λ Σ_switched g) over its mean over all m-subsets (the
 * exact permutation moment, as in judge.ts `permutationBet`). Each bet has conditional expectation exactly 1 given
 * the earlier ones (any function of the outcomes may be the score: under the sharp null they are independent of the
 * labels), so the product over bets, settled in order, is a nonnegative martingale and Ville's inequality bounds the
 * chance it ever reaches 1/α by α. Environment effects of any size, dependence within an environment (retries,
 * sessions, a warm cache) and shared disturbances over time cannot move it: they are all in the outcomes, which the
 * bet conditions on. An environment switched earlier is never bet on again (its label is known), and an environment
 * first seen on the new config is never in a pool (it was born switched, at an unknown chance).
 *
 * The price: the evidence is bounded by the design. A bet on m of n pays at most C(n, m); the product over a rollout
 * is at most the number of orders in which the environments could have switched — 3! = 6 for three environments,
 * far below a per-metric threshold of 2k/α (1,200 at α 0.01 over six metrics). So with few environments AppConfig's
 * rollout CANNOT be judged validly at all: no test that holds its false-rollback bound under environment effects can
 * roll it back. That is a fact of the design, not of this test; `configCanary: 'assigned'` (the runtime assigns
 * conversations) is the judged path, and the threshold alarms remain AppConfig's safety net.
 *
 * Approximation (stated): exchangeability needs each pool environment's last old line to be near the batch boundary;
 * an environment with no line for a while before the boundary had more time to switch unseen. At the traffic this is
 * built for (≥ 1 request per environment per judge period) the difference is a fraction of a period.
 *
 * Pure and JSON-serializable; no SDK.
 */
import { hash32 } from './stats';

/**
 * Outcomes of the pool over this long after a switch batch's first request score its bet. Chosen on 20 seeds of
 * the 20 %-errors row (15, 20, 30, 60 s: 1, 3, 8, 1 of 20 caught): shorter than ConfigRollout.DEFAULT's 36-s step,
 * so the pool's next switchers rarely dilute it. Any horizon keeps the bet exact; it only moves power.
 */
export const HORIZON_MS = 30_000;
/** Environments one bet ranks at most (chosen by a hash of their key, never by label or outcome). */
export const POOL_CAP = 64;
/** Values kept per environment and metric per bet (the first ones, by arrival). */
const VALUES_CAP = 400;
/** Environments remembered (their last side); beyond it, new environments are not tracked. */
const ENVIRONMENTS_CAP = 5_000;

/** One observation as the environment bets read it. */
export interface EnvironmentObservation {
  readonly environment?: string;
  readonly version: 'canary' | 'stable';
  readonly at: number;
}

/** A switch bet waiting for its horizon: the pool, who switched, and the pool's outcomes so far. */
export interface PendingSwitchBet {
  readonly from: number;
  readonly until: number;
  readonly pool: string[];
  readonly switched: string[];
  /** Per metric, per pool environment (same order as `pool`): counts [requests, events]; values: the oriented values. */
  readonly counts: Record<string, [number, number][]>;
  readonly values: Record<string, number[][]>;
}

export interface EnvironmentState {
  /** Each environment's last line: [1 = new config (canary) / 0 = old, the batch it was in]. */
  last: Record<string, [0 | 1, number]>;
  pending: PendingSwitchBet[];
  /** Bets opened, and settled (scored and paid). */
  opened: number;
  settled: number;
}

export function newEnvironmentState(): EnvironmentState {
  return { last: {}, pending: [], opened: 0, settled: 0 };
}

export function copyEnvironmentState(s: EnvironmentState): EnvironmentState {
  const last: EnvironmentState['last'] = {};
  for (const [k, v] of Object.entries(s.last)) last[k] = [v[0], v[1]];
  return {
    last,
    pending: s.pending.map((p) => ({
      ...p,
      pool: p.pool.slice(),
      switched: p.switched.slice(),
      counts: Object.fromEntries(Object.entries(p.counts).map(([m, c]) => [m, c.map((x) => [x[0], x[1]] as [number, number])])),
      values: Object.fromEntries(Object.entries(p.values).map(([m, v]) => [m, v.map((x) => x.slice())])),
    })),
    opened: s.opened,
    settled: s.settled,
  };
}

/** A metric as the bets read it: a count (an event flag) or a value (oriented: larger is worse). */
export interface EnvironmentMetric<O> {
  readonly metric: string;
  /** Counts: did the event happen. Values: the oriented value, or undefined when the request has none. */
  readonly count?: (o: O) => boolean;
  readonly value?: (o: O) => number | undefined;
}

/** A settled bet of one metric: each scored environment's score g in [-1, 1] (higher: worse) and whether it switched. */
export interface SettledBet {
  readonly metric: string;
  readonly g: readonly number[];
  readonly switched: readonly boolean[];
}

/**
 * Folds one batch (observations sorted by time, batch number `batch`) into `st`: adds the batch's outcomes to the
 * open bets, opens this batch's bet when some but not all of its pool switched, and returns the bets whose horizon
 * the batch passed, oldest first (the caller pays them, in that order).
 */
export function updateEnvironments<O extends EnvironmentObservation>(
  st: EnvironmentState,
  batch: number,
  obs: readonly O[],
  metrics: readonly EnvironmentMetric<O>[],
): SettledBet[] {
  const keyed = obs.filter((o) => o.environment !== undefined);
  if (keyed.length === 0) return [];
  // Who switched in this batch: pool environments (last line old, in the previous batch) with a new-config line now.
  const present = new Map<string, { newLine: boolean; lastSide: 0 | 1 }>();
  for (const o of keyed) {
    const e = o.environment as string;
    const side: 0 | 1 = o.version === 'canary' ? 1 : 0;
    const p = present.get(e);
    if (p) {
      p.lastSide = side;
      if (side === 1) p.newLine = true;
    } else present.set(e, { newLine: side === 1, lastSide: side });
  }
  // The first batch with environments: those whose first line in it is old are the pool (all seen from the same
  // start, none known switched); an environment first seen later was born during the rollout and is never pooled.
  const first = Object.keys(st.last).length === 0;
  const firstSide = new Map<string, 0 | 1>();
  for (const o of keyed) if (!firstSide.has(o.environment as string)) firstSide.set(o.environment as string, o.version === 'canary' ? 1 : 0);
  let pool = [...present.keys()].filter((e) => {
    const l = st.last[e];
    if (first) return firstSide.get(e) === 0;
    return l !== undefined && l[0] === 0 && l[1] === batch - 1;
  });
  if (pool.length > POOL_CAP) pool = pool.sort((a, b) => hash32(a) - hash32(b) || (a < b ? -1 : 1)).slice(0, POOL_CAP);
  const switched = pool.filter((e) => present.get(e)?.newLine);
  const from = keyed[0].at;
  if (switched.length > 0 && switched.length < pool.length) {
    st.pending.push({
      from,
      until: from + HORIZON_MS,
      pool,
      switched,
      counts: Object.fromEntries(metrics.filter((m) => m.count).map((m) => [m.metric, pool.map(() => [0, 0] as [number, number])])),
      values: Object.fromEntries(metrics.filter((m) => m.value).map((m) => [m.metric, pool.map(() => [])])),
    });
    st.opened++;
  }
  for (const [e, p] of present) {
    if (st.last[e] !== undefined || Object.keys(st.last).length < ENVIRONMENTS_CAP) st.last[e] = [p.lastSide, batch];
  }
  // The batch's outcomes, into every open bet whose horizon they fall in.
  for (const b of st.pending) {
    const index = new Map(b.pool.map((e, i) => [e, i]));
    for (const o of keyed) {
      if (o.at < b.from || o.at >= b.until) continue;
      const i = index.get(o.environment as string);
      if (i === undefined) continue;
      for (const m of metrics) {
        if (m.count) {
          const c = b.counts[m.metric][i];
          c[0]++;
          if (m.count(o)) c[1]++;
        } else if (m.value) {
          const v = m.value(o);
          const vs = b.values[m.metric][i];
          if (v !== undefined && Number.isFinite(v) && vs.length < VALUES_CAP) vs.push(v);
        }
      }
    }
  }
  // Settle, in order, the bets whose horizon this batch passed (observations arrive in time order across batches).
  const latest = keyed[keyed.length - 1].at;
  const out: SettledBet[] = [];
  while (st.pending.length > 0 && st.pending[0].until <= latest) {
    const b = st.pending.shift() as PendingSwitchBet;
    st.settled++;
    const isSwitched = new Set(b.switched);
    for (const m of metrics) {
      const scored = m.count ? countScores(b.counts[m.metric]) : valueScores(b.values[m.metric]);
      const g: number[] = [];
      const sw: boolean[] = [];
      for (let i = 0; i < b.pool.length; i++) {
        const x = scored[i];
        if (x === undefined) continue;
        g.push(x);
        sw.push(isSwitched.has(b.pool[i]));
      }
      const k = sw.filter(Boolean).length;
      if (k > 0 && k < sw.length) out.push({ metric: m.metric, g, switched: sw });
    }
  }
  return out;
}

/**
 * Counts: each environment's event rate over the horizon, as a mid-rank score in [-1, 1] among the pool (higher:
 * more events per request). Environments with no request in the horizon are left out (which ones have requests is
 * routing, not the label).
 */
function countScores(c: readonly [number, number][]): (number | undefined)[] {
  const rates = c.map(([n, e]) => (n > 0 ? e / n : undefined));
  return midRanks(rates);
}

/** Values: each environment's mean pooled mid-rank of its values (higher: worse), in [-1, 1]. */
function valueScores(v: readonly number[][]): (number | undefined)[] {
  const all = v.flat().sort((a, b) => a - b);
  if (all.length === 0) return v.map(() => undefined);
  return v.map((xs) => {
    if (xs.length === 0) return undefined;
    let s = 0;
    for (const x of xs) {
      const lo = lowerIndex(all, x);
      const hi = upperIndex(all, x);
      s += (lo + hi) / 2 / all.length;
    }
    return 2 * (s / xs.length) - 1;
  });
}

/** Mid-rank scores in [-1, 1] of the defined entries (ties share their mid-rank). */
function midRanks(x: readonly (number | undefined)[]): (number | undefined)[] {
  const defined = x.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  const n = defined.length;
  return x.map((v) => {
    if (v === undefined) return undefined;
    if (n === 1) return 0;
    const lo = lowerIndex(defined, v);
    const hi = upperIndex(defined, v) - 1;
    return (2 * ((lo + hi) / 2)) / (n - 1) - 1;
  });
}

function lowerIndex(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperIndex(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
