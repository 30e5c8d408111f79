/**
 * The chance that a fixed-threshold release alarm fires on a GOOD release, in closed form: Poisson traffic at the
 * stated rate, each request failing independently at the stated base rate (the same for the old and the new
 * version), the alarm as synthesized (threshold, period, M of N, the invocation guard of its metric math).
 *
 * Per period of P seconds the watched requests are N ~ Poisson(μ) (μ = rate × share × P for the new version; rate × P
 * for the whole service), the failures X | N ~ Binomial(N, r), and the period breaches when N ≥ guard and X / N is
 * above the threshold. Periods are independent (Poisson arrivals), so the chance of "M of the last N periods breach"
 * at some evaluation in the watched window is an exact Markov-chain computation over the last N - 1 outcomes.
 * For `canary-vs-stable` (new version's rate minus the rest's) the two streams are independent Poisson thinnings.
 *
 * Only count-rate alarms have a closed form here: latency, cost and quality alarms need the value distributions,
 * which the base rates do not state.
 */
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { parseGuardrailTerm } from '../../lambda/shared/guardrail-terms';
import { lgamma } from '../../lambda/judge/stats';
import type { AlarmKind } from './release-alarms';
import { synthesizedTiming } from './release-alarms';

/** What fraction of requests fail in each way on a good release. Fractions (0.01 = 1 %). */
export interface BaseRates {
  /** Function errors / invocations. @default 0.01 */
  readonly errorRate?: number;
  /** Safety violations / invocations. @default 0.001 */
  readonly safetyRate?: number;
  /** Output-contract violations / invocations. @default 0.005 */
  readonly contractRate?: number;
}

export const DEFAULT_BASE_RATES: Required<BaseRates> = { errorRate: 0.01, safetyRate: 0.001, contractRate: 0.005 };

/** The kinds this module can compute. */
export const FALSE_FIRE_KINDS: readonly AlarmKind[] = ['error-rate', 'safety-rate', 'contract-rate', 'canary-vs-stable'];

/** An alarm as synthesized, reduced to what its false-fire chance depends on. */
export interface SynthesizedRateAlarm {
  readonly name: string;
  readonly kind: AlarmKind;
  readonly plane: 'code' | 'config';
  readonly threshold: number;
  readonly periodSeconds: number;
  readonly datapointsToAlarm: number;
  readonly evaluationPeriods: number;
  /** Invocations a period needs (each stream, for canary-vs-stable) before it can breach. */
  readonly minInvocations: number;
}

/** What the alarms watch during one release. */
export interface ReleaseTraffic {
  readonly requestsPerSecond: number;
  /** Code plane: [minute, percent on the new version] (TrafficShift.steps); the steps below 100 % are watched. */
  readonly codeSteps: readonly (readonly [number, number])[];
  /** Config plane: seconds the AppConfig deployment is watched (all steps plus the final bake). */
  readonly configWatchedSeconds: number;
}

export interface AlarmFalseFire {
  readonly name: string;
  readonly kind: AlarmKind;
  readonly plane: 'code' | 'config';
  /** Chance the alarm fires at least once during the release, on a good release. */
  readonly probability: number;
  /** Periods evaluated in the watched window. */
  readonly periods: number;
  /** Largest per-period breach chance in the window. */
  readonly maxPeriodBreach: number;
  /** Chance a period has fewer invocations than the guard (worst step): the alarm is blind then. */
  readonly guardedFraction: number;
  /** True when the M-of-N chance is a union bound (evaluationPeriods above 16), not exact. */
  readonly upperBound: boolean;
}

/**
 * Reads an alarm as synthesized: threshold, period, M of N from its CloudFormation resource, and the invocation
 * guard from its metric math (`IF(inv >= 5, ...)`), so escape-hatch edits are what is computed.
 */
export function synthesizedRateAlarm(kind: AlarmKind, plane: 'code' | 'config', alarm: cloudwatch.Alarm, term?: string): SynthesizedRateAlarm {
  const t = synthesizedTiming(alarm);
  const cfn = alarm.node.defaultChild as cloudwatch.CfnAlarm;
  const queries = Array.isArray(cfn.metrics) ? (cfn.metrics as cloudwatch.CfnAlarm.MetricDataQueryProperty[]) : [];
  // A term of a combined alarm: its own expression query holds its guard and its threshold (`... / 0.05, 0)`, or
  // `... > 0, 2, 0)` for a threshold of 0); the alarm's threshold is 1 for every term.
  const termQuery = term === undefined ? undefined : queries.find((q) => q.id === term);
  if (term !== undefined && typeof termQuery?.expression !== 'string')
    throw new Error(
      `alarm ${alarm.node.path} has no expression query "${term}": the combined alarm's terms were edited; restore it or use alarms.layout 'perMetric'`,
    );
  const expression = termQuery?.expression ?? queries.map((q) => q.expression).find((e): e is string => typeof e === 'string') ?? '';
  const guards = [...expression.matchAll(/inv\s*>=\s*(\d+)/g)].map((m) => Number(m[1]));
  return {
    name: alarm.node.id,
    kind,
    plane,
    threshold: termQuery ? termThreshold(alarm.node.path, term as string, expression) : Number(cfn.threshold),
    periodSeconds: t.periodSeconds,
    datapointsToAlarm: t.datapointsToAlarm,
    evaluationPeriods: t.evaluationPeriods,
    minInvocations: guards.length > 0 ? Math.max(...guards) : 0,
  };
}

/** The threshold a term of a combined alarm holds (lambda/shared/guardrail-terms.ts), naming the alarm when unreadable. */
function termThreshold(path: string, term: string, expression: string): number {
  try {
    const parsed = parseGuardrailTerm(term, expression);
    if (parsed) return parsed.threshold;
  } catch (e) {
    throw new Error(`alarm ${path}: ${(e as Error).message}`);
  }
  throw new Error(`alarm ${path}: "${term}" is no guardrail's term`);
}

function rateOf(kind: AlarmKind, rates: Required<BaseRates>): number {
  if (kind === 'error-rate' || kind === 'canary-vs-stable') return rates.errorRate;
  if (kind === 'safety-rate') return rates.safetyRate;
  if (kind === 'contract-rate') return rates.contractRate;
  throw new Error(`no closed form for the false-fire chance of a ${kind} alarm (it needs a value distribution); computable: ${FALSE_FIRE_KINDS.join(', ')}`);
}

export function validateBaseRates(rates: BaseRates = {}): Required<BaseRates> {
  const r = { ...DEFAULT_BASE_RATES, ...rates };
  for (const [k, v] of Object.entries(r))
    if (!(Number.isFinite(v) && v >= 0 && v < 1)) throw new Error(`baseRates.${k} must be a fraction from 0 to below 1 (0.01 = 1 %), got ${v}`);
  return r;
}

/** ln P(N = n) for N ~ Poisson(mu). */
function logPoisson(n: number, mu: number): number {
  return n * Math.log(mu) - mu - logFactorial(n);
}

// The sums below call ln n! and the same binomial distributions over and over (every period of a step, every Ns of the
// stable stream): a release's false-fire figures took 2–3 s of synth and test time before these caches. Cached values
// are the very numbers computed before (lgamma), so no figure moves.
const LOG_FACTORIAL: number[] = [];
function logFactorial(k: number): number {
  for (let i = LOG_FACTORIAL.length; i <= k; i++) LOG_FACTORIAL.push(lgamma(i + 1));
  return LOG_FACTORIAL[k];
}

/** A bounded memo: cleared when full, so a long-lived process (a test worker) does not grow without end. */
function memo<V>(limit: number): (key: string, make: () => V) => V {
  const m = new Map<string, V>();
  return (key, make) => {
    const hit = m.get(key);
    if (hit !== undefined) return hit;
    if (m.size >= limit) m.clear();
    const v = make();
    m.set(key, v);
    return v;
  };
}
const pmfMemo = memo<Float64Array>(4096);
const cdfMemo = memo<Float64Array>(4096);
const breachMemo = memo<number>(4096);

/** P(N = n), n = 0..max, for N ~ Poisson(mu). */
function poissonPmf(mu: number, max: number): Float64Array {
  const out = new Float64Array(max + 1);
  if (mu <= 0) {
    out[0] = 1;
    return out;
  }
  for (let n = 0; n <= max; n++) out[n] = Math.exp(logPoisson(n, mu));
  return out;
}

/**
 * P(X = x) for X ~ Binomial(n, r), x = 0..min(n, mean + 12 sd + 30) (beyond that the mass is below 1e-30), from
 * ln-gamma so it stays accurate for n in the thousands.
 */
function binomialPmf(n: number, r: number): Float64Array {
  return pmfMemo(`${n}:${r}`, () => computeBinomialPmf(n, r));
}

/** P(X ≤ x), x = 0..n, for X ~ Binomial(n, r) (shared: do not write into it). */
function binomialCdfArray(n: number, r: number): Float64Array {
  return cdfMemo(`${n}:${r}`, () => {
    const cdf = Float64Array.from(binomialPmf(n, r));
    for (let x = 1; x <= n; x++) cdf[x] += cdf[x - 1];
    return cdf;
  });
}

function computeBinomialPmf(n: number, r: number): Float64Array {
  const top = Math.min(n, Math.ceil(n * r + 12 * Math.sqrt(n * r * (1 - r)) + 30));
  const out = new Float64Array(n + 1);
  if (r <= 0) {
    out[0] = 1;
    return out;
  }
  const lr = Math.log(r);
  const lq = Math.log1p(-r);
  const lgn = logFactorial(n);
  for (let x = 0; x <= top; x++) out[x] = Math.exp(lgn - logFactorial(x) - logFactorial(n - x) + x * lr + (n - x) * lq);
  return out;
}

function upperN(mu: number): number {
  return Math.ceil(mu + 12 * Math.sqrt(mu) + 30);
}

/** Below this many requests a Poisson(mu) has mass under 1e-30. */
function lowerN(mu: number, guard: number): number {
  return Math.max(1, guard, Math.floor(mu - 12 * Math.sqrt(mu) - 30));
}

/** The largest x with x / n ≤ threshold, as CloudWatch's floating-point comparison sees it. */
function largestNotAbove(n: number, threshold: number): number {
  let k = Math.floor(threshold * n);
  while (k + 1 <= n && (k + 1) / n <= threshold) k++;
  while (k >= 0 && k / n > threshold) k--;
  return k;
}

/** P(a period breaches) for `X / N > threshold` with N ~ Poisson(mu), guard N ≥ g. */
export function rateBreachProbability(mu: number, rate: number, threshold: number, guard: number): number {
  if (rate <= 0 || mu <= 0) return 0;
  return breachMemo(`rate:${mu}:${rate}:${threshold}:${guard}`, () => rateBreach(mu, rate, threshold, guard));
}

function rateBreach(mu: number, rate: number, threshold: number, guard: number): number {
  const max = upperN(mu);
  const pn = poissonPmf(mu, max);
  let p = 0;
  for (let n = lowerN(mu, guard); n <= max; n++) {
    if (pn[n] < 1e-18) continue;
    const k = largestNotAbove(n, threshold);
    if (k >= n) continue;
    const pmf = binomialPmf(n, rate);
    let tail = 0;
    for (let x = k + 1; x <= n; x++) tail += pmf[x];
    p += pn[n] * tail;
  }
  return Math.min(1, p);
}

/**
 * P(a period breaches) for `Xc / Nc - Xs / Ns > delta` with Nc ~ Poisson(muC), Ns ~ Poisson(muS) independent, both at
 * least the guard (the canary-vs-stable alarm's metric math).
 */
export function deltaBreachProbability(muC: number, muS: number, rate: number, delta: number, guard: number): number {
  if (rate <= 0 || muC <= 0 || muS <= 0) return 0;
  return breachMemo(`delta:${muC}:${muS}:${rate}:${delta}:${guard}`, () => deltaBreach(muC, muS, rate, delta, guard));
}

function deltaBreach(muC: number, muS: number, rate: number, delta: number, guard: number): number {
  const maxC = upperN(muC);
  const maxS = upperN(muS);
  const pc = poissonPmf(muC, maxC);
  const ps = poissonPmf(muS, maxS);
  // Stable: for each Ns, the cumulative distribution of Xs.
  const cdfS: Float64Array[] = [];
  for (let n = lowerN(muS, guard); n <= maxS; n++) {
    if (ps[n] < 1e-18) continue;
    cdfS[n] = binomialCdfArray(n, rate);
  }
  let p = 0;
  for (let nc = lowerN(muC, guard); nc <= maxC; nc++) {
    if (pc[nc] < 1e-18) continue;
    const pmfC = binomialPmf(nc, rate);
    for (let xc = 1; xc <= nc; xc++) {
      if (pmfC[xc] < 1e-18) continue;
      const rc = xc / nc;
      // xs = 0 already fails `rc - xs / ns > delta` (rc - 0 is rc exactly): nothing to sum for this xc.
      if (!(rc > delta)) continue;
      let inner = 0;
      for (let ns = lowerN(muS, guard); ns <= maxS; ns++) {
        const cdf = cdfS[ns];
        if (!cdf) continue;
        // Largest xs with rc - xs / ns > delta.
        let xs = Math.ceil(ns * (rc - delta)) - 1;
        while (xs + 1 <= ns && rc - (xs + 1) / ns > delta) xs++;
        while (xs >= 0 && !(rc - xs / ns > delta)) xs--;
        if (xs < 0) continue;
        inner += ps[ns] * cdf[Math.min(xs, ns)];
      }
      p += pc[nc] * pmfC[xc] * inner;
    }
  }
  return Math.min(1, p);
}

/**
 * P(at some evaluation, at least M of the last N periods breach), periods independent with breach chances `q`
 * (in order), no breaches before the first. Exact (a Markov chain over the last N - 1 outcomes) for N ≤ 16; above,
 * a union bound over the windows.
 */
export function mOfNProbability(q: readonly number[], m: number, n: number): { probability: number; upperBound: boolean } {
  if (!(Number.isInteger(m) && Number.isInteger(n) && m >= 1 && m <= n)) throw new Error(`M of N needs 1 ≤ M ≤ N, got ${m} of ${n}`);
  if (n > 16) {
    let sum = 0;
    for (let end = 0; end < q.length; end++) {
      // Poisson-binomial P(at least m of the window's periods breach).
      let dist = [1];
      for (let t = Math.max(0, end - n + 1); t <= end; t++) {
        const next = new Array(dist.length + 1).fill(0);
        for (let k = 0; k < dist.length; k++) {
          next[k] += dist[k] * (1 - q[t]);
          next[k + 1] += dist[k] * q[t];
        }
        dist = next;
      }
      for (let k = m; k < dist.length; k++) sum += dist[k];
    }
    return { probability: Math.min(1, sum), upperBound: true };
  }
  const keep = n - 1;
  const states = 1 << keep;
  const mask = states - 1;
  let dist = new Float64Array(states);
  dist[0] = 1;
  let fired = 0;
  for (const qt of q) {
    const next = new Float64Array(states);
    for (let s = 0; s < states; s++) {
      const w = dist[s];
      if (w === 0) continue;
      for (const b of [0, 1]) {
        const pb = b === 1 ? qt : 1 - qt;
        if (pb === 0) continue;
        const window = (s << 1) | b;
        if (popcount(window) >= m) fired += w * pb;
        else next[window & mask] += w * pb;
      }
    }
    dist = next;
  }
  return { probability: Math.min(1, fired), upperBound: false };
}

function popcount(x: number): number {
  let c = 0;
  for (let v = x; v !== 0; v &= v - 1) c++;
  return c;
}

/** The per-period breach chances of one alarm over its watched window, by the traffic of each step. */
function periodsOf(a: SynthesizedRateAlarm, traffic: ReleaseTraffic, rates: Required<BaseRates>): { q: number[]; guarded: number } {
  const rate = rateOf(a.kind, rates);
  const rps = traffic.requestsPerSecond;
  const P = a.periodSeconds;
  const q: number[] = [];
  let guarded = 0;
  const blind = (mu: number) => {
    let s = 0;
    for (let k = 0; k < a.minInvocations; k++) s += mu > 0 ? Math.exp(logPoisson(k, mu)) : k === 0 ? 1 : 0;
    return Math.min(1, s);
  };
  if (a.plane === 'config') {
    // The service-wide alarm sees all traffic whatever share has the new config.
    const mu = rps * P;
    const periods = Math.ceil(traffic.configWatchedSeconds / P);
    const qt = rateBreachProbability(mu, rate, a.threshold, a.minInvocations);
    for (let i = 0; i < periods; i++) q.push(qt);
    return { q, guarded: blind(mu) };
  }
  const steps = traffic.codeSteps;
  for (let i = 0; i < steps.length; i++) {
    const [minute, percent] = steps[i];
    if (percent >= 100) break;
    const end = i + 1 < steps.length ? steps[i + 1][0] : minute;
    const periods = Math.ceil(((end - minute) * 60) / P);
    const share = percent / 100;
    const qt =
      a.kind === 'canary-vs-stable'
        ? deltaBreachProbability(rps * share * P, rps * (1 - share) * P, rate, a.threshold, a.minInvocations)
        : rateBreachProbability(rps * share * P, rate, a.threshold, a.minInvocations);
    for (let k = 0; k < periods; k++) q.push(qt);
    guarded = Math.max(guarded, blind(rps * share * P));
  }
  return { q, guarded };
}

/** The false-fire chance per release of one alarm on a good release. */
export function alarmFalseFire(a: SynthesizedRateAlarm, traffic: ReleaseTraffic, baseRates: BaseRates = {}): AlarmFalseFire {
  if (!(traffic.requestsPerSecond > 0)) throw new Error(`requestsPerSecond must be positive, got ${traffic.requestsPerSecond}`);
  const rates = validateBaseRates(baseRates);
  const { q, guarded } = periodsOf(a, traffic, rates);
  const r = mOfNProbability(q, a.datapointsToAlarm, a.evaluationPeriods);
  return {
    name: a.name,
    kind: a.kind,
    plane: a.plane,
    probability: r.probability,
    periods: q.length,
    maxPeriodBreach: q.length > 0 ? Math.max(...q) : 0,
    guardedFraction: guarded,
    upperBound: r.upperBound,
  };
}

/** Every computable alarm's false-fire chance; alarms without a closed form (latency, cost, quality) are skipped. */
export function releaseFalseFire(alarms: readonly SynthesizedRateAlarm[], traffic: ReleaseTraffic, baseRates: BaseRates = {}): AlarmFalseFire[] {
  return alarms.filter((a) => FALSE_FIRE_KINDS.includes(a.kind)).map((a) => alarmFalseFire(a, traffic, baseRates));
}

/** The count terms of one combined alarm: their kinds, thresholds and guards, the alarm's shared timing. */
function checkCombined(terms: readonly SynthesizedRateAlarm[]): SynthesizedRateAlarm {
  if (terms.length === 0) throw new Error('a combined alarm needs at least one count term');
  const a = terms[0];
  for (const t of terms)
    if (t.name !== a.name || t.plane !== a.plane || t.periodSeconds !== a.periodSeconds || t.datapointsToAlarm !== a.datapointsToAlarm)
      throw new Error(`terms of one combined alarm share its name, plane and timing: ${t.name}/${t.kind} differs from ${a.name}/${a.kind}`);
  return a;
}

/** P(X / n ≤ threshold) for X ~ Binomial(n, r): the term stays at or below 1. */
function rateOk(n: number, r: number, threshold: number): number {
  const k = largestNotAbove(n, threshold);
  if (k >= n) return 1;
  if (k < 0) return 0;
  const pmf = binomialPmf(n, r);
  let ok = 0;
  for (let x = 0; x <= k; x++) ok += pmf[x];
  return Math.min(1, ok);
}

/**
 * P(a period breaches) for a combined alarm: ANY of its count terms above 1 in the period. The watched requests N are
 * shared; given N the error, safety and contract counts are independent binomials; the canary-vs-stable term reads
 * the same errors as the error-rate term (conditioned on them exactly) and the rest's stream (an independent Poisson).
 */
export function combinedBreachProbability(
  terms: readonly { readonly kind: AlarmKind; readonly threshold: number; readonly minInvocations: number }[],
  mu: number,
  muRest: number,
  rates: Required<BaseRates>,
): number {
  if (mu <= 0) return 0;
  const key = JSON.stringify([terms.map((t) => [t.kind, t.threshold, t.minInvocations]), mu, muRest, rates]);
  return breachMemo(`combined:${key}`, () => combinedBreach(terms, mu, muRest, rates));
}

function combinedBreach(
  terms: readonly { readonly kind: AlarmKind; readonly threshold: number; readonly minInvocations: number }[],
  mu: number,
  muRest: number,
  rates: Required<BaseRates>,
): number {
  const delta = terms.find((t) => t.kind === 'canary-vs-stable');
  const error = terms.find((t) => t.kind === 'error-rate');
  const others = terms.filter((t) => t.kind === 'safety-rate' || t.kind === 'contract-rate');
  const max = upperN(mu);
  const pn = poissonPmf(mu, max);
  // The rest's stream, for the delta term: Poisson(muRest) requests, each failing at the error rate.
  const maxS = delta ? upperN(muRest) : 0;
  const ps = delta ? poissonPmf(muRest, maxS) : new Float64Array(0);
  const cdfS: Float64Array[] = [];
  if (delta && muRest > 0 && rates.errorRate > 0)
    for (let ns = lowerN(muRest, delta.minInvocations); ns <= maxS; ns++) {
      if (ps[ns] < 1e-18) continue;
      cdfS[ns] = binomialCdfArray(ns, rates.errorRate);
    }
  /** P(the delta term breaches | the canary had n requests and x errors). */
  const deltaBreach = (n: number, x: number): number => {
    if (!delta || n < delta.minInvocations || rates.errorRate <= 0 || muRest <= 0) return 0;
    const rc = x / n;
    // As in deltaBreach: with rc ≤ the threshold no stable count breaches, and the sum below is exactly 0.
    if (!(rc > delta.threshold)) return 0;
    let p = 0;
    for (let ns = lowerN(muRest, delta.minInvocations); ns <= maxS; ns++) {
      const cdf = cdfS[ns];
      if (!cdf) continue;
      let xs = Math.ceil(ns * (rc - delta.threshold)) - 1;
      while (xs + 1 <= ns && rc - (xs + 1) / ns > delta.threshold) xs++;
      while (xs >= 0 && !(rc - xs / ns > delta.threshold)) xs--;
      if (xs < 0) continue;
      p += ps[ns] * cdf[Math.min(xs, ns)];
    }
    return Math.min(1, p);
  };
  const guard = Math.min(...terms.map((t) => t.minInvocations));
  let p = 0;
  for (let n = lowerN(mu, guard); n <= max; n++) {
    if (pn[n] < 1e-18) continue;
    let ok = 1;
    for (const t of others) if (n >= t.minInvocations) ok *= rateOk(n, t.kind === 'safety-rate' ? rates.safetyRate : rates.contractRate, t.threshold);
    if (error || delta) {
      // The error count: the error-rate term must stay at or below 1 and the delta term not breach.
      const errorGuarded = error !== undefined && n >= error.minInvocations;
      const kErr = errorGuarded ? largestNotAbove(n, error.threshold) : n;
      if (rates.errorRate <= 0) {
        ok *= kErr >= 0 ? 1 - deltaBreach(n, 0) : 0;
      } else {
        const pmf = binomialPmf(n, rates.errorRate);
        let okE = 0;
        for (let x = 0; x <= Math.min(kErr, n); x++) {
          if (pmf[x] < 1e-18) continue;
          okE += pmf[x] * (1 - deltaBreach(n, x));
        }
        ok *= Math.min(1, okE);
      }
    }
    p += pn[n] * (1 - ok);
  }
  return Math.min(1, p);
}

/**
 * The false-fire chance per release of a combined alarm (alarms.layout 'combined') from its count terms: a period
 * breaches when ANY term is above 1, and M such periods of N fire it, so an error breach in one period and a contract
 * breach in the next count together. The latency, cost and quality terms have no closed form here (they need value
 * distributions): the figure is the chance from the count terms alone, a lower bound of the alarm's.
 */
export function combinedFalseFire(terms: readonly SynthesizedRateAlarm[], traffic: ReleaseTraffic, baseRates: BaseRates = {}): AlarmFalseFire {
  if (!(traffic.requestsPerSecond > 0)) throw new Error(`requestsPerSecond must be positive, got ${traffic.requestsPerSecond}`);
  const rates = validateBaseRates(baseRates);
  const a = checkCombined(terms);
  const rps = traffic.requestsPerSecond;
  const P = a.periodSeconds;
  const q: number[] = [];
  if (a.plane === 'config') {
    const qt = combinedBreachProbability(terms, rps * P, 0, rates);
    for (let i = 0, periods = Math.ceil(traffic.configWatchedSeconds / P); i < periods; i++) q.push(qt);
  } else {
    const steps = traffic.codeSteps;
    for (let i = 0; i < steps.length; i++) {
      const [minute, percent] = steps[i];
      if (percent >= 100) break;
      const end = i + 1 < steps.length ? steps[i + 1][0] : minute;
      const share = percent / 100;
      const qt = combinedBreachProbability(terms, rps * share * P, rps * (1 - share) * P, rates);
      for (let k = 0, periods = Math.ceil(((end - minute) * 60) / P); k < periods; k++) q.push(qt);
    }
  }
  const r = mOfNProbability(q, a.datapointsToAlarm, a.evaluationPeriods);
  const singles = terms.map((t) => alarmFalseFire(t, traffic, rates));
  return {
    name: a.name,
    kind: 'guardrails',
    plane: a.plane,
    probability: r.probability,
    periods: q.length,
    maxPeriodBreach: q.length > 0 ? Math.max(...q) : 0,
    guardedFraction: Math.max(...singles.map((x) => x.guardedFraction)),
    upperBound: r.upperBound,
  };
}
