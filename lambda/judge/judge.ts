/**
 * The canary judge's statistics: pure, deterministic, JSON-serializable state. No SDK, no Node-only API.
 *
 * While the canary takes a share s < 1 of traffic (the weighted alias routes each invocation to the new version with
 * probability s: "Lambda uses a simple probabilistic model to distribute the traffic between the two function
 * versions", https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html), and the canary is no worse than the stable version, then for any request at time t
 * P(version = canary | the request, its outcome) = s_t. So the version labels are coin flips whose bias we know,
 * whatever the base rates do over time (diurnal load, a downstream outage hitting both versions alike). Every test
 * below is a bet against those coin flips; a product of fair bets is a nonnegative martingale, and Ville's
 * inequality bounds the chance it ever reaches 1/α by α, however often it is looked at (anytime-valid).
 *
 * - Counts (errors, safety, contract violations): each event is a coin flip with bias s_t under the null; the
 *   alternative "the canary's rate is ρ times the stable rate" makes it θ = ρ s / (ρ s + 1 - s). The e-process is a
 *   mixture over a grid of ρ > 1 of the likelihood ratios: the multinomial/Beta-mixture test of Lindon, Ham, Tingley
 *   and Bojinov (NeurIPS 2022) and Lindon et al. (KDD 2022), written per event so a share that changes between
 *   batches is handled exactly (their closed form assumes one fixed allocation).
 * - Values (latency, cost, quality), per request: the score g = 2u - 1 of the request's mid-rank u among the pooled
 *   (unlabelled) values is bet on with 1 + λ g (V - s), V = 1 for the canary; a mixture over λ. Under the null the
 *   label is independent of the value, so E = 1 exactly; a canary whose values are stochastically larger (worse)
 *   wins. The ranks only use values, never labels, so the bet stays fair (testing by betting, Shafer; Waudby-Smith &
 *   Ramdas 2023; a rank score makes it a sequential Wilcoxon-type test). At the batch's (possibly observed) share the
 *   bet is the exact permutation bet instead, exp(λ Σ_canary g) over its permutation moment (see updateValue).
 * - Value tolerance (`tolerance`, issue 16): the value tests ask "is the canary worse by MORE than m", a composite
 *   null. Each canary value is moved by m before it is ranked (latency and cost ÷ (1 + m), quality + m) and the pooled
 *   reference holds the moved values. At the null's boundary (canary = stable × (1 + m) in law) the moved canary
 *   values and the stable values have one law, so the label is independent of what is ranked and every bet above is
 *   fair exactly as before; inside the null (the canary better than that) the moved canary values are stochastically
 *   smaller, the mid-rank score is monotone in the value, and the bets on "canary ranks high" lose in expectation.
 *   So Ville's bound holds over the whole null, anytime. Why a margin and not clusters: on the code plane execution
 *   environments are nested in versions (an environment serves one version), so an environment's own latency offset
 *   rides on its version's label and no clustering can separate it from the release; with about three environments
 *   per version an environment-level test would have three observations per arm. The margin instead says how small a
 *   difference the team does not roll back for (default half the planner's minimum regression: p50 +20 % → 10 %).
 * - Observed share: the wiring passes a batch's observed canary share n_c / n. Conditional on n_c and on every
 *   outcome, i.i.d. Bernoulli(s) labels are a uniformly random subset of the batch, so the canary's count among k
 *   counted events is hypergeometric; a hypergeometric is below the binomial in the convex order (Hoeffding 1963,
 *   Theorem 4) and x ↦ a^x b^(k-x) is convex, so each factor still has expectation ≤ 1.
 *
 * Only concurrent comparisons roll back (issue 16 A; DESIGN "Only concurrent comparisons roll back"). While the
 * stable version serves a share, the bets above compare the two versions over the same time on randomized traffic:
 * a shared disturbance (a slow or failing dependency, a load ramp, a drifting request mix) moves both versions'
 * outcomes and leaves the labels fair coins, so it cannot roll a good release back. After full traffic (s = 1) there
 * is no concurrent control: a comparison with the stable version's PAST is a before/after test that blames anything
 * that changed with time on the release (simulated: 94–100 % false rollbacks under a shared slowdown or a 2-minute
 * dependency outage, bench/RESULTS.md). So after full traffic:
 * - one stated gross rule may roll back: the canary's error rate is shown above `grossErrorRate` (default 0.2), a
 *   one-sample anytime-valid test (likelihood ratios of Bernoulli(k g) against Bernoulli(g), mixed over k), at half
 *   of the error metric's α share;
 * - the comparisons with the stable baseline gathered before (share-0 batches and the canary phase's stable
 *   requests) are still computed and reported (`beforeAfterEValue`) for the review ("slower than last hour's"), and
 *   never roll back. Counts: a two-sample test that replays the baseline as a second arm (each batch of n_c canary
 *   requests paired with m baseline requests drawn without replacement, spent evenly over AFTER_SPEND_MS). Values:
 *   conformal ranks (Vovk) — each canary value's smoothed rank among the baseline and the canary values before it,
 *   bet on with 1 + λ(2u - 1). Both assume stationarity, which is why they only inform.
 * A batch at share 1 does not end the concurrent test: a tiny window that held only canary requests is followed by
 * batches at a stable share that are judged as before (the phase comes from the deployment, not one batch).
 *
 * Failures that arrive together count once (issue 16 B). An observation may carry a `cluster` key (the runtime's case
 * id: retries of one input; or the conversation id). Each cluster's first event counts; later events of that cluster
 * are folded (counted in the record, not bet on). Which events count depends on outcomes, keys and order, never on
 * labels, so the bets stay fair. Where the randomization unit is the request (the code plane's weighted alias), the
 * per-request value bets stay valid too (given all values the labels are still i.i.d.). Where it is the cluster
 * (config plane, per-conversation assignment: `unit: 'cluster'`) every request of a conversation shares one label, so
 * per-request bets are NOT fair (a cluster of k failures would be k correlated bets); the design then has one
 * observation per cluster — its first failure for counts, its first request for values — bet on at the share in
 * force when the cluster was assigned (the observation's `share`): the analysis unit is the randomization unit, as in
 * cluster-randomized trials (Donner & Klar 2000) and design-based sequential inference (Ham, Bojinov, Lindon &
 * Tingley 2022, "Design-based confidence sequences"). Execution environments on the code plane are nested in versions
 * (an environment serves one version), so an environment's own effect rides on its version's label and no clustering
 * removes it; the value tolerance absorbs it (bench/judge-world.ts measures how large it may be).
 *
 * Config plane through AppConfig's own rollout: its percentage is of clients (execution environments), not of
 * requests, so labels are clustered by environment and the per-request test is only approximately valid. The
 * runtime's per-conversation assignment (issue 16 C) makes it exact with `unit: 'cluster'`.
 *
 * α is split by Bonferroni: α/k per metric (k metrics; the evaluation metrics of lambda/judge/scores.ts, when judged,
 * count as one more and split their share between them); the error metric gives half of its share to the concurrent test
 * and half to the gross rule, every other metric spends all of it on the concurrent test. Before/after tests spend
 * nothing. So P(any false rollback) ≤ α. (Sequential designs in production: Lindon, Sanden & Shirikian, "Rapid
 * regression detection in software deployments through sequential testing", KDD 2022 (Netflix); Johari, Koomen,
 * Pekelis & Walsh, "Peeking at A/B tests", KDD 2017, and Johari et al., "Always valid inference", Operations Research
 * 2022 (the mSPRT behind LaunchDarkly's and Optimizely's sequential tests); Howard, Ramdas, McAuliffe & Sekhon,
 * "Time-uniform, nonparametric, nonasymptotic confidence sequences", Annals of Statistics 2021.)
 *
 * "No regression shown" needs evidence for the reverse: a test of "the canary is worse by a margin" (rate ratio
 * `countMargin` for counts; `valueMargin` more exceedances of the baseline median for values) that rejects. It is
 * run for the metrics in `notWorseOn`.
 */
import type { JudgeClusters as ContractJudgeClusters, JudgeTolerance } from '../shared/contract';
import { copyEnvironmentState, type EnvironmentMetric, type EnvironmentState, newEnvironmentState, updateEnvironments } from './environments';
import {
  copyEvaluation,
  type EvaluationBatch,
  type EvaluationOptions,
  type EvaluationState,
  evaluationEvidence,
  evaluationFired,
  evaluationThresholds,
  newEvaluationState,
  updateEvaluation,
} from './scores';
import { binomialLower, binomialUpper, hash32, logMeanExp, lowerBound, midRank, upperBoundFrom } from './stats';

export type CountMetric = 'error' | 'safety' | 'contract';
export type ValueMetric = 'latencyMs' | 'costUsd' | 'quality';
export type JudgeMetric = CountMetric | ValueMetric;
export const COUNT_METRICS: readonly CountMetric[] = ['error', 'safety', 'contract'];
export const VALUE_METRICS: readonly ValueMetric[] = ['latencyMs', 'costUsd', 'quality'];
export const JUDGE_METRICS: readonly JudgeMetric[] = [...COUNT_METRICS, ...VALUE_METRICS];
/** +1: larger is worse; -1: smaller is worse. */
const WORSE: Record<ValueMetric, 1 | -1> = { latencyMs: 1, costUsd: 1, quality: -1 };

export interface JudgeObservation {
  readonly version: 'canary' | 'stable';
  readonly at: number /* epoch ms */;
  readonly error: boolean;
  readonly safety: boolean;
  readonly contract: boolean;
  readonly latencyMs?: number;
  readonly costUsd?: number;
  readonly quality?: number;
  /**
   * The cluster the request belongs to (failures that arrive together): the runtime's case id (a hash of the
   * normalized input: retries of one input) or the conversation id. Absent: the request is its own cluster.
   */
  readonly cluster?: string;
  /**
   * The canary's share when this request's randomization unit was assigned (config plane, per-conversation
   * assignment: the share at the conversation's first request). Absent: the batch's `canaryShare`.
   */
  readonly share?: number;
  /**
   * The execution environment that served the request (the runtime's JUDGE_CLUSTER_FIELD.ENVIRONMENT), read with
   * `unit: 'environment'`. Absent: the request is not in any environment bet.
   */
  readonly environment?: string;
}

export interface JudgeOptions {
  /** Bound on the probability of a false rollback, over the whole deployment. @default 0.01 */
  readonly alpha: number;
  /** Metrics judged; α is split evenly over them. @default all six */
  readonly metrics: readonly JudgeMetric[];
  /** Metrics on which "no regression shown" needs positive evidence of "not worse". @default ['error', 'latencyMs'] */
  readonly notWorseOn: readonly JudgeMetric[];
  /** "Not worse" for counts: the canary's rate below this multiple of the stable rate. @default 2 */
  readonly countMargin: number;
  /** "Not worse" for values: the canary exceeds the baseline median at most this much more often (0.1 = 10 points). @default 0.1 */
  readonly valueMargin: number;
  /**
   * The randomization unit. `request`: each request is assigned on its own (the code plane's weighted alias); values
   * are bet on per request, failures per cluster. `cluster`: the cluster (a conversation) is assigned once, at the
   * share in its observations' `share`; values are bet on for the first request of each cluster only.
   * `environment`: the execution environment is assigned (AppConfig's own rollout tells clients); the concurrent
   * tests are the environment switch bets of lambda/judge/environments.ts, and no per-request bet is made.
   * @default 'request'
   */
  readonly unit: 'request' | 'cluster' | 'environment';
  /**
   * The one before/after rule that may roll back: after full traffic (no stable version serving, so no concurrent
   * control), the release rolls back when its error rate is shown above this absolute rate (anytime-valid, at half
   * the error metric's α). Every other after-traffic comparison (with the stable version's past) only informs.
   * @default 0.2
   */
  readonly grossErrorRate: number;
  /**
   * The evaluator's results as metrics of the family (lambda/judge/scores.ts): per-criterion rank tests and the paired
   * sign test, together one metric's share of α (so k = metrics + 1).
   * @default none
   */
  readonly evaluation?: EvaluationOptions;
  /**
   * The concurrent value tests' tolerance: how much worse the canary may be before its values count against it. The
   * test asks "is the canary worse by MORE than m" (null: canary ≤ stable × (1 + m) for latency and cost, canary ≥
   * stable − m for quality), so differences far below the smallest regression the team must catch — between
   * execution environments, say — cannot roll a release back; a regression below m is not rolled back either.
   * Absent fields take their default; 0 is the strict test (any stochastic difference is a regression).
   * @default { latencyMs: 0.1, costUsd: 0.1, quality: 0.025 } (half of the planner's minimum regressions)
   */
  readonly tolerance: ValueTolerance;
}

/** How much worse each value metric may be before the concurrent test counts it (JudgeOptions.tolerance): the contract's shape. */
export type ValueTolerance = JudgeTolerance;

export const DEFAULT_TOLERANCE: Required<ValueTolerance> = { latencyMs: 0.1, costUsd: 0.1, quality: 0.025 };
/** A state persisted before the tolerance existed keeps the strict test it started with. */
const NO_TOLERANCE: Required<ValueTolerance> = { latencyMs: 0, costUsd: 0, quality: 0 };

/** The tolerance in force for `metric`. */
export function toleranceOf(options: Pick<JudgeOptions, 'tolerance'>, metric: ValueMetric): number {
  return options.tolerance?.[metric] ?? NO_TOLERANCE[metric];
}

export interface JudgeEvidence {
  readonly metric: string;
  /** The current e-value (canary phase, or after-traffic phase once at full traffic). */
  readonly eValue: number;
  /** The e-value at which this metric alone calls a regression (k / (α share)). */
  readonly threshold: number;
  /** counts: n requests and the rate; values: n requests with the value and its mean. */
  readonly canary: { readonly n: number; readonly value: number };
  readonly stable: { readonly n: number; readonly value: number };
  readonly phase: 'canary' | 'after-traffic';
  /** The e-value of the "not worse by the margin" test, for metrics in notWorseOn. */
  readonly notWorseEValue?: number;
  /**
   * `concurrent`: the two versions over the same time on randomized traffic (decides a rollback); `gross`: the
   * after-traffic error rate against `grossErrorRate` (decides a rollback). Absent: `concurrent`.
   */
  readonly test?: 'concurrent' | 'gross';
  /**
   * After full traffic: the before/after comparison with the stable baseline (the stable version's past), and the
   * e-value at which it would call the new version worse. Informs the review; never rolls back.
   */
  readonly beforeAfterEValue?: number;
  readonly beforeAfterThreshold?: number;
}

/** How failures were grouped: what the record says (JudgeRecord.clusters, less the key the wiring read). */
export type JudgeClusters = Omit<ContractJudgeClusters, 'key'>;

interface MetricState {
  readonly metric: JudgeMetric;
  canaryN: number;
  canarySum: number;
  stableN: number;
  stableSum: number;
  /** ln of each grid component of the canary-phase e-process. */
  logE1: number[];
  /** Reverse test, canary phase (counts only). */
  logR1: number[];
  /** After-traffic phase, set when full traffic starts. */
  after?: {
    /** The Clopper-Pearson upper bound on the stable rate (kept for the record; counts are tested two-sample). */
    p0: number;
    /** Counts: the baseline not yet replayed (requests, events), what was replayed, and when full traffic began. */
    restN?: number;
    restEvents?: number;
    replayed?: number;
    baseN?: number;
    t0?: number;
    reverseNull: number;
    cut: number;
    logE2: number[];
    logR2: number[];
    n: number;
    events: number;
    /** Values: the sorted reference (baseline, then each canary value bet on) for the conformal ranks. */
    ref?: number[];
    bets?: number;
  };
  /** Values only: a uniform reservoir of the stable values (oriented: larger is worse). */
  baseline: number[];
  baselineSeen: number;
  fired: boolean;
  notWorse: boolean;
  /** Counts: hashes of the clusters that already had an event (later events of theirs are folded). */
  failed?: number[];
  counted?: number;
  folded?: number;
  /** Counts, metric `error`: the gross test after full traffic (requests, events, ln of each grid component). */
  gross?: { n: number; events: number; logE: number[] };
}

export interface JudgeState {
  readonly kind: 'cdk-ai-release/judge-state';
  readonly v: 1;
  readonly options: JudgeOptions;
  phase: 'canary' | 'after-traffic';
  metrics: MetricState[];
  /** Values only: a reservoir of pooled, unlabelled values the mid-ranks are taken against. */
  pooled: Partial<Record<ValueMetric, { values: number[]; seen: number }>>;
  /** PRNG state for the reservoirs (never looks at labels, so the bets stay fair). */
  rng: number;
  batches: number;
  /** unit `cluster`: hashes of the clusters whose first request was bet on (values). */
  seen?: number[];
  /** Observations that carried a cluster key. */
  keyed?: number;
  /** The evaluation metrics (options.evaluation): scores per criterion and paired outcomes. */
  evaluation?: EvaluationState;
  /** unit `environment`: each environment's last side and the switch bets not yet settled. */
  environments?: EnvironmentState;
}

/** Rate ratios the count tests mix over (canary rate / stable rate). */
export const RATIO_GRID: readonly number[] = [1.25, 1.5, 2, 2.5, 3, 4, 6, 10, 20, 50];
/** Ratios below the margin the reverse test mixes over. */
export const REVERSE_GRID: readonly number[] = [1 / 1.25, 1 / 1.5, 1 / 2, 1 / 3, 1 / 5];
/** Bet sizes the value tests mix over. */
export const LAMBDA_GRID: readonly number[] = [0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1];
const POOLED_CAP = 2000;
/** Canary values bet on after full traffic (the first ones; enough at any traffic, and it bounds the state). */
const AFTER_BET_CAP = 5000;
const BASELINE_CAP = 4000;
/** Counts after full traffic: the baseline is replayed evenly over this much full traffic (the default bound). */
export const AFTER_SPEND_MS = 10 * 60_000;
/** ...and never slower than one baseline request per this many canary requests (when batches carry no timestamps). */
const AFTER_MIN_RATIO_INV = 4;

/** The gross test's alternatives: multiples of grossErrorRate (capped below 1). */
export const GROSS_GRID: readonly number[] = [1.25, 1.5, 2, 3, 4];
/** Clusters remembered per metric; once full, events of clusters not remembered are not counted (never double-counted). */
const FAILED_CAP = 20_000;
const SEEN_CAP = 100_000;

const DEFAULTS: JudgeOptions = {
  alpha: 0.01,
  metrics: JUDGE_METRICS,
  notWorseOn: ['error', 'latencyMs'],
  countMargin: 2,
  valueMargin: 0.1,
  unit: 'request',
  grossErrorRate: 0.2,
  tolerance: DEFAULT_TOLERANCE,
};

export function newJudgeState(options: Partial<JudgeOptions> = {}): JudgeState {
  const o: JudgeOptions = { ...DEFAULTS, ...options, tolerance: { ...DEFAULT_TOLERANCE, ...options.tolerance } };
  if (!(o.alpha > 0 && o.alpha < 1)) throw new Error(`judge alpha must be in (0, 1), got ${o.alpha}; 0.01 bounds false rollbacks at 1 %`);
  if (o.metrics.length === 0) throw new Error(`judge metrics is empty: name at least one of ${JUDGE_METRICS.join(', ')}`);
  for (const m of [...o.metrics, ...o.notWorseOn])
    if (!JUDGE_METRICS.includes(m)) throw new Error(`judge metric "${m}" is unknown; use one of ${JUDGE_METRICS.join(', ')}`);
  for (const m of o.notWorseOn) if (!o.metrics.includes(m)) throw new Error(`judge notWorseOn names "${m}", which is not in metrics`);
  if (!(o.countMargin > 1)) throw new Error(`judge countMargin must be above 1 (a rate ratio), got ${o.countMargin}`);
  if (!(o.valueMargin > 0 && o.valueMargin < 1)) throw new Error(`judge valueMargin must be in (0, 1), got ${o.valueMargin}`);
  if (o.unit !== 'request' && o.unit !== 'cluster' && o.unit !== 'environment')
    throw new Error(`judge unit must be 'request', 'cluster' or 'environment', got ${String(o.unit)}`);
  if (!(o.grossErrorRate > 0 && o.grossErrorRate < 1))
    throw new Error(`judge grossErrorRate must be in (0, 1) (an error rate that rolls back after full traffic), got ${o.grossErrorRate}; 0.2 is the default`);
  for (const [k, v] of Object.entries(o.tolerance)) {
    const max = k === 'quality' ? 0.5 : 1;
    if (!(k in DEFAULT_TOLERANCE)) throw new Error(`judge tolerance.${k} is unknown; use ${Object.keys(DEFAULT_TOLERANCE).join(', ')}`);
    if (!(Number.isFinite(v) && v >= 0 && v < max))
      throw new Error(
        `judge tolerance.${k} must be from 0 to below ${max} (${k === 'quality' ? 'an absolute drop of the score' : 'a relative increase: 0.1 = +10 %'}), got ${v}; ${DEFAULT_TOLERANCE[k as ValueMetric]} is the default (half the planned minimum regression)`,
      );
  }
  const evaluation = o.evaluation ? newEvaluationState(o.evaluation) : undefined;
  return {
    kind: 'cdk-ai-release/judge-state',
    v: 1,
    options: {
      ...o,
      metrics: [...o.metrics],
      notWorseOn: [...o.notWorseOn],
      tolerance: { ...o.tolerance },
      ...(evaluation ? { evaluation: evaluation.options } : {}),
    },
    phase: 'canary',
    metrics: o.metrics.map((metric) => ({
      metric,
      canaryN: 0,
      canarySum: 0,
      stableN: 0,
      stableSum: 0,
      logE1: (isCount(metric) ? RATIO_GRID : LAMBDA_GRID).map(() => 0),
      logR1: isCount(metric) ? REVERSE_GRID.map(() => 0) : [],
      baseline: [],
      baselineSeen: 0,
      fired: false,
      notWorse: false,
      ...(isCount(metric) ? { failed: [], counted: 0, folded: 0 } : {}),
      ...(metric === 'error' ? { gross: { n: 0, events: 0, logE: GROSS_GRID.map(() => 0) } } : {}),
    })),
    pooled: {},
    rng: 0x9e3779b9,
    batches: 0,
    seen: [],
    keyed: 0,
    ...(evaluation ? { evaluation } : {}),
    ...(o.unit === 'environment' ? { environments: newEnvironmentState() } : {}),
  };
}

/** Per-metric thresholds: Bonferroni over metrics, then over the phases (see the module comment). */
export function thresholds(options: JudgeOptions): {
  canary: number;
  canaryFull: number;
  gross: number;
  after: number;
  afterValues: number;
  boundDelta: number;
  reverseCanary: number;
  reverseAfter: number;
} {
  const perMetric = options.alpha / familySize(options);
  const perReverse = options.alpha / Math.max(1, options.notWorseOn.length);
  return {
    // The error metric splits its share between the concurrent test and the gross after-traffic test; every other
    // metric spends all of it on the concurrent test (before/after tests only inform and spend nothing).
    canary: 2 / perMetric,
    canaryFull: 1 / perMetric,
    gross: 2 / perMetric,
    // The before/after tests' report thresholds (as if they had half the metric's share): informational.
    after: 2 / perMetric,
    afterValues: 2 / perMetric,
    boundDelta: perMetric / 4,
    reverseCanary: 2 / perReverse,
    reverseAfter: 4 / perReverse,
  };
}

/** Metrics in the Bonferroni family: the judge's own, and the evaluation metrics as one more when judged. */
function familySize(options: JudgeOptions): number {
  return options.metrics.length + (options.evaluation ? 1 : 0);
}

/** The evaluation metrics' thresholds: one metric's share of α, split by lambda/judge/scores.ts. */
export function judgeEvaluationThresholds(options: JudgeOptions): { readonly paired: number; readonly criterion: number } {
  if (!options.evaluation) return { paired: Number.POSITIVE_INFINITY, criterion: Number.POSITIVE_INFINITY };
  return evaluationThresholds(options.evaluation, options.alpha / familySize(options));
}

function afterThreshold(th: ReturnType<typeof thresholds>, metric: JudgeMetric): number {
  return isCount(metric) ? th.after : th.afterValues;
}

/** The concurrent test's threshold for `metric`. */
export function concurrentThreshold(options: JudgeOptions, metric: JudgeMetric): number {
  const th = thresholds(options);
  return metric === 'error' && options.metrics.includes('error') ? th.canary : th.canaryFull;
}

/**
 * canaryShare: the canary's traffic weight (0..1] while the observations arrived (or its observed share of the
 * batch's requests); 1 when all traffic is on the canary (then only the gross test can call a regression, and the
 * comparison with the stable baseline gathered before is reported). 0 is accepted for stable-only batches gathered
 * before the deployment: they only add to the baseline. One batch must not span a change of share. A batch at share 1
 * does not end the concurrent test: later batches with a stable share are judged as before (a tiny window that held
 * only canary requests is not the end of the canary). An observation's own `share` (unit `cluster`) overrides the
 * batch's for the concurrent bets.
 */
export function updateJudge(
  state: JudgeState,
  batch: { readonly canaryShare: number; readonly observations: readonly JudgeObservation[] },
  how: UpdateOptions = {},
): { readonly state: JudgeState; readonly decision: 'regression' | 'continue'; readonly evidence: readonly JudgeEvidence[] } {
  if (state?.kind !== 'cdk-ai-release/judge-state' || state.v !== 1) throw new Error('judge state is not a v1 judge state: start with newJudgeState()');
  const s = batch.canaryShare;
  if (!(Number.isFinite(s) && s >= 0 && s <= 1)) throw new Error(`canaryShare must be from 0 to 1 (the canary's traffic weight), got ${s}`);
  const next: JudgeState = how.inPlace ? withCurrentOptions(state) : copyState(state);
  const obs = batch.observations;
  if (s === 0 && obs.some((o) => o.version === 'canary'))
    throw new Error('canaryShare is 0 but the batch has canary observations: pass the share the canary had while they arrived');
  if (s === 1) {
    if (obs.some((o) => o.version === 'stable'))
      throw new Error('canaryShare is 1 but the batch has stable observations: at full traffic every request is the canary');
    if (next.phase === 'canary') startAfterTraffic(next);
  }
  for (const o of obs) {
    if (o.share !== undefined && !(Number.isFinite(o.share) && o.share >= 0 && o.share <= 1))
      throw new Error(`an observation's share must be from 0 to 1 (the canary's share when its conversation was assigned), got ${o.share}`);
    if (o.cluster !== undefined) next.keyed = (next.keyed ?? 0) + 1;
  }
  const th = thresholds(next.options);
  const bet = valueBets(next, s, obs);
  for (const m of next.metrics) {
    if (isCount(m.metric)) updateCount(m, m.metric, s, obs, next);
    else updateValue(m, m.metric, s, obs, next, bet);
  }
  // unit `environment`: the concurrent evidence is the switch bets' (no per-request bet is made).
  if (next.environments) payEnvironmentBets(next, obs);
  for (const m of next.metrics) {
    // Only concurrent evidence, and the gross after-traffic error test, call a regression.
    if (logMeanExp(m.logE1) >= Math.log(concurrentThreshold(next.options, m.metric))) m.fired = true;
    if (m.gross && m.gross.n > 0 && logMeanExp(m.gross.logE) >= Math.log(th.gross)) m.fired = true;
    if (next.options.notWorseOn.includes(m.metric)) {
      const r1 = m.logR1.length > 0 ? logMeanExp(m.logR1) : 0;
      const r2 = m.after ? logMeanExp(m.after.logR2) : 0;
      if (r1 >= Math.log(th.reverseCanary) || r2 >= Math.log(th.reverseAfter)) m.notWorse = true;
    }
  }
  next.batches++;
  return { state: next, decision: decisionOf(next), evidence: allEvidence(next) };
}

function decisionOf(st: JudgeState): 'regression' | 'continue' {
  return st.metrics.some((m) => m.fired) || evaluationFired(st.evaluation) ? 'regression' : 'continue';
}

function allEvidence(st: JudgeState): JudgeEvidence[] {
  const own = st.metrics.flatMap((m) => evidenceOf(st, m));
  return st.evaluation ? [...own, ...evaluationEvidence(st.evaluation, judgeEvaluationThresholds(st.options), st.phase)] : own;
}

/**
 * Folds a batch of the evaluator's results (scores and paired outcomes, lambda/judge/scores.ts) into the state. The
 * evaluation metrics are members of the family: a regression they show is the judge's regression.
 */
export function updateJudgeEvaluation(
  state: JudgeState,
  batch: EvaluationBatch,
): { readonly state: JudgeState; readonly decision: 'regression' | 'continue'; readonly evidence: readonly JudgeEvidence[] } {
  if (state?.kind !== 'cdk-ai-release/judge-state' || state.v !== 1) throw new Error('judge state is not a v1 judge state: start with newJudgeState()');
  if (!state.evaluation) throw new Error('the judge state judges no evaluation metrics: create it with newJudgeState({ evaluation: { criteria, paired } })');
  const next = copyState(state);
  next.evaluation = updateEvaluation(
    next.evaluation as EvaluationState,
    batch,
    judgeEvaluationThresholds(next.options),
    next.options.unit === 'cluster' ? 'cluster' : 'request',
  );
  return { state: next, decision: decisionOf(next), evidence: allEvidence(next) };
}

/**
 * The share each observation's values are bet at by the concurrent test (0: not bet on; -1: the batch's share, by
 * the permutation bet): its own share or the batch's, when strictly between 0 and 1; with unit `cluster`, only a cluster's first request (a conversation's
 * later turns share its label, so they are not independent bets).
 */
function valueBets(st: JudgeState, s: number, obs: readonly JudgeObservation[]): Float64Array {
  const bet = new Float64Array(obs.length);
  // unit `environment`: no per-request value bet (an environment's own offset rides on its label).
  if (st.environments) return bet;
  const byCluster = st.options.unit === 'cluster';
  const seen = byCluster ? new Set(st.seen ?? []) : undefined;
  for (let i = 0; i < obs.length; i++) {
    const o = obs[i];
    const u = o.share ?? s;
    if (!(u > 0 && u < 1)) continue;
    if (seen && o.cluster !== undefined) {
      const key = hash32(o.cluster);
      if (seen.has(key) || seen.size >= SEEN_CAP) continue;
      seen.add(key);
    }
    // Its own share: drawn at that share (linear bet). The batch's: possibly observed (permutation bet, -1).
    bet[i] = o.share !== undefined ? u : -1;
  }
  if (seen) st.seen = [...seen];
  return bet;
}

/** At the bound: no regression shown (enough evidence that the canary is not worse) or inconclusive. */
export function concludeJudge(state: JudgeState): 'regression' | 'no-regression-shown' | 'inconclusive' {
  if (state.metrics.some((m) => m.fired) || evaluationFired(state.evaluation)) return 'regression';
  const needed = state.metrics.filter((m) => state.options.notWorseOn.includes(m.metric));
  return needed.length > 0 && needed.every((m) => m.notWorse) ? 'no-regression-shown' : 'inconclusive';
}

/** θ: the chance an event is the canary's when its rate is `ratio` times the stable rate and its share is `p`. */
export function tilt(p: number, ratio: number): number {
  return (ratio * p) / (ratio * p + 1 - p);
}

/** Adds `hits` successes and `misses` failures of the likelihood ratio Bernoulli(tilt(base, r)) / Bernoulli(base). */
export function bernoulliStep(logE: number[], base: number, ratios: readonly number[], hits: number, misses: number): void {
  if (hits === 0 && misses === 0) return;
  for (let j = 0; j < ratios.length; j++) {
    const p1 = tilt(base, ratios[j]);
    logE[j] += (hits > 0 ? hits * Math.log(p1 / base) : 0) + (misses > 0 ? misses * Math.log((1 - p1) / (1 - base)) : 0);
  }
}

function updateCount(m: MetricState, metric: CountMetric, s: number, obs: readonly JudgeObservation[], st: JudgeState): void {
  let cN = 0;
  let cE = 0;
  let sN = 0;
  let sE = 0;
  // Concurrent bets, grouped by the share they are bet at: [canary events, stable events].
  const byShare = new Map<number, [number, number]>();
  const failed = s > 0 ? new Set(m.failed ?? []) : undefined;
  const gross = s === 1 ? m.gross : undefined;
  let gN = 0;
  let gE = 0;
  for (const o of obs) {
    const e = o[metric] === true;
    const canary = o.version === 'canary';
    if (canary) {
      cN++;
      if (e) cE++;
    } else {
      sN++;
      if (e) sE++;
    }
    if (!failed) continue;
    // A cluster counts once: its first event. Later requests of a cluster that failed are its retries or turns:
    // neither bet on nor counted by the gross test. Which events count depends on outcomes and keys, never labels.
    const key = o.cluster === undefined ? undefined : hash32(o.cluster);
    if (key !== undefined && failed.has(key)) {
      if (e) m.folded = (m.folded ?? 0) + 1;
      continue;
    }
    const u = o.share ?? s;
    if (gross && o.share === undefined) {
      gN++;
      if (e) gE++;
    }
    if (!e) continue;
    if (key !== undefined) {
      if (failed.size >= FAILED_CAP) continue;
      failed.add(key);
    }
    m.counted = (m.counted ?? 0) + 1;
    if (u > 0 && u < 1 && !st.environments) {
      const c = byShare.get(u) ?? [0, 0];
      c[canary ? 0 : 1]++;
      byShare.set(u, c);
    }
  }
  m.canaryN += cN;
  m.canarySum += cE;
  m.stableN += sN;
  m.stableSum += sE;
  if (failed) m.failed = [...failed];
  // Concurrent test: each counted event is the canary's with chance u (its share) under the null.
  for (const [u, [ce, se]] of byShare) {
    bernoulliStep(m.logE1, u, RATIO_GRID, ce, se);
    if (m.logR1.length > 0) bernoulliStep(m.logR1, tilt(u, st.options.countMargin), REVERSE_GRID, ce, se);
  }
  if (gross) grossStep(gross, st.options.grossErrorRate, gN, gE);
  if (s === 1 && m.after) {
    // Before/after (informs the review, never rolls back): the two-sample replay of the stable baseline.
    const a = m.after;
    a.n += cN;
    a.events += cE;
    if (a.reverseNull > 0 && a.reverseNull < 1) bernoulliStep(a.logR2, a.reverseNull, REVERSE_GRID, cE, cN - cE);
    if (cN === 0 || !(a.restN && a.restN > 0)) return;
    // How many baseline requests to replay against this batch: chosen from its size and timestamps, never its outcomes.
    let tMin = Number.POSITIVE_INFINITY;
    let tMax = Number.NEGATIVE_INFINITY;
    for (const o of obs) {
      if (o.at < tMin) tMin = o.at;
      if (o.at > tMax) tMax = o.at;
    }
    if (a.t0 === undefined && Number.isFinite(tMin)) a.t0 = tMin;
    const baseN = a.baseN ?? 0;
    const byTime = Number.isFinite(tMax) && a.t0 !== undefined ? (baseN * Math.max(0, tMax - a.t0)) / AFTER_SPEND_MS : 0;
    const target = Math.min(baseN, Math.max(byTime, a.n / AFTER_MIN_RATIO_INV));
    const mS = Math.min(a.restN, Math.max(0, Math.floor(target) - (a.replayed ?? 0)));
    if (mS === 0) return;
    // Draw mS of the remaining baseline without replacement; count its events.
    let rest = a.restN;
    let restE = a.restEvents ?? 0;
    let sE = 0;
    for (let i = 0; i < mS && restE > 0; i++) {
      if (nextRandom(st) * rest < restE) {
        sE++;
        restE--;
      }
      rest--;
    }
    a.restN -= mS;
    a.restEvents = restE;
    a.replayed = (a.replayed ?? 0) + mS;
    bernoulliStep(a.logE2, cN / (cN + mS), RATIO_GRID, cE, sE);
  }
}

function updateValue(m: MetricState, metric: ValueMetric, s: number, obs: readonly JudgeObservation[], st: JudgeState, bet: Float64Array): void {
  const sign = WORSE[metric];
  const vals: number[] = [];
  /** What the concurrent bets rank: the oriented value, the canary's moved by the tolerance (see `tolerated`). */
  const wv: number[] = [];
  const tol = toleranceOf(st.options, metric);
  const canary: boolean[] = [];
  /** The share each value is bet at (0: not bet on; -1: the batch's share, bet on by permutation). */
  const shares: number[] = [];
  for (let i = 0; i < obs.length; i++) {
    const o = obs[i];
    const y = o[metric];
    if (y === undefined || !Number.isFinite(y)) continue;
    vals.push(sign * y);
    wv.push(o.version === 'canary' ? tolerated(metric, sign * y, tol) : sign * y);
    canary.push(o.version === 'canary');
    shares.push(bet[i]);
    if (o.version === 'canary') {
      m.canaryN++;
      m.canarySum += y;
    } else {
      m.stableN++;
      m.stableSum += y;
    }
  }
  if (vals.length === 0) return;
  const a = s === 1 ? m.after : undefined;
  if (a) {
    // Before/after (informs the review, never rolls back).
    let hits = 0;
    for (const w of vals) if (w > a.cut) hits++;
    a.n += vals.length;
    a.events += hits;
    // Reverse test ("worse by the margin") on exceedances of the baseline median.
    if (a.reverseNull > 0 && a.reverseNull < 1) bernoulliStep(a.logR2, a.reverseNull, REVERSE_GRID, hits, vals.length - hits);
    // Forward test: conformal ranks. Under the null the baseline and the canary values are exchangeable, so each
    // new value's smoothed rank among all earlier ones (baseline and the canary values before it) is an independent
    // uniform (Vovk); bet 1 + λ(2u - 1) on it being high.
    const ref = a.ref;
    const take = Math.max(0, Math.min(vals.length, AFTER_BET_CAP - (a.bets ?? 0)));
    if (ref && ref.length > 0 && take > 0) afterRanks(a, ref, vals.slice(0, take), st);
  }
  // The stable baseline for the after-traffic phase: a uniform reservoir of stable values.
  for (let i = 0; i < vals.length && s < 1; i++) {
    if (canary[i]) continue;
    m.baselineSeen++;
    if (m.baseline.length < BASELINE_CAP) m.baseline.push(vals[i]);
    else {
      const j = Math.floor(nextRandom(st) * m.baselineSeen);
      if (j < BASELINE_CAP) m.baseline[j] = vals[i];
    }
  }
  const pool = st.pooled[metric] ?? { values: [], seen: 0 };
  st.pooled[metric] = pool;
  /** The reservoir's values sorted, when known (see SORTED_POOL). */
  let sortedPool = SORTED_POOL.get(pool.values);
  const betting = shares.some((u) => u !== 0);
  if (betting) {
    // Mid-ranks against pooled, unlabelled values: the reservoir of earlier batches once it is large enough (cheap:
    // 2,000 values), else that plus this batch's values.
    const withBatch = pool.values.length < POOLED_CAP / 2;
    let ref: Float64Array;
    if (withBatch) {
      ref = new Float64Array(pool.values.length + wv.length);
      ref.set(pool.values);
      ref.set(wv, pool.values.length);
      ref.sort();
    } else {
      if (!sortedPool) sortedPool = Float64Array.from(pool.values).sort();
      ref = sortedPool;
    }
    const n = LAMBDA_GRID.length;
    const lambdas = new Float64Array(n);
    let lambdaShare = -1;
    // Each factor is in (0.01, 2); a running product of 32 stays far inside double range, so one log per 32.
    const inc = new Float64Array(n);
    const prod = new Float64Array(n).fill(1);
    let k = 0;
    for (let i = 0; i < vals.length; i++) {
      const u = shares[i];
      if (!(u > 0)) continue;
      if (u !== lambdaShare) {
        const lambdaCap = 0.99 / Math.max(u, 1 - u);
        for (let j = 0; j < n; j++) lambdas[j] = Math.min(LAMBDA_GRID[j], lambdaCap);
        lambdaShare = u;
      }
      const g = 2 * midRank(ref, wv[i]) - 1;
      const gd = g * ((canary[i] ? 1 : 0) - u);
      for (let j = 0; j < n; j++) prod[j] *= 1 + lambdas[j] * gd;
      if ((++k & 31) === 0)
        for (let j = 0; j < n; j++) {
          inc[j] += Math.log(prod[j]);
          prod[j] = 1;
        }
    }
    for (let j = 0; j < n; j++) m.logE1[j] += inc[j] + Math.log(prod[j]);
    // Batch-share values (-1): the permutation bet. Given the batch's values and its canary count n_c, the canary's
    // values are a uniformly random subset of the batch's (labels i.i.d. whatever the share was, nominal or observed),
    // so exp(λ Σ_canary g) / E_perm exp(λ Σ_S g) is a fair bet, E_perm over the C(n, n_c) subsets S of size n_c — the
    // exact permutation moment, e_{n_c}(exp(λ g_1), …, exp(λ g_n)) / C(n, n_c) (an elementary symmetric mean; see
    // `permutationLogMgf`). It is computed per chunk of PERM_CHUNK consecutive requests (given each chunk's canary
    // count the subsets are uniform within the chunks, independently), which keeps the cost linear in the batch.
    // (The linear bet 1 + λ g (V - s) is fair only for labels drawn at a known s: with s the observed share the labels
    // are negatively correlated and its product has expectation above 1 — two requests, one each: E = 1 + λ²/4.
    // Hoeffding's (1963, Th. 4) bound (mean_i exp(λ g_i))^n_c, used before, is fair too but ignores the finite
    // population: its growth per request is s(1 - s)² against s(1 - s) here, half the evidence at a 50 % step.)
    const gs: number[] = [];
    const cs: boolean[] = [];
    for (let i = 0; i < vals.length; i++) {
      if (shares[i] !== -1) continue;
      gs.push(2 * midRank(ref, wv[i]) - 1);
      cs.push(canary[i]);
    }
    for (let from = 0; from < gs.length; from += PERM_CHUNK) {
      const to = Math.min(gs.length, from + PERM_CHUNK);
      if (to - from < gs.length - from && gs.length - to < PERM_CHUNK / 2) {
        // Fold a short tail into this chunk (a chunk is at most 1.5 × PERM_CHUNK).
        permutationBet(m.logE1, gs.slice(from), cs.slice(from));
        break;
      }
      permutationBet(m.logE1, gs.slice(from, to), cs.slice(from, to));
    }
  }
  // Update the pooled reservoir with what the bets rank (at the tolerance's boundary, the same law for both labels).
  const added: number[] = [];
  const removed: number[] = [];
  for (const w of wv) {
    pool.seen++;
    if (pool.values.length < POOLED_CAP) {
      pool.values.push(w);
      added.push(w);
    } else {
      const j = Math.floor(nextRandom(st) * pool.seen);
      if (j < POOLED_CAP) {
        removed.push(pool.values[j]);
        pool.values[j] = w;
        added.push(w);
      }
    }
  }
  // Kept up to date while the batches bet (the canary phase); after it, dropped (a later bet sorts once).
  if (betting && sortedPool && (added.length > 0 || removed.length > 0)) sortedPool = updateSorted(sortedPool, added, removed);
  if (betting && sortedPool) SORTED_POOL.set(pool.values, sortedPool);
  else SORTED_POOL.delete(pool.values);
}

/**
 * A cache, never part of the state: each pooled reservoir's values sorted, keyed by the reservoir's array, so a batch
 * ranks against the reservoir without sorting it again (the mirror is updated by merging what the batch added and
 * removed). A mirror is never changed in place: copyState hands the same mirror to the copy's array, and a state read
 * back from JSON has none and sorts once. The merge gives the same sorted values as a sort (up to the order of -0 and
 * +0, which no comparison sees), so every rank is the same.
 */
const SORTED_POOL = new WeakMap<number[], Float64Array>();

/** sorted + added − removed (removed ⊆ sorted + added as multisets), sorted. */
function updateSorted(sorted: Float64Array, added: readonly number[], removed: readonly number[]): Float64Array {
  const add = Float64Array.from(added).sort();
  const rem = Float64Array.from(removed).sort();
  const out = new Float64Array(sorted.length + add.length - rem.length);
  let i = 0;
  let j = 0;
  let r = 0;
  let o = 0;
  while (i < sorted.length || j < add.length) {
    const v = j >= add.length || (i < sorted.length && sorted[i] <= add[j]) ? sorted[i++] : add[j++];
    if (r < rem.length && v === rem[r]) r++;
    else out[o++] = v;
  }
  if (r !== rem.length || o !== out.length) throw new Error('judge: the sorted reservoir lost track of its values (a bug: please report it)');
  return out;
}

/** Requests per chunk of the exact permutation bet (cost per request: PERM_CHUNK / 2 × the λ grid, at most). */
const PERM_CHUNK = 64;

/** Adds to each λ component the log of the exact permutation bet of one chunk: scores `g`, labels `c` (true: canary). */
function permutationBet(logE: number[], g: readonly number[], c: readonly boolean[], grid: readonly number[] = LAMBDA_GRID): void {
  const n = g.length;
  let nc = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) {
    if (c[i]) nc++;
    mean += g[i];
  }
  if (nc === 0 || nc === n) return;
  mean /= n;
  // Centre the scores (Σ (g - ḡ) = 0, so the subset's complement carries the same sum with the opposite sign): work
  // with the smaller side, k = min(n_c, n - n_c).
  const small = nc <= n - nc;
  const k = small ? nc : n - nc;
  let sumC = 0;
  for (let i = 0; i < n; i++) if (c[i]) sumC += g[i] - mean;
  // Every λ's factors, λ after λ (row j holds λ_j's n factors), then all the moments in one pass.
  const x = new Float64Array(grid.length * n);
  for (let j = 0; j < grid.length; j++) {
    const lambda = grid[j];
    for (let i = 0; i < n; i++) x[j * n + i] = Math.exp((small ? lambda : -lambda) * (g[i] - mean));
  }
  const lm = permutationLogMgfs(x, n, grid.length, k);
  for (let j = 0; j < grid.length; j++) logE[j] += grid[j] * sumC - lm[j];
}

/** The environment switch bets' bet sizes (scores g in [-1, 1]; few units, so larger than the per-request grids). */
export const ENV_COUNT_GRID: readonly number[] = RATIO_GRID.map((r) => 2 * Math.log(r));
export const ENV_VALUE_GRID: readonly number[] = LAMBDA_GRID.map((l) => 8 * l);

/**
 * unit `environment`: folds the batch into the environment state and pays each settled switch bet into its metric's
 * concurrent e-process, in order (lambda/judge/environments.ts says why each has expectation 1 under the null).
 * Values are scored oriented and NOT moved by the tolerance: a score that depended on the label would break the
 * permutation's exactness (the tolerance is the code plane's mitigation for environments it cannot randomize over;
 * here the environment is the unit, so its effect is in the design already).
 */
function payEnvironmentBets(st: JudgeState, obs: readonly JudgeObservation[]): void {
  const env = st.environments as EnvironmentState;
  const metrics: EnvironmentMetric<JudgeObservation>[] = st.metrics.map((m) => {
    if (isCount(m.metric)) {
      const metric = m.metric;
      return { metric, count: (o: JudgeObservation) => o[metric] === true };
    }
    const metric = m.metric;
    const sign = WORSE[metric];
    return {
      metric,
      value: (o: JudgeObservation) => {
        const y = o[metric];
        return y === undefined || !Number.isFinite(y) ? undefined : sign * y;
      },
    };
  });
  const settled = updateEnvironments(env, st.batches, obs, metrics);
  for (const b of settled) {
    const m = st.metrics.find((x) => x.metric === b.metric);
    if (!m) continue;
    permutationBet(m.logE1, b.g, b.switched, isCount(m.metric) ? ENV_COUNT_GRID : ENV_VALUE_GRID);
  }
}

/**
 * ln of the mean, over all subsets S of size k of x's indices, of Π_{i∈S} x_i: the elementary symmetric mean
 * e_k(x) / C(n, k), by the recurrence A_j(m) = ((m - j) / m) A_j(m - 1) + (j / m) x_m A_{j-1}(m - 1) (every term a
 * convex combination of products of at most k of the x's: with λ ≤ 1, |g - ḡ| ≤ 2 and k ≤ 1.5 × PERM_CHUNK / 2 = 48
 * every term is within e^±96, far inside double range). O(n k).
 */
export function permutationLogMgf(x: ArrayLike<number>, k: number): number {
  const n = x.length;
  if (k === 0) return 0;
  if (!(k > 0 && k <= n)) throw new Error(`permutationLogMgf needs 0 ≤ k ≤ n, got k = ${k}, n = ${n}`);
  return permutationLogMgfs(Float64Array.from(x), n, 1, k)[0];
}

/**
 * permutationLogMgf for `rows` vectors of length n at once (row r is x[r·n … r·n + n - 1]), 1 ≤ k ≤ n: the
 * recurrence's coefficients (m - j) / m and j / m are computed once for all rows, and only the A_j that can still
 * reach A_k are updated (j ≥ k - (n - m): each step raises j by at most one), so the result is the full recurrence's
 * bit for bit (the same operations in the same order on every A_j that A_k depends on).
 */
function permutationLogMgfs(x: Float64Array, n: number, rows: number, k: number): Float64Array {
  const w = k + 1;
  const a = new Float64Array(rows * w);
  for (let r = 0; r < rows; r++) a[r * w] = 1;
  for (let m = 1; m <= n; m++) {
    const lo = Math.max(1, k - (n - m));
    for (let j = Math.min(m, k); j >= lo; j--) {
      const cA = (m - j) / m;
      const cB = j / m;
      for (let r = 0, b = j, xi = m - 1; r < rows; r++, b += w, xi += n) a[b] = cA * a[b] + cB * x[xi] * a[b - 1];
    }
  }
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) out[r] = Math.log(a[r * w + k]);
  return out;
}

/**
 * A canary's oriented value moved by the tolerance m, so that a canary exactly m worse ranks like the stable version:
 * latency and cost (ratio scale) divided by 1 + m, quality (oriented: −score) lowered by m. Rank tests are invariant
 * to monotone transforms, so for latency this is exactly the null "canary = stable × (1 + m) in law".
 */
function tolerated(metric: ValueMetric, oriented: number, m: number): number {
  if (m === 0) return oriented;
  return metric === 'quality' ? oriented - m : oriented / (1 + m);
}

/** The after-traffic conformal ranks of `batch` against `ref` (before/after: informs only). */
function afterRanks(a: NonNullable<MetricState['after']>, ref: number[], batch: number[], st: JudgeState): void {
  const take = batch.length;
  // Ranks among the earlier values of this batch: a Fenwick tree over the batch's sorted distinct values.
  const distinct = Float64Array.from(batch).sort();
  const tree = new Int32Array(distinct.length + 1);
  const add = (i: number) => {
    for (let x = i + 1; x <= distinct.length; x += x & -x) tree[x]++;
  };
  const count = (n: number) => {
    let c = 0;
    for (let x = n; x > 0; x -= x & -x) c += tree[x];
    return c;
  };
  const prod = new Float64Array(LAMBDA_GRID.length).fill(1);
  for (let i = 0; i < take; i++) {
    const w = batch[i];
    const lo = lowerBound(distinct, w);
    const hi = upperBoundFrom(distinct, lo, w);
    const refLo = lowerBound(ref, w);
    const less = refLo + count(lo);
    const notAbove = upperBoundFrom(ref, refLo, w) + count(hi);
    const u = (less + nextRandom(st) * (notAbove - less + 1)) / (ref.length + i + 1);
    const g = 2 * u - 1;
    for (let j = 0; j < LAMBDA_GRID.length; j++) prod[j] *= 1 + LAMBDA_GRID[j] * g;
    add(lo);
    if ((i & 31) === 31)
      for (let j = 0; j < prod.length; j++) {
        a.logE2[j] += Math.log(prod[j]);
        prod[j] = 1;
      }
  }
  for (let j = 0; j < prod.length; j++) a.logE2[j] += Math.log(prod[j]);
  a.bets = (a.bets ?? 0) + take;
  // Merge this batch into the sorted reference.
  const merged: number[] = new Array(ref.length + take);
  let x = 0;
  let y = 0;
  for (let k = 0; k < merged.length; k++) merged[k] = y >= take || (x < ref.length && ref[x] <= distinct[y]) ? ref[x++] : distinct[y++];
  a.ref = merged;
}

/** Full traffic begins: fix each metric's baseline bound once. */
function startAfterTraffic(st: JudgeState): void {
  st.phase = 'after-traffic';
  const th = thresholds(st.options);
  const delta = th.boundDelta;
  for (const m of st.metrics) {
    const zero = { logE2: RATIO_GRID.map(() => 0), logR2: REVERSE_GRID.map(() => 0), n: 0, events: 0 };
    if (isCount(m.metric)) {
      const n = m.stableN;
      const x = m.stableSum;
      const p0 = n === 0 ? 1 : binomialUpper(x, n, delta);
      const lo = n === 0 ? 0 : binomialLower(x, n, delta);
      m.after = { ...zero, p0, reverseNull: Math.min(1, st.options.countMargin * lo), cut: 0, restN: n, restEvents: x, replayed: 0, baseN: n };
    } else {
      // A numeric sort (typed: no comparator calls); the same order as (p, q) => p - q up to the sign of a zero, which
      // neither comparisons nor JSON can see.
      const b = Array.from(Float64Array.from(m.baseline).sort());
      const n = b.length;
      if (n === 0) {
        m.after = { ...zero, p0: 1, reverseNull: 0, cut: Number.MAX_VALUE };
        continue;
      }
      // cut = X_(k), k = ceil(n/2). For a continuous law, P(stable > X_(k)) ~ Beta(n-k+1, k): its bounds are the
      // Clopper-Pearson bounds of n-k (upper) and n-k+1 (lower) events in n. Ties only make "exceeds" rarer.
      // The forward test needs no bound (conformal ranks against the baseline itself): p0 is kept for the record.
      const k = Math.ceil(n / 2);
      const p0 = binomialUpper(n - k, n, delta);
      const lo = binomialLower(n - k + 1, n, delta);
      m.after = { ...zero, logE2: LAMBDA_GRID.map(() => 0), p0, reverseNull: Math.min(1, lo + st.options.valueMargin), cut: b[k - 1], ref: b, bets: 0 };
    }
  }
}

function evidenceOf(st: JudgeState, m: MetricState): JudgeEvidence[] {
  const th = thresholds(st.options);
  const after = st.phase === 'after-traffic';
  const r1 = m.logR1.length > 0 ? logMeanExp(m.logR1) : 0;
  const r2 = m.after ? logMeanExp(m.after.logR2) : Number.NEGATIVE_INFINITY;
  const reverse = st.options.notWorseOn.includes(m.metric) ? { notWorseEValue: cap(Math.exp(Math.max(r1, r2))) } : {};
  const beforeAfter = m.after ? { beforeAfterEValue: cap(Math.exp(logMeanExp(m.after.logE2))), beforeAfterThreshold: afterThreshold(th, m.metric) } : {};
  const phase = after ? ('after-traffic' as const) : ('canary' as const);
  const canary = { n: m.canaryN, value: m.canaryN > 0 ? m.canarySum / m.canaryN : 0 };
  const stable = { n: m.stableN, value: m.stableN > 0 ? m.stableSum / m.stableN : 0 };
  const out: JudgeEvidence[] = [
    {
      metric: m.metric,
      eValue: cap(Math.exp(logMeanExp(m.logE1))),
      threshold: concurrentThreshold(st.options, m.metric),
      canary,
      stable,
      phase,
      test: 'concurrent',
      ...reverse,
      ...beforeAfter,
    },
  ];
  if (m.gross && m.gross.n > 0) {
    out.push({
      metric: m.metric,
      eValue: cap(Math.exp(logMeanExp(m.gross.logE))),
      threshold: th.gross,
      canary: { n: m.gross.n, value: m.gross.events / m.gross.n },
      stable: { n: 0, value: st.options.grossErrorRate },
      phase,
      test: 'gross',
    });
  }
  return out;
}

/** How the failures were grouped into clusters, for the record. */
export function judgeClusters(state: JudgeState): JudgeClusters {
  let counted = 0;
  let folded = 0;
  for (const m of state.metrics) {
    counted += m.counted ?? 0;
    folded += m.folded ?? 0;
  }
  const env = state.environments;
  return {
    unit: state.options.unit ?? 'request',
    counted,
    folded,
    keyed: state.keyed ?? 0,
    ...(env ? { environments: Object.keys(env.last).length, switchBets: env.settled } : {}),
  };
}

function cap(x: number): number {
  return Number.isFinite(x) ? x : Number.MAX_VALUE;
}

function isCount(m: JudgeMetric): m is CountMetric {
  return (COUNT_METRICS as readonly string[]).includes(m);
}

/** The gross test: each counted request's error is Bernoulli(p); H0 p ≤ g, alternatives multiples of g (GROSS_GRID). */
function grossStep(gr: { n: number; events: number; logE: number[] }, g: number, n: number, events: number): void {
  gr.n += n;
  gr.events += events;
  if (n === 0) return;
  for (let j = 0; j < GROSS_GRID.length; j++) {
    const p1 = Math.min(0.999, g * GROSS_GRID[j]);
    if (!(p1 > g)) continue;
    gr.logE[j] += events * Math.log(p1 / g) + (n - events) * Math.log((1 - p1) / (1 - g));
  }
}

/** mulberry32: a small PRNG whose state is one number, so the judge state stays JSON. */
function nextRandom(st: JudgeState): number {
  st.rng = (st.rng + 0x6d2b79f5) | 0;
  let t = st.rng;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

export interface UpdateOptions {
  /**
   * Update the given state itself instead of a copy (the returned state is the same object). For callers that drop
   * the old state at once (the simulations: lambda/judge/simulate.ts), where copying the reservoirs and references on
   * every update is most of the cost of a small batch; the outputs are the same bit for bit (test/judge-engine-pin).
   * A batch refused with an error may leave the state half updated. @default false
   */
  readonly inPlace?: boolean;
}

/** The state itself with its options brought up to date, as copyState does for a copy (updateJudge `inPlace`). */
function withCurrentOptions(st: JudgeState): JudgeState {
  (st as { options: JudgeOptions }).options = currentOptions(st.options);
  return st;
}

function currentOptions(o: JudgeOptions): JudgeOptions {
  // A state from before an option existed gets its default.
  return { ...DEFAULTS, ...o, metrics: [...o.metrics], notWorseOn: [...o.notWorseOn], tolerance: { ...(o.tolerance ?? NO_TOLERANCE) } };
}

/** A deep copy of the state (plain arrays and numbers), so callers may keep the old one. */
function copyState(st: JudgeState): JudgeState {
  const pooled: JudgeState['pooled'] = {};
  for (const [k, v] of Object.entries(st.pooled))
    if (v) {
      const values = v.values.slice();
      const sorted = SORTED_POOL.get(v.values);
      if (sorted) SORTED_POOL.set(values, sorted);
      pooled[k as ValueMetric] = { values, seen: v.seen };
    }
  return {
    ...st,
    options: currentOptions(st.options),
    metrics: st.metrics.map((m) => ({
      ...m,
      logE1: m.logE1.slice(),
      logR1: m.logR1.slice(),
      baseline: m.baseline.slice(),
      ...(m.failed ? { failed: m.failed.slice() } : {}),
      ...(m.gross ? { gross: { ...m.gross, logE: m.gross.logE.slice() } } : {}),
      ...(m.after
        ? { after: { ...m.after, logE2: m.after.logE2.slice(), logR2: m.after.logR2.slice(), ...(m.after.ref ? { ref: m.after.ref.slice() } : {}) } }
        : {}),
    })),
    pooled,
    ...(st.seen ? { seen: st.seen.slice() } : {}),
    ...(st.evaluation ? { evaluation: copyEvaluation(st.evaluation) } : {}),
    ...(st.environments ? { environments: copyEnvironmentState(st.environments) } : {}),
  };
}
