/**
 * The canary judge's evaluation metrics (issue 17 E): the evaluator's per-criterion scores as an anytime-valid
 * concurrent two-sample RANK test (canary against stable), and the paired outcomes as the sign-test e-process of
 * `paired.ts`. Pure, JSON state, no SDK. `judge.ts` holds this state beside its own metrics and gives it one share of
 * the false-rollback bound (see `evaluationThresholds`).
 *
 * Scores (one test per criterion). The label of a scored answer is a coin flip whose bias is known or observed: on the
 * code plane the weighted alias routes each request with probability s, and both versions are sampled at the same
 * rate, so a sampled answer is the canary's with probability s; on the config plane the runtime samples the canary at
 * a higher rate during a release (issue 17 B) and records the resulting probability that a sampled answer is the
 * canary's, s' = s r_c / (s r_c + (1 - s) r_s) (`share` of a score observation). Conditioning on the sampling rates
 * this way makes unequal sampling harmless: under the null the score is independent of the label, and the label of a
 * sampled answer is Bernoulli(s') whatever the rates are. The bets are the judge's value bets, on the mid-rank g = 2u - 1
 * of each score among pooled, unlabelled scores (lower is worse: the rank is of the negated score):
 * - with a known share s': the linear bet 1 + λ g (V - s'), V = 1 for the canary (E = 1 exactly under the null);
 * - without one (code plane: the runtime does not know its share), the permutation bet on the batch: given the batch's
 *   scores and its canary count n_c, the canary's scores are a sample without replacement of the batch's, so
 *   exp(λ Σ_canary g - n_c ln mean_i exp(λ g_i)) has expectation ≤ 1 (Hoeffding 1963, Theorem 4).
 * A mixture over λ; by Ville's inequality P(sup E ≥ 1/α) ≤ α. One-sided: only a canary whose scores are lower rolls
 * back. A criterion fires only once both arms have `minScores` scores: a criterion with too few scores never rolls
 * back (and, outside `notWorseOn`, never blocks a conclusion); the gate on counts only shrinks the rejection event, so
 * the bound holds.
 *
 * Clusters: with `unit: 'cluster'` (the config plane's per-conversation assignment) the conversation is the
 * randomization unit, so a criterion bets on the first score of each conversation only (bounded memory, like the
 * judge's). On the code plane each request is assigned on its own and every score is bet on (given all scores the
 * labels are still independent coin flips).
 *
 * Execution environments (h12-envscore, unit `request`: the code plane). An environment serves one version, so its own
 * offset (a degraded connection to the vector store, a cold cache) rides on its version's label: given the scores the
 * labels are no longer coin flips (a score tells its environment, which tells its version), and the bet grows with
 * every score of an environment whose offset happens to favour the stable version (measured: 18.9 % of good releases
 * rolled back at σ 0.6 and 10 % scoring, bench/RESULTS.md § h11-eval17). The null tested is therefore "the canary's
 * environments are draws from the same distribution as the stable's, and within its environment a canary answer is as
 * good", not "every canary answer is as good" (false whenever environments differ; rolling back for it is rolling back
 * for the environments). What is exact for that null is bounded by the design: with k environments a version, a bet
 * on which environments are the canary's pays at most C(2k, k) (20 for three a version), below every criterion's
 * threshold, so it could never roll back. What is built is the survey statistician's correction (Kish 1965): scores
 * of one environment are correlated, ρ the intraclass correlation of the rank scores within a version (one-way ANOVA
 * of environments within versions, so the difference between versions is not counted as spread), m = Σ n_e² / Σ n_e
 * the size-weighted scores per environment over the release so far (offsets last as long as the environments do, so
 * m grows with the release), and each λ component's log-wealth is divided by D = 1 + (m − 1) ρ (`designEffect`):
 * - exact where environments do not matter: D ≥ 1 and every threshold is above 1, so E^(1/D) reaches a threshold only
 *   where E does, and Ville's bound for the i.i.d. null holds as before;
 * - approximate where they do: for the best λ the log-wealth is about z² / 2 with z the statistic's ratio to its
 *   null spread; tempering by D gives z / √D, the design-corrected statistic, calibrated when ρ is. With three
 *   environments a version ρ is estimated on 4 degrees of freedom, so the bound is not guaranteed: bench/RESULTS.md
 *   § h12-envscore measures how far it is from α (good releases at σ 0.3 and 0.6 on every score), and the power it
 *   costs (ρ's noise gives D > 1 where environments are alike).
 * Scores with a known share (the config plane) are not tempered: there environments are shared by both arms and the
 * conversation is the unit, so an environment's offset falls on both labels alike.
 *
 * Paired outcomes: the state of `paired.ts` (one pair per input by case id, bounded), bet on in any phase: a pair is
 * the canary's and the stable version's answer to the same input, replayed at the same time, so it is a concurrent
 * comparison even after full traffic.
 */
import { newPairedState, type PairedObservation, type PairedState, pairedEValue, updatePaired } from './paired';
import { hash32, logMeanExp, midRank } from './stats';

/** One evaluator score of one sampled answer on one criterion (model, guardrail or deterministic check). */
export interface ScoreObservation {
  readonly version: 'canary' | 'stable';
  readonly criterion: string;
  /** On the rubric's scale (deterministic checks: 0 or 1). Larger is better. */
  readonly score: number;
  /** The randomization unit's key under `unit: 'cluster'` (the conversation); absent: its own unit. */
  readonly cluster?: string;
  /**
   * The probability that a sampled answer at this time was the canary's (the traffic share and both arms' sampling
   * rates, as the sampler knew them). Absent: the batch's observed share (permutation bet).
   */
  readonly share?: number;
  /**
   * The execution environment that produced the answer (the log stream of the line the sample came from; on the code
   * plane an environment serves one version). Under unit `request` it enters the criterion's design effect (see the
   * module header). Absent: the score counts as independent of every other.
   */
  readonly environment?: string;
}

export interface EvaluationBatch {
  readonly scores: readonly ScoreObservation[];
  readonly paired: readonly PairedObservation[];
}

export interface EvaluationOptions {
  /** The criteria judged (rubric criteria, deterministic checks): α is split evenly over them. Scores of others are ignored. */
  readonly criteria: readonly string[];
  /** Judge the paired outcomes (sign test). */
  readonly paired: boolean;
  /** Scores each arm needs on a criterion before that criterion may roll back. @default 20 */
  readonly minScores?: number;
  /**
   * How scores that carry an execution environment are judged under unit `request` (the code plane, where an
   * environment serves one version): `design-effect`, each criterion's e-value tempered by its environments' design
   * effect (see the module header); `ignore`, as if every score were independent (the engine before h12-envscore).
   * A state persisted without the field keeps `ignore`. @default 'design-effect'
   */
  readonly environments?: 'design-effect' | 'ignore';
}

export const DEFAULT_MIN_SCORES = 20;
/** Bet sizes the score tests mix over (the judge's value grid). */
export const SCORE_LAMBDA_GRID: readonly number[] = [0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1];
/** Pooled (unlabelled) scores the ranks are taken against, per criterion. */
const SCORE_POOL_CAP = 2000;
/** Clusters remembered per criterion (unit `cluster`); once full, scores of new clusters are not bet on. */
const SCORE_SEEN_CAP = 20_000;

export interface CriterionState {
  readonly criterion: string;
  canaryN: number;
  canarySum: number;
  stableN: number;
  stableSum: number;
  /** Scores bet on (both arms). */
  bets: number;
  logE: number[];
  pool: number[];
  poolSeen: number;
  seen?: number[];
  /**
   * environments `design-effect`: per environment and version ("c:" / "s:" + a hash of the environment), the scores bet on and
   * the sum and sum of squares of their rank scores g, for the within-version between-environment spread.
   */
  env?: Record<string, [number, number, number]>;
  fired: boolean;
}

export interface EvaluationState {
  readonly options: EvaluationOptions;
  criteria: CriterionState[];
  paired?: PairedState;
  pairedFired?: boolean;
  /** Scores of criteria not judged (not in `options.criteria`). */
  ignored: number;
  rng: number;
}

export function newEvaluationState(options: EvaluationOptions): EvaluationState {
  const seen = new Set<string>();
  for (const c of options.criteria) {
    if (typeof c !== 'string' || !/^[a-z][a-z0-9-]{0,39}$/.test(c))
      throw new Error(`judge evaluation criterion "${String(c)}" is not a criterion name (lower-case letters, digits and dashes, e.g. groundedness)`);
    if (seen.has(c)) throw new Error(`judge evaluation criterion "${c}" is named twice; name each criterion once`);
    seen.add(c);
  }
  if (options.criteria.length === 0 && !options.paired)
    throw new Error('judge evaluation has no criteria and paired is false: name at least one criterion, or judge the paired outcomes');
  const minScores = options.minScores ?? DEFAULT_MIN_SCORES;
  if (!(Number.isInteger(minScores) && minScores >= 1))
    throw new Error(`judge evaluation minScores must be a whole number of scores, 1 or more, got ${minScores}; ${DEFAULT_MIN_SCORES} is the default`);
  const environments = options.environments ?? 'design-effect';
  if (environments !== 'design-effect' && environments !== 'ignore')
    throw new Error(`judge evaluation environments must be 'design-effect' or 'ignore', got ${String(environments)}; 'design-effect' is the default`);
  return {
    options: { criteria: [...options.criteria], paired: options.paired, minScores, environments },
    criteria: options.criteria.map((criterion) => ({
      criterion,
      canaryN: 0,
      canarySum: 0,
      stableN: 0,
      stableSum: 0,
      bets: 0,
      logE: SCORE_LAMBDA_GRID.map(() => 0),
      pool: [],
      poolSeen: 0,
      fired: false,
    })),
    ...(options.paired ? { paired: newPairedState(), pairedFired: false } : {}),
    ignored: 0,
    rng: 0x2545f491,
  };
}

/**
 * The e-values at which the evaluation metrics fire, given the α share the judge gives them (one metric's share):
 * half to the paired test and half split over the criteria when both are judged, else all to the one kind.
 */
export function evaluationThresholds(options: EvaluationOptions, alphaShare: number): { readonly paired: number; readonly criterion: number } {
  const c = options.criteria.length;
  const pairedAlpha = options.paired ? (c > 0 ? alphaShare / 2 : alphaShare) : 0;
  const perCriterion = c > 0 ? (alphaShare - pairedAlpha) / c : 0;
  return { paired: pairedAlpha > 0 ? 1 / pairedAlpha : Number.POSITIVE_INFINITY, criterion: perCriterion > 0 ? 1 / perCriterion : Number.POSITIVE_INFINITY };
}

export function copyEvaluation(st: EvaluationState): EvaluationState {
  return {
    ...st,
    options: { ...st.options, criteria: [...st.options.criteria] },
    criteria: st.criteria.map((c) => ({
      ...c,
      logE: c.logE.slice(),
      pool: c.pool.slice(),
      ...(c.seen ? { seen: c.seen.slice() } : {}),
      ...(c.env ? { env: Object.fromEntries(Object.entries(c.env).map(([k, v]) => [k, [v[0], v[1], v[2]] as [number, number, number]])) } : {}),
    })),
    ...(st.paired ? { paired: { ...st.paired, logWealth: st.paired.logWealth.slice(), seen: st.paired.seen.slice() } } : {}),
  };
}

/** Folds one batch into a copy of the state and sets the fired flags. `unit`: the judge's randomization unit. */
export function updateEvaluation(
  state: EvaluationState,
  batch: EvaluationBatch,
  th: { readonly paired: number; readonly criterion: number },
  unit: 'request' | 'cluster' = 'request',
): EvaluationState {
  const next = copyEvaluation(state);
  const byCriterion = new Map<string, ScoreObservation[]>();
  for (const o of batch.scores) {
    if (o.version !== 'canary' && o.version !== 'stable') throw new Error(`a score observation's version must be canary or stable, got ${String(o.version)}`);
    if (!Number.isFinite(o.score)) throw new Error(`a score of criterion ${o.criterion} is not a number (${String(o.score)})`);
    if (o.environment !== undefined && typeof o.environment !== 'string')
      throw new Error(`a score observation's environment must be a string (the log stream that wrote it), got ${typeof o.environment}`);
    if (o.share !== undefined && !(Number.isFinite(o.share) && o.share >= 0 && o.share <= 1))
      throw new Error(`a score observation's share must be from 0 to 1 (the chance a sampled answer was the canary's), got ${o.share}`);
    const list = byCriterion.get(o.criterion);
    if (list) list.push(o);
    else byCriterion.set(o.criterion, [o]);
  }
  const minScores = next.options.minScores ?? DEFAULT_MIN_SCORES;
  for (const [criterion, obs] of byCriterion) {
    const c = next.criteria.find((x) => x.criterion === criterion);
    if (!c) {
      next.ignored += obs.length;
      continue;
    }
    updateCriterion(c, obs, next, unit);
    if (c.canaryN >= minScores && c.stableN >= minScores && criterionLogE(c) >= Math.log(th.criterion)) c.fired = true;
  }
  if (next.paired && batch.paired.length > 0) {
    next.paired = updatePaired(next.paired, batch.paired);
    if (pairedEValue(next.paired) >= th.paired) next.pairedFired = true;
  }
  return next;
}

function updateCriterion(c: CriterionState, obs: readonly ScoreObservation[], st: EvaluationState, unit: 'request' | 'cluster'): void {
  const seen = unit === 'cluster' ? new Set(c.seen ?? []) : undefined;
  // Oriented: larger is worse (a lower score).
  const vals: number[] = [];
  const canary: boolean[] = [];
  /** The share each value is bet at: u in (0, 1) (linear bet), -1 (the batch's observed share), 0 (not bet on). */
  const shares: number[] = [];
  for (const o of obs) {
    const isCanary = o.version === 'canary';
    if (isCanary) {
      c.canaryN++;
      c.canarySum += o.score;
    } else {
      c.stableN++;
      c.stableSum += o.score;
    }
    vals.push(-o.score);
    canary.push(isCanary);
    let bet = o.share === undefined ? -1 : o.share > 0 && o.share < 1 ? o.share : 0;
    if (seen && o.cluster !== undefined && bet !== 0) {
      const key = hash32(o.cluster);
      if (seen.has(key) || seen.size >= SCORE_SEEN_CAP) bet = 0;
      else seen.add(key);
    }
    shares.push(bet);
  }
  if (seen) c.seen = [...seen];
  // Mid-ranks against the pooled scores of earlier batches plus this batch's (values only, never labels).
  const ref = Float64Array.from([...c.pool, ...vals]).sort();
  const n = SCORE_LAMBDA_GRID.length;
  // Linear bets at known shares.
  for (let i = 0; i < vals.length; i++) {
    const u = shares[i];
    if (!(u > 0)) continue;
    const lambdaCap = 0.99 / Math.max(u, 1 - u);
    const gd = (2 * midRank(ref, vals[i]) - 1) * ((canary[i] ? 1 : 0) - u);
    for (let j = 0; j < n; j++) c.logE[j] += Math.log(1 + Math.min(SCORE_LAMBDA_GRID[j], lambdaCap) * gd);
    c.bets++;
  }
  // The permutation bet on the scores without a known share.
  let nc = 0;
  let np = 0;
  const sumG = new Float64Array(n);
  const sumExp = new Float64Array(n);
  for (let i = 0; i < vals.length; i++) {
    if (shares[i] !== -1) continue;
    const g = 2 * midRank(ref, vals[i]) - 1;
    np++;
    if (canary[i]) nc++;
    for (let j = 0; j < n; j++) {
      if (canary[i]) sumG[j] += SCORE_LAMBDA_GRID[j] * g;
      sumExp[j] += Math.exp(SCORE_LAMBDA_GRID[j] * g);
    }
  }
  if (np > 0 && nc > 0 && nc < np) {
    for (let j = 0; j < n; j++) c.logE[j] += sumG[j] - nc * Math.log(sumExp[j] / np);
    c.bets += np;
  }
  // Each environment's rank scores for the design effect (unit `request`, environments `design-effect`): from values
  // and environments only; the version an environment serves is its key's prefix, so spread is taken within versions.
  if (unit === 'request' && (st.options.environments ?? 'ignore') === 'design-effect') {
    const env = c.env ?? {};
    let keys = Object.keys(env).length;
    for (let i = 0; i < vals.length; i++) {
      const e = obs[i].environment;
      if (shares[i] !== -1 || e === undefined) continue;
      // A hash of the log stream keeps the state small (a collision merges two environments: D only grows or shrinks by a hair).
      const key = `${canary[i] ? 'c' : 's'}:${hash32(e).toString(36)}`;
      let x = env[key];
      if (!x && keys < SCORE_ENV_CAP) {
        x = [0, 0, 0];
        env[key] = x;
        keys++;
      }
      if (!x) continue;
      const g = 2 * midRank(ref, vals[i]) - 1;
      x[0]++;
      x[1] += g;
      x[2] += g * g;
    }
    if (keys > 0) c.env = env;
  }
  // The pooled reservoir, from values only.
  for (const w of vals) {
    c.poolSeen++;
    if (c.pool.length < SCORE_POOL_CAP) c.pool.push(w);
    else {
      const j = Math.floor(nextRandom(st) * c.poolSeen);
      if (j < SCORE_POOL_CAP) c.pool[j] = w;
    }
  }
}

/**
 * Environments remembered per criterion (environments `design-effect`), about 20 bytes each in the state; scores of
 * environments beyond it are left out of the design effect (they are still bet on).
 */
const SCORE_ENV_CAP = 1_000;

/**
 * The design effect of a criterion's environment clusters (Kish 1965): D = 1 + (m − 1) ρ, m = Σ n_e² / Σ n_e the
 * size-weighted environment size over the release so far, ρ the intraclass correlation of the rank scores within a
 * version (one-way ANOVA of environments within versions, so a difference between the versions is not counted as
 * spread), floored at 0. 1 without environments.
 */
export function designEffect(env: Readonly<Record<string, readonly [number, number, number]>> | undefined): number {
  if (!env) return 1;
  let n = 0;
  let n2 = 0;
  let groups = 0;
  let ssw = 0;
  let ssb = 0;
  const arm = { c: [0, 0], s: [0, 0] };
  for (const [k, v] of Object.entries(env)) {
    const a = k.startsWith('c:') ? arm.c : arm.s;
    a[0] += v[0];
    a[1] += v[1];
  }
  const arms = (arm.c[0] > 0 ? 1 : 0) + (arm.s[0] > 0 ? 1 : 0);
  for (const [k, v] of Object.entries(env)) {
    const [m, sum, sq] = v;
    if (m === 0) continue;
    const a = k.startsWith('c:') ? arm.c : arm.s;
    groups++;
    n += m;
    n2 += m * m;
    ssw += sq - (sum * sum) / m;
    const d = sum / m - a[1] / a[0];
    ssb += m * d * d;
  }
  if (groups - arms < 1 || n - groups < 1) return 1;
  const msb = ssb / (groups - arms);
  const msw = ssw / (n - groups);
  const m0 = (n - n2 / n) / (groups - arms);
  const between = Math.max(0, (msb - msw) / Math.max(m0, 1));
  const rho = between + msw > 0 ? between / (between + msw) : 0;
  return 1 + Math.max(0, n2 / n - 1) * rho;
}

/** A criterion's log e-value: the mixture over λ, each component tempered by the design effect (environments). */
function criterionLogE(c: CriterionState): number {
  const d = designEffect(c.env);
  return d === 1 ? logMeanExp(c.logE) : logMeanExp(c.logE.map((x) => x / d));
}

export interface EvaluationEvidence {
  /** `evaluation:<criterion>` or `evaluation:paired`. */
  readonly metric: string;
  readonly eValue: number;
  readonly threshold: number;
  /** Scores: n scored answers and their mean score; paired: n untied pairs and the share won (canary) / lost (stable). */
  readonly canary: { readonly n: number; readonly value: number };
  readonly stable: { readonly n: number; readonly value: number };
  readonly test: 'concurrent';
  /** The judge's phase when the evidence was taken (paired outcomes are judged in both). */
  readonly phase: 'canary' | 'after-traffic';
  /** False while a criterion has fewer than minScores scores on an arm: it cannot roll back yet. */
  readonly judged: boolean;
  /** Paired only: ties, and pairs not counted because the remembered case ids were full. */
  readonly ties?: number;
  readonly overCap?: number;
}

export function evaluationEvidence(
  st: EvaluationState,
  th: { readonly paired: number; readonly criterion: number },
  phase: 'canary' | 'after-traffic' = 'canary',
): EvaluationEvidence[] {
  const minScores = st.options.minScores ?? DEFAULT_MIN_SCORES;
  const out: EvaluationEvidence[] = st.criteria.map((c) => ({
    metric: `evaluation:${c.criterion}`,
    eValue: cap(Math.exp(criterionLogE(c))),
    threshold: th.criterion,
    canary: { n: c.canaryN, value: c.canaryN > 0 ? c.canarySum / c.canaryN : 0 },
    stable: { n: c.stableN, value: c.stableN > 0 ? c.stableSum / c.stableN : 0 },
    test: 'concurrent' as const,
    phase,
    judged: c.canaryN >= minScores && c.stableN >= minScores,
  }));
  const p = st.paired;
  if (p) {
    const untied = p.stableWins + p.canaryWins;
    out.push({
      metric: 'evaluation:paired',
      eValue: cap(pairedEValue(p)),
      threshold: th.paired,
      canary: { n: untied, value: untied > 0 ? p.canaryWins / untied : 0 },
      stable: { n: untied, value: untied > 0 ? p.stableWins / untied : 0 },
      test: 'concurrent',
      phase,
      judged: true,
      ties: p.ties,
      ...(p.overCap ? { overCap: p.overCap } : {}),
    });
  }
  return out;
}

/** True when an evaluation metric showed a regression. */
export function evaluationFired(st: EvaluationState | undefined): boolean {
  return !!st && (st.pairedFired === true || st.criteria.some((c) => c.fired));
}

/** The metrics that showed a regression, for the record. */
export function evaluationFiredMetrics(st: EvaluationState | undefined): string[] {
  if (!st) return [];
  return [...st.criteria.filter((c) => c.fired).map((c) => `evaluation:${c.criterion}`), ...(st.pairedFired ? ['evaluation:paired'] : [])];
}

function cap(x: number): number {
  return Number.isFinite(x) ? x : Number.MAX_VALUE;
}

function nextRandom(st: EvaluationState): number {
  st.rng = (st.rng + 0x6d2b79f5) | 0;
  let t = st.rng;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
