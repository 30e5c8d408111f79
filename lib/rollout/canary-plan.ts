import { concurrentThreshold, DEFAULT_TOLERANCE, type JudgeMetric, type JudgeOptions, LAMBDA_GRID, newJudgeState, RATIO_GRID } from '../../lambda/judge/judge';
import type { JudgeTolerance } from '../../lambda/shared/contract';
import { PAIRED_GRID } from '../../lambda/judge/paired';
import { evaluationThresholds } from '../../lambda/judge/scores';
import { armSamplingRate } from '../../lambda/runtime/evaluation-sampler';

/**
 * The canary planner (issue 16 D): from the stated traffic, base rates and the smallest regressions the team must
 * catch, the traffic schedule whose JUDGED steps (the stable version still serving a share: a concurrent comparison)
 * give the canary judge the stated power before full rollout, within a time cap. Pure, closed form, cheap at synth.
 *
 * The approximation (checked against the real engine in test/canary-plan.test.ts and bench/canary-plan.ts): every
 * component j of the judge's mixture is, in log, c_j S − D_j with ONE statistic S shared by all components:
 * - counts: S = Σ over counted events of (canary? 1 : 0) − s, c_j = ln ρ_j (the tilt's log odds ratio, whatever the
 *   share), D_j = Σ −(s ln ρ_j + ln((1 − θ_j) / (1 − s)));
 * - values (the permutation bet per chunk, lambda/judge/judge.ts): S = Σ_canary (g − ḡ_chunk), c_j = λ_j,
 *   D_j = ln of the exact permutation moment ≈ λ_j² / 2 · Σ s(1 − s) v (v the scores' variance in a chunk).
 * So the mixture crosses its threshold T exactly when S crosses the boundary b solving mean_j exp(c_j b − D_j) = T,
 * a concave function of the information clock (a soft minimum of lines). S is a sum of independent increments whose
 * drift and variance per judged minute are computed per step (compound Poisson for counts: the number of events is
 * random too). Power = P(S crosses b by the end of the judged steps), for a Brownian motion with S's drift and
 * variance against the boundary's chord over the second half of the clock, raised by Siegmund's 0.583 σ for looks
 * once a minute (the judge looks at discrete times). This credits the whole mixture,
 * not its best component alone (the form before h5-margin, which leaned 2–8 points low on counts and, modelling the
 * linear bet at a known share, high on values).
 */

/** The smallest regressions the plan must catch, each with the stated power. */
export interface MinimumRegressions {
  /** Canary error rate ÷ stable error rate. 0 or undefined in a custom object: not planned for. @default 2 */
  readonly errorRatio?: number;
  /** Relative increase of the median latency (0.2 = +20 %). @default 0.2 */
  readonly p50Increase?: number;
  /** Drop of the mean quality score (absolute, on the 0..1 scale). @default 0.05 */
  readonly qualityDrop?: number;
  /**
   * The evaluation work (issue 17 D): the share of DECIDED paired comparisons (ties dropped) the canary loses, which
   * the judge's paired sign test must catch (0.6 = the canary's answer loses 60 % of decided pairs). Planned only
   * when the traffic has an `evaluation` (the release config has an evaluation section, paired on).
   * @default 0.6 (with an evaluation section; without one: not planned)
   */
  readonly pairedPreference?: number;
}

/** What the service's traffic looks like, as the planner models it. */
export interface PlanTraffic {
  readonly requestsPerSecond: number;
  /** Stable error rate. 0: errors are not planned for (a ratio of 0 is 0). @default 0.01 */
  readonly errorRate?: number;
  /** σ of log latency (a log-normal's spread; 0.5 puts p90 at 1.9 × p50). @default 0.5 */
  readonly latencyLogSigma?: number;
  /** Standard deviation of the quality score. @default 0.1 */
  readonly qualitySd?: number;
  /** Share of requests carrying a quality score (sampled evaluation). @default 1 */
  readonly qualityCoverage?: number;
  /**
   * Failing requests per failing input (a caller's retries of one input, or one conversation's failing turns): the
   * judge counts each cluster once (the runtime's case id), so the events it bets on are errorRate / meanClusterSize
   * per request, and the power is that of the smaller count (the design effect of clustered failures). 1: failures
   * are independent.
   * @default 1
   */
  readonly meanClusterSize?: number;
  /**
   * Requests per conversation on the config plane's assigned canary (`configCanary: 'assigned'`, callers sending a
   * conversation id): the conversation is the randomization unit, and the judge (lambda/judge/judge.ts, unit
   * `cluster`) bets on ONE observation per conversation — the value of its first request for latency and quality (a
   * quality bet only when that first request was scored), its first failure for counts. So the value tests see
   * requests / meanConversationTurns units, and a conversation fails when any of its turns does. 1: callers send no
   * conversation id (each request is its own unit, judged as on the code plane). The code plane ignores it.
   * @default DEFAULT_CONVERSATION_TURNS (4: an assumption, said so on the card; state it from the service's traffic)
   */
  readonly meanConversationTurns?: number;
  /**
   * The evaluation section, when the service's answers are evaluated and paired (the judge then has 7 metrics in its
   * Bonferroni family, and the paired preference is planned).
   * @default undefined (not evaluated: six metrics, no paired preference)
   */
  readonly evaluation?: PlanEvaluation;
}

/** How the evaluator's paired comparisons reach the judge, as the planner models them. */
export interface PlanEvaluation {
  /** The evaluation section's samplingRate (0..1]: steady-state scoring of both versions. */
  readonly samplingRate: number;
  /**
   * The release-time pairing rate (evaluation.paired.samplingRate): the share of the canary's answers compared with
   * the stable version's while a release runs. The canary's pairing rate is the larger of it and the canary's scoring
   * rate. @default the samplingRate (`paired: true`: only what scoring draws is paired)
   */
  readonly pairSamplingRate?: number;
  /**
   * The config canary's own pairing rate (evaluation.paired.configSamplingRate): the config plane's rows use it, the
   * code plane's keep `pairSamplingRate`. @default pairSamplingRate
   */
  readonly configPairSamplingRate?: number;
  /**
   * What a scored sample and a paired comparison cost and the release budget, so the plan's pairing rate is one the
   * budget pays for (lib/rollout/evaluation-cost.ts gives the first two). @default not priced: the plan ignores cost
   */
  readonly cost?: PlanEvaluationCost;
  /**
   * Share of paired comparisons that are decided (both orders prefer the same answer). An evaluator that picks the
   * first answer shown a share b of the time, whatever the answers, decides only 1 − b of the pairs (b = 0.7: 0.3).
   * @default 1 (an evaluator without position bias that never ties)
   */
  readonly decidedPairShare?: number;
  /**
   * The criteria the judge scores besides the paired test (they take half the evaluation share of α).
   * @default [] (the paired test takes the whole share)
   */
  readonly criteria?: readonly string[];
  /**
   * Seconds from a sample to the judge reading its window: the judge reads results of [a, b) once b is
   * EVALUATION_SETTLE_MS (120 s) + the 15 s ingestion lag old, so the last of these seconds before full rollout are
   * never judged before it. @default 135
   */
  readonly resultDelaySeconds?: number;
}

/** The prices the planner weighs a pairing rate with. */
export interface PlanEvaluationCost {
  /** USD of scoring one sample on every rubric. */
  readonly scoreUsd: number;
  /** USD of one paired comparison (two shadow answers, two preference calls). */
  readonly pairUsd: number;
  /** The section's budget.perReleaseUsd. */
  readonly perReleaseUsd: number;
}

/**
 * The conversation length the config plan assumes when none is stated: 4 requests per conversation (a short chat
 * session; the audit's "light conversations", bench/judge-config-plan.ts). Not 1: a plan that assumes every request is
 * its own unit claims up to 4× the value evidence the judge has on a conversational service (p50 +20 % planned at
 * 91.5 %, caught 14–20 %, h9-audit16); a service without conversation ids states 1 and gets the shorter plan.
 */
export const DEFAULT_CONVERSATION_TURNS = 4;

/** Pairing rates the planner tries when the stated one does not reach the paired preference's target. */
export const PLAN_SAMPLING_RATES: readonly number[] = [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1];

export interface CanaryPlanOptions {
  /** Power wanted for each minimum regression, before full rollout. @default 0.9 */
  readonly power?: number;
  /** Longest acceptable time from the first shift to 100 %, in minutes. @default 60 */
  readonly maxMinutes?: number;
  /**
   * Longest the assigned config canary's steps may be held, in minutes: what the config plane's time budget leaves
   * (AiRelease passes it: 50 minutes less the candidate stage, the config gate, a running deployment and the share
   * controller's looks, promotion and client lag; a longer schedule is refused at synth). @default maxMinutes
   */
  readonly configMaxMinutes?: number;
  /** The largest first step (the safety step: blast radius of a bad release before the judge has evidence). @default 10 */
  readonly maxFirstStepPercent?: number;
  /** @default DEFAULT_MIN_REGRESSIONS */
  readonly minRegressions?: MinimumRegressions;
  /**
   * The judge's α and metric list (they set the threshold) and its value tolerance (a regression is caught on what
   * exceeds it: p50 +20 % against a 10 % tolerance is tested as ln 1.2 − ln 1.1).
   * @default the judge's defaults (0.01, six metrics); tolerance: `planTolerance(minRegressions)` (half of each)
   */
  readonly judge?: Partial<Pick<JudgeOptions, 'alpha' | 'metrics' | 'tolerance'>>;
}

/**
 * The judge's value tolerance a plan implies: half of each minimum regression (p50Increase → latency, qualityDrop →
 * quality), so differences far below what the team must catch cannot roll back while the minimum regression keeps
 * half its effect; a regression not planned for keeps the engine's default. Cost keeps the engine's default.
 */
export function planTolerance(min: MinimumRegressions = DEFAULT_MIN_REGRESSIONS): Required<JudgeTolerance> {
  return {
    latencyMs: min.p50Increase && min.p50Increase > 0 ? min.p50Increase / 2 : DEFAULT_TOLERANCE.latencyMs,
    costUsd: DEFAULT_TOLERANCE.costUsd,
    quality: min.qualityDrop && min.qualityDrop > 0 ? min.qualityDrop / 2 : DEFAULT_TOLERANCE.quality,
  };
}

export const DEFAULT_MIN_REGRESSIONS: Required<MinimumRegressions> = { errorRatio: 2, p50Increase: 0.2, qualityDrop: 0.05, pairedPreference: 0.6 };

/** A traffic step: `share` of requests on the new version for `minutes`. The last step (100 %) is not listed. */
export interface PlanStep {
  readonly share: number;
  readonly minutes: number;
}

export interface RegressionPower {
  readonly regression: 'errorRatio' | 'p50Increase' | 'qualityDrop' | 'pairedPreference';
  /** e.g. `errors x2`. */
  readonly describe: string;
  readonly power: number;
  /** Expected log e-value of the best grid component by full rollout, and the log threshold it must reach. */
  readonly expectedLogE: number;
  readonly logThreshold: number;
}

export interface SchedulePower {
  readonly steps: readonly PlanStep[];
  readonly judgedMinutes: number;
  readonly totalMinutes: number;
  readonly byRegression: readonly RegressionPower[];
  /** The smallest of the regressions' powers. */
  readonly power: number;
}

export interface CodePlan extends SchedulePower {
  readonly kind: 'canary' | 'linear';
  readonly percent: number;
  readonly intervalMinutes: number;
  /** The exact call: `TrafficShift.linear(10, Duration.minutes(3))`. */
  readonly call: string;
}

export interface CanaryPlan {
  readonly target: number;
  readonly maxMinutes: number;
  /** The config plan's cap: maxMinutes, or less when the config plane's budget holds less (CanaryPlanOptions.configMaxMinutes). */
  readonly configMaxMinutes: number;
  /** Code plane: the fastest TimeBasedCanary / TimeBasedLinear config reaching the target, or the most powerful within the cap. */
  readonly code: CodePlan;
  readonly codeReaches: boolean;
  /** Config plane (per-conversation share, any step list): a safety step, then a balanced step. */
  readonly config: SchedulePower;
  readonly configReaches: boolean;
  /** The paired preference planned for (present when the traffic has an evaluation). */
  readonly pairedPreference?: number;
  /** The evaluation as planned (present when the traffic has an evaluation). */
  readonly evaluation?: EvaluationPlan;
}

export interface EvaluationPlan {
  /** The stated scoring and pairing rates, and the share of decided pairs and result delay assumed. */
  readonly samplingRate: number;
  readonly pairSamplingRate: number;
  /** The config plane's stated pairing rate (evaluation.paired.configSamplingRate, else pairSamplingRate). */
  readonly configPairSamplingRate: number;
  readonly decidedPairShare: number;
  readonly resultDelaySeconds: number;
  /** The paired test's threshold (e-value): α / 7 of the family, halved when criteria are scored too. */
  readonly pairedThreshold: number;
  /**
   * The smallest pairing rate per plane (the stated one, or the first of PLAN_SAMPLING_RATES above it; the scoring
   * rate stays the stated one) at which the planned code schedule (`pairSamplingRate`) and the planned config schedule
   * (`configPairSamplingRate`; planned against every minimum regression, as `code` and `config`) give the paired
   * preference the target power, each preferring one whose expected release cost (`cost`) is within
   * budget.perReleaseUsd (the budget is per release, whichever plane released); absent: no pairing rate up to 1
   * reaches it on one of the planes within the cap.
   */
  readonly reaching?: PairedReach;
}

export interface PairedReach {
  /** The code plane's pairing rate (paired.samplingRate) and the config plane's (paired.configSamplingRate). */
  readonly pairSamplingRate: number;
  readonly configPairSamplingRate: number;
  readonly code: CodePlan;
  readonly config: SchedulePower;
  /** Expected scoring and pair spend of one release on each planned schedule (present when `cost` was given). */
  readonly cost?: { readonly code: ReleaseSpend; readonly config: ReleaseSpend; readonly perReleaseUsd: number; readonly withinBudget: boolean };
}

/** What one release on a schedule is expected to draw and spend. */
export interface ReleaseSpend {
  readonly samples: number;
  readonly pairs: number;
  readonly scoringUsd: number;
  readonly pairsUsd: number;
  readonly totalUsd: number;
}

/**
 * The canary's pairing rate at share s: the larger of the pairing rate and the canary's scoring rate (code plane: the
 * base rate, the runtime does not know its share; config plane: oversampled, armSamplingRate).
 */
export function canaryPairRate(samplingRate: number, pairSamplingRate: number, share: number, plane: Plane): number {
  const scoring = plane === 'config' ? armSamplingRate(samplingRate, 'canary', share) : samplingRate;
  return Math.max(scoring, pairSamplingRate);
}

/**
 * Samples scored and pairs compared over a release's schedule (until 100 %): scoring draws the base rate of all
 * requests (the config plane's oversampling keeps the total), pairs the canary's share at its pairing rate. Pure.
 */
export function releaseDraws(
  steps: readonly PlanStep[],
  requestsPerSecond: number,
  samplingRate: number,
  pairSamplingRate: number,
  plane: Plane,
  prices?: Pick<PlanEvaluationCost, 'scoreUsd' | 'pairUsd'>,
): ReleaseSpend {
  let samples = 0;
  let pairs = 0;
  for (const st of steps) {
    const requests = 60 * requestsPerSecond * st.minutes;
    samples += requests * samplingRate;
    if (st.share > 0 && st.share < 1) pairs += requests * st.share * canaryPairRate(samplingRate, pairSamplingRate, st.share, plane);
  }
  const scoringUsd = samples * (prices?.scoreUsd ?? 0);
  const pairsUsd = pairs * (prices?.pairUsd ?? 0);
  return { samples, pairs, scoringUsd, pairsUsd, totalUsd: scoringUsd + pairsUsd };
}

/**
 * The engine constants the closed form depends on: one function, so the planner can be pointed at a reworked engine.
 */
export function engineModel(
  judge?: Partial<Pick<JudgeOptions, 'alpha' | 'metrics' | 'tolerance'>>,
  evaluation?: PlanEvaluation,
): {
  /** ln of the concurrent test's threshold for `metric` (the error metric splits its share with the gross rule). */
  readonly logThreshold: (metric: JudgeMetric) => number;
  /** ln of the paired test's threshold (evaluation metrics in the family); +∞ without evaluation. */
  readonly logPairedThreshold: number;
  readonly ratioGrid: readonly number[];
  readonly lambdaGrid: readonly number[];
} {
  const options = newJudgeState({
    ...(judge?.alpha !== undefined ? { alpha: judge.alpha } : {}),
    ...(judge?.metrics ? { metrics: judge.metrics } : {}),
    ...(evaluation ? { evaluation: { criteria: [...(evaluation.criteria ?? [])], paired: true } } : {}),
  }).options;
  const paired = options.evaluation ? evaluationThresholds(options.evaluation, options.alpha / (options.metrics.length + 1)).paired : Number.POSITIVE_INFINITY;
  return {
    logThreshold: (m) => Math.log(concurrentThreshold(options, m)),
    logPairedThreshold: Math.log(paired),
    ratioGrid: RATIO_GRID,
    lambdaGrid: LAMBDA_GRID,
  };
}

/** Standard normal cdf (Zelen & Severo 26.2.17, |error| < 7.5e-8). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const d = 0.3989422804014327 * Math.exp((-x * x) / 2);
  const p = d * t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  return x >= 0 ? 1 - p : p;
}

const QUAD_N = 161;

/** Requests per chunk of the engine's permutation bet (lambda/judge/judge.ts PERM_CHUNK). */
const PERM_CHUNK = 64;

/** Trapezoid quadrature over the standard normal on [−7, 7] in QUAD_N points: calls `visit(z, weight)` at each. */
function standardNormalQuadrature(visit: (z: number, w: number) => void): void {
  const h = 14 / (QUAD_N - 1);
  for (let i = 0; i < QUAD_N; i++) {
    const z = -7 + i * h;
    visit(z, (h * Math.exp((-z * z) / 2)) / Math.sqrt(2 * Math.PI) / (i === 0 || i === QUAD_N - 1 ? 2 : 1));
  }
}

/**
 * The value test's statistic per request at share s, the canary's (oriented, moved by the tolerance) values shifted
 * by `d` standard deviations of a normal: S's drift and variance per request, and v, the scores' variance within a
 * chunk (D_j per request = λ_j² s (1 − s) v / 2). Scores g = 2F(x) − 1 against the pooled reference; the drift does
 * not depend on the reference's mix (2Φ(d/√2) − 1 per unit of s(1 − s)).
 */
export function valueStatistic(s: number, d: number): { drift: number; variance: number; v: number } {
  const ref = (x: number) => 2 * ((1 - s) * normalCdf(x) + s * normalCdf(x - d)) - 1;
  let mS = 0;
  let qS = 0;
  let mC = 0;
  let qC = 0;
  standardNormalQuadrature((z, w) => {
    const gS = ref(z);
    const gC = ref(z + d);
    mS += w * gS;
    qS += w * gS * gS;
    mC += w * gC;
    qC += w * gC * gC;
  });
  const vS = qS - mS * mS;
  const vC = qC - mC * mC;
  const mean = (1 - s) * mS + s * mC;
  const v = (1 - s) * qS + s * qC - mean * mean;
  const f = (PERM_CHUNK - 1) / PERM_CHUNK;
  return { drift: s * (1 - s) * (mC - mS) * f, variance: s * (1 - s) * ((1 - s) * vC + s * vS), v };
}

/**
 * The value test's statistic per CONVERSATION on the assigned config plane (the judge's unit `cluster`): one value
 * per conversation (its first request's), bet on with the linear bet 1 + λ g (c − u) at the share u the conversation
 * was assigned with (lambda/judge/judge.ts `updateValue`, observations with their own share; λ capped at
 * 0.99 / max(u, 1 − u)). With x = g (c − u), S = Σ x and each component's log wealth is λ_j S − D_j, D_j per unit =
 * λ_j E x − E ln(1 + λ_j x), computed here exactly by quadrature over the canary's and the stable version's scores
 * (the same normal model as `valueStatistic`). Per unit: S's drift and variance, and each D_j.
 */
export function conversationValueStatistic(u: number, d: number, lambdas: readonly number[]): { drift: number; variance: number; d: number[] } {
  const ref = (x: number) => 2 * ((1 - u) * normalCdf(x) + u * normalCdf(x - d)) - 1;
  const cap = 0.99 / Math.max(u, 1 - u);
  const ls = lambdas.map((l) => Math.min(l, cap));
  let mS = 0;
  let qS = 0;
  let mC = 0;
  let qC = 0;
  const logC = ls.map(() => 0);
  const logS = ls.map(() => 0);
  standardNormalQuadrature((z, w) => {
    const gS = ref(z);
    const gC = ref(z + d);
    mS += w * gS;
    qS += w * gS * gS;
    mC += w * gC;
    qC += w * gC * gC;
    for (let j = 0; j < ls.length; j++) {
      logC[j] += w * Math.log(1 + ls[j] * (1 - u) * gC);
      logS[j] += w * Math.log(1 - ls[j] * u * gS);
    }
  });
  const drift = u * (1 - u) * (mC - mS);
  const second = u * (1 - u) ** 2 * qC + (1 - u) * u * u * qS;
  return {
    drift,
    variance: second - drift * drift,
    d: ls.map((l, j) => l * drift - (u * logC[j] + (1 - u) * logS[j])),
  };
}

interface Increments {
  /** Per judged minute at this share: S's drift and variance, and each component's D_j. */
  readonly drift: number;
  readonly variance: number;
  readonly d: readonly number[];
}

interface Regression {
  readonly key: RegressionPower['regression'];
  readonly describe: string;
  /** c_j: each component's coefficient on S. */
  readonly coefs: readonly number[];
  perMinute(s: number): Increments;
  readonly logThreshold: number;
  /** Minutes at the end of the schedule whose evidence the judge reads only after full rollout. @default 0 */
  readonly delayMinutes?: number;
}

/**
 * Which plane a schedule is for: code (CodeDeploy weights; the runtime samples both versions at the base rate) or
 * config (the assigned share; the runtime oversamples the canary).
 */
export type Plane = 'code' | 'config';

function regressions(
  t: PlanTraffic,
  min: MinimumRegressions,
  model: ReturnType<typeof engineModel>,
  given?: JudgeTolerance,
  plane: Plane = 'code',
): Regression[] {
  const tol = { ...planTolerance(min), ...given };
  const rps = t.requestsPerSecond;
  const p = t.errorRate ?? 0.01;
  // The assigned config plane with conversations: one unit per conversation (see PlanTraffic.meanConversationTurns).
  const turns = plane === 'config' ? (t.meanConversationTurns ?? DEFAULT_CONVERSATION_TURNS) : 1;
  const out: Regression[] = [];
  const cache = new Map<string, Increments>();
  const memo = (key: string, f: () => Increments) => {
    let v = cache.get(key);
    if (!v) {
      v = f();
      cache.set(key, v);
    }
    return v;
  };
  // A base error rate of 0: a ratio of it is 0 too, so there is nothing to plan for (the gross error alarms catch any errors).
  if (min.errorRatio && min.errorRatio > 1 && p > 0) {
    const rho = min.errorRatio;
    out.push({
      key: 'errorRatio',
      describe: `errors x${rho}`,
      coefs: model.ratioGrid.map((r) => Math.log(r)),
      logThreshold: model.logThreshold('error'),
      perMinute: (s) =>
        memo(`e${s}`, () => {
          // Counted events: clusters, not requests (the engine folds a cluster's later failures). Per conversation
          // (turns > 1): a conversation counts once, when any of its turns' failing inputs fails (1 − (1 − q)^turns),
          // so the ratio the judge sees is below the per-request one (errors x3 at 1 %, 8 turns: 2.8).
          const k = t.meanClusterSize ?? 1;
          const fail = (q: number) => (turns > 1 ? 1 - (1 - Math.min(1, q) / k) ** turns : q / k);
          const units = (60 * rps) / turns;
          const events = units * (s * fail(p * rho) + (1 - s) * fail(p));
          const theta = (s * fail(p * rho)) / (s * fail(p * rho) + (1 - s) * fail(p));
          return {
            drift: events * (theta - s),
            variance: events * theta * (1 - theta),
            d: model.ratioGrid.map((r) => {
              const tj = (r * s) / (r * s + 1 - s);
              return -events * (s * Math.log(r) + Math.log((1 - tj) / (1 - s)));
            }),
          };
        }),
    });
  }
  const values = (key: 'p50Increase' | 'qualityDrop', describe: string, d: number, perMinuteN: number) =>
    out.push({
      key,
      describe,
      coefs: model.lambdaGrid,
      logThreshold: model.logThreshold(key === 'p50Increase' ? 'latencyMs' : 'quality'),
      perMinute: (s) =>
        memo(`${key}${s}`, () => {
          if (turns > 1) {
            // One linear bet per conversation, on its first request's value (a quality bet only when it was scored).
            const c = conversationValueStatistic(s, d, model.lambdaGrid);
            const units = perMinuteN / turns;
            return { drift: units * c.drift, variance: units * c.variance, d: c.d.map((x) => units * x) };
          }
          const st = valueStatistic(s, d);
          return {
            drift: perMinuteN * st.drift,
            variance: perMinuteN * st.variance,
            d: model.lambdaGrid.map((l) => (perMinuteN * l * l * s * (1 - s) * st.v) / 2),
          };
        }),
    });
  if (min.p50Increase && min.p50Increase > 0)
    values(
      'p50Increase',
      `p50 +${Math.round(min.p50Increase * 100)} %`,
      (Math.log(1 + min.p50Increase) - Math.log(1 + tol.latencyMs)) / (t.latencyLogSigma ?? 0.5),
      60 * rps,
    );
  if (min.qualityDrop && min.qualityDrop > 0)
    values('qualityDrop', `quality -${min.qualityDrop}`, (min.qualityDrop - tol.quality) / (t.qualitySd ?? 0.1), 60 * rps * (t.qualityCoverage ?? 1));
  if (t.evaluation && min.pairedPreference !== 0)
    out.push(pairedRegression(t, t.evaluation, min.pairedPreference ?? DEFAULT_MIN_REGRESSIONS.pairedPreference, model, plane));
  return out;
}

/**
 * The judge reads evaluation results at most once a minute (EVALUATION_MIN_WINDOW_MS) in whole windows: a sample
 * waits half of that on average beyond the settle time before it is judged.
 */
const READ_CADENCE_SECONDS = 60;

/**
 * The paired sign test (lambda/judge/paired.ts) in the same form: with L stable wins among n decided pairs, each grid
 * component's log wealth is L ln 2θ_j + (n − L) ln 2(1 − θ_j) = c_j S − D_j with S = L − n/2, c_j = logit θ_j and
 * D_j = −(n/2) ln 4θ_j(1 − θ_j). Decided pairs per judged minute at share s: requests × s × the canary's sampling rate
 * (code plane: the base rate, the runtime does not know its share; config plane: oversampled, armSamplingRate) ×
 * the decided share; each is a stable win with probability `preference`.
 */
function pairedRegression(t: PlanTraffic, e: PlanEvaluation, preference: number, model: ReturnType<typeof engineModel>, plane: Plane): Regression {
  const decided = e.decidedPairShare ?? 1;
  const cache = new Map<number, Increments>();
  return {
    key: 'pairedPreference',
    describe: `loses ${Math.round(preference * 100)} % of pairs`,
    coefs: PAIRED_GRID.map((th) => Math.log(th / (1 - th))),
    logThreshold: model.logPairedThreshold,
    delayMinutes: ((e.resultDelaySeconds ?? 135) + READ_CADENCE_SECONDS / 2) / 60,
    perMinute: (s) => {
      let v = cache.get(s);
      if (!v) {
        const stated = e.pairSamplingRate ?? e.samplingRate;
        const rate = canaryPairRate(e.samplingRate, plane === 'config' ? (e.configPairSamplingRate ?? stated) : stated, s, plane);
        const n = 60 * t.requestsPerSecond * s * rate * decided;
        v = {
          drift: n * (preference - 0.5),
          variance: n * preference * (1 - preference),
          d: PAIRED_GRID.map((th) => (-n / 2) * Math.log(4 * th * (1 - th))),
        };
        cache.set(s, v);
      }
      return v;
    },
  };
}

function validate(t: PlanTraffic, o: CanaryPlanOptions): void {
  if (!(Number.isFinite(t.requestsPerSecond) && t.requestsPerSecond > 0))
    throw new Error(`canary plan requestsPerSecond must be a positive number, got ${t.requestsPerSecond}; state expectedRequestsPerSecond`);
  const e = t.errorRate ?? 0.01;
  if (!(e >= 0 && e < 1)) throw new Error(`canary plan errorRate must be from 0 to below 1, got ${e}; e.g. 0.01 for 1 % of requests failing`);
  const k = t.meanClusterSize ?? 1;
  if (!(Number.isFinite(k) && k >= 1))
    throw new Error(`canaryPlan.meanClusterSize must be a number of at least 1 (failing requests per failing input), got ${k}; 1 means independent failures`);
  const pw = o.power ?? 0.9;
  if (!(pw > 0 && pw < 1)) throw new Error(`canaryPlan.power must be in (0, 1), got ${pw}; 0.9 = catch 90 % of the minimum regressions`);
  const cap = o.maxMinutes ?? 60;
  if (!(Number.isInteger(cap) && cap >= 2)) throw new Error(`canaryPlan.maxMinutes must be a whole number of minutes of at least 2, got ${cap}`);
  const first = o.maxFirstStepPercent ?? 10;
  if (!(Number.isInteger(first) && first >= 1 && first <= 50))
    throw new Error(`canaryPlan.maxFirstStepPercent must be a whole number from 1 to 50, got ${first}`);
  const pp = o.minRegressions?.pairedPreference;
  if (pp !== undefined && pp !== 0 && !(pp > 0.5 && pp < 1))
    throw new Error(
      `canaryPlan.minRegressions.pairedPreference must be in (0.5, 1) (the share of decided pairs the canary loses: 0.6 = 60 %), got ${pp}; 0 turns it off`,
    );
  const turns = t.meanConversationTurns ?? DEFAULT_CONVERSATION_TURNS;
  if (!(Number.isFinite(turns) && turns >= 1))
    throw new Error(
      `canaryPlan.meanConversationTurns must be a number of at least 1 (requests per conversation), got ${turns}; 1 when callers send no conversation id`,
    );
  const ev = t.evaluation;
  if (ev) {
    if (!(ev.samplingRate > 0 && ev.samplingRate <= 1))
      throw new Error(`canary plan evaluation.samplingRate must be in (0, 1], got ${ev.samplingRate}; the evaluation section's samplingRate`);
    const dd = ev.decidedPairShare ?? 1;
    if (!(dd > 0 && dd <= 1))
      throw new Error(
        `canaryPlan.decidedPairShare must be in (0, 1] (the share of paired comparisons both orders decide alike), got ${dd}; an evaluator picking the first answer 70 % of the time decides 0.3`,
      );
    const delay = ev.resultDelaySeconds ?? 135;
    if (!(Number.isFinite(delay) && delay >= 0)) throw new Error(`canary plan evaluation.resultDelaySeconds must be a number of at least 0, got ${delay}`);
    const pr = ev.pairSamplingRate;
    if (pr !== undefined && !(pr >= 0 && pr <= 1))
      throw new Error(`canary plan evaluation.pairSamplingRate must be in [0, 1], got ${pr}; the evaluation section's paired.samplingRate`);
    const cr = ev.configPairSamplingRate;
    if (cr !== undefined && !(cr >= 0 && cr <= 1))
      throw new Error(`canary plan evaluation.configPairSamplingRate must be in [0, 1], got ${cr}; the evaluation section's paired.configSamplingRate`);
    const c = ev.cost;
    if (c)
      for (const [k, v] of Object.entries(c))
        if (!(Number.isFinite(v) && v >= 0)) throw new Error(`canary plan evaluation.cost.${k} must be a number of at least 0 (USD), got ${v}`);
  }
}

/** The power of a schedule's judged steps (share < 1) against each minimum regression. */
export function schedulePower(steps: readonly PlanStep[], traffic: PlanTraffic, options: CanaryPlanOptions = {}, plane: Plane = 'code'): SchedulePower {
  validate(traffic, options);
  const model = engineModel(options.judge, traffic.evaluation);
  return powerOf(steps, regressions(traffic, options.minRegressions ?? DEFAULT_MIN_REGRESSIONS, model, options.judge?.tolerance, plane));
}

/** The steps whose evidence the judge has read by the end of the schedule: the last `delay` minutes cut off. */
function readBy(steps: readonly PlanStep[], delay: number): PlanStep[] {
  if (!(delay > 0)) return [...steps];
  let left = steps.reduce((a, x) => a + x.minutes, 0) - delay;
  const out: PlanStep[] = [];
  for (const x of steps) {
    if (left <= 0) break;
    out.push({ share: x.share, minutes: Math.min(x.minutes, left) });
    left -= x.minutes;
  }
  return out;
}

function powerOf(steps: readonly PlanStep[], regs: readonly Regression[]): SchedulePower {
  const judgedOf = (xs: readonly PlanStep[]) => xs.filter((x) => x.share > 0 && x.share < 1 && x.minutes > 0);
  const all = judgedOf(steps);
  const byRegression = regs.map((r) => {
    const judged = r.delayMinutes ? judgedOf(readBy(steps, r.delayMinutes)) : all;
    const looks = judged.reduce((a, x) => a + x.minutes, 0);
    let drift = 0;
    let variance = 0;
    const d = r.coefs.map(() => 0);
    for (const st of judged) {
      const inc = r.perMinute(st.share);
      drift += st.minutes * inc.drift;
      variance += st.minutes * inc.variance;
      for (let j = 0; j < d.length; j++) d[j] += st.minutes * inc.d[j];
    }
    const best = Math.max(...r.coefs.map((c, j) => c * drift - d[j]));
    const power = mixturePower(r.coefs, d, drift, variance, r.logThreshold, looks);
    return { regression: r.key, describe: r.describe, power, expectedLogE: best - Math.log(r.coefs.length), logThreshold: r.logThreshold };
  });
  return {
    steps: [...steps],
    judgedMinutes: all.reduce((a, x) => a + x.minutes, 0),
    totalMinutes: steps.reduce((a, x) => a + x.minutes, 0),
    byRegression,
    power: byRegression.length > 0 ? Math.min(...byRegression.map((b) => b.power)) : 1,
  };
}

/** Siegmund's correction for a Brownian boundary looked at in discrete steps: the boundary moves up by this × σ per look. */
const SIEGMUND = 0.5826;

/**
 * P(the mixture mean_j exp(c_j S − D_j) reaches e^logT by the end): S a Brownian motion with total drift `drift` and
 * variance `variance`, the D_j growing in proportion to the clock, `looks` evenly spaced looks.
 */
export function mixturePower(coefs: readonly number[], d: readonly number[], drift: number, variance: number, logT: number, looks: number): number {
  if (!(variance > 0) || looks <= 0) return 0;
  // The boundary at a share f of the clock: the S at which the mixture equals T. ln mean_j exp(c_j b − f D_j) is convex
  // and increasing in b; it is ≥ ln T at every b_j = (ln T + ln K + f D_j) / c_j (one component alone is ≥ T/K there),
  // so Newton's method from the smallest b_j converges from above, monotonically.
  const k = coefs.length;
  const boundary = (f: number) => {
    let b = Number.POSITIVE_INFINITY;
    for (let j = 0; j < k; j++) b = Math.min(b, (logT + Math.log(k) + f * d[j]) / coefs[j]);
    for (let it = 0; it < 50; it++) {
      let m = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < k; j++) m = Math.max(m, coefs[j] * b - f * d[j]);
      let sum = 0;
      let slopeSum = 0;
      for (let j = 0; j < k; j++) {
        const e = Math.exp(coefs[j] * b - f * d[j] - m);
        sum += e;
        slopeSum += coefs[j] * e;
      }
      const excess = m + Math.log(sum / k) - logT;
      const step = excess / (slopeSum / sum);
      b -= step;
      if (Math.abs(step) < 1e-9 * (1 + Math.abs(b))) break;
    }
    return b;
  };
  const b1 = boundary(1);
  // The chord of the concave boundary over the second half of the clock (where a crossing that decides the power
  // mostly happens): below the boundary between half time and the end, above it before. (The tangent at the end,
  // everywhere above it, leaned up to 4.4 points low against 1,000 seeds; bench/RESULTS.md, h5-margin.)
  const slope = (b1 - boundary(0.5)) / (0.5 * variance);
  const level = b1 - slope * variance + SIEGMUND * Math.sqrt(variance / looks);
  return level <= 0 ? 1 : crossing(drift - slope * variance, variance, level);
}

/**
 * P(a Brownian motion with total drift `mean` and total variance `variance` crosses `b` by the end): the judge looks
 * every minute and stops at the first crossing, so the sup counts, not the final value (reflection principle).
 */
export function crossing(mean: number, variance: number, b: number): number {
  if (!(variance > 0)) return mean >= b ? 1 : 0;
  const sd = Math.sqrt(variance);
  const tail = (2 * mean * b) / variance;
  const second = tail > 700 ? 0 : Math.exp(tail) * normalCdf((-b - mean) / sd);
  return Math.min(1, normalCdf((mean - b) / sd) + (Number.isFinite(second) ? second : 0));
}

/** The judged steps of a CodeDeploy TimeBasedCanary / TimeBasedLinear config. */
export function codeSteps(kind: 'canary' | 'linear', percent: number, intervalMinutes: number): PlanStep[] {
  if (kind === 'canary') return [{ share: percent / 100, minutes: intervalMinutes }];
  const out: PlanStep[] = [];
  for (let p = percent; p < 100; p += percent) out.push({ share: p / 100, minutes: intervalMinutes });
  return out;
}

const LINEAR_PERCENTS = [5, 10, 20, 25, 50];
const CANARY_PERCENTS = [1, 2, 5, 10, 15, 20, 25, 30, 40, 50];

/** Plans both planes. */
export function planCanary(traffic: PlanTraffic, options: CanaryPlanOptions = {}): CanaryPlan {
  validate(traffic, options);
  const target = options.power ?? 0.9;
  const cap = options.maxMinutes ?? 60;
  const min = options.minRegressions ?? DEFAULT_MIN_REGRESSIONS;
  const model = engineModel(options.judge, traffic.evaluation);
  const at = planAt(traffic, options, model);
  const ev = traffic.evaluation;
  const paired = ev && min.pairedPreference !== 0 ? (min.pairedPreference ?? DEFAULT_MIN_REGRESSIONS.pairedPreference) : undefined;
  let evaluation: EvaluationPlan | undefined;
  if (ev && paired !== undefined) {
    // Per plane, the smallest pairing rate (the stated one first; the scoring rate stays) at which its plan reaches the
    // target, preferring the first whose expected release spend is within the release budget (one budget per
    // release, whichever plane released).
    const stated = Math.max(ev.pairSamplingRate ?? ev.samplingRate, ev.samplingRate);
    const statedConfig = Math.max(ev.configPairSamplingRate ?? stated, ev.samplingRate);
    const c = ev.cost;
    const pairedPower = (x: SchedulePower) => x.byRegression.find((q) => q.regression === 'pairedPreference')?.power ?? 0;
    const search = <T extends SchedulePower>(plane: Plane, from: number) => {
      let first: { rate: number; plan: T; spend: ReleaseSpend } | undefined;
      for (const rate of [from, ...PLAN_SAMPLING_RATES.filter((r) => r > from)]) {
        // The plan at the stated rates serves the plane whose stated rate this is.
        const p =
          rate === (plane === 'code' ? stated : statedConfig)
            ? at
            : planAt({ ...traffic, evaluation: { ...ev, pairSamplingRate: rate, configPairSamplingRate: rate } }, options, model);
        const x = (plane === 'code' ? p.code : p.config) as T;
        if (!(pairedPower(x) >= target)) continue;
        const found = { rate, plan: x, spend: releaseDraws(x.steps, traffic.requestsPerSecond, ev.samplingRate, rate, plane, c) };
        first ??= found;
        if (!c || found.spend.totalUsd <= c.perReleaseUsd) return found;
      }
      return first;
    };
    const code = search<CodePlan>('code', stated);
    const config = search<SchedulePower>('config', statedConfig);
    const reaching: PairedReach | undefined =
      code && config
        ? {
            pairSamplingRate: code.rate,
            configPairSamplingRate: config.rate,
            code: code.plan,
            config: config.plan,
            ...(c
              ? {
                  cost: {
                    code: code.spend,
                    config: config.spend,
                    perReleaseUsd: c.perReleaseUsd,
                    withinBudget: Math.max(code.spend.totalUsd, config.spend.totalUsd) <= c.perReleaseUsd,
                  },
                }
              : {}),
          }
        : undefined;
    evaluation = {
      samplingRate: ev.samplingRate,
      pairSamplingRate: stated,
      configPairSamplingRate: statedConfig,
      decidedPairShare: ev.decidedPairShare ?? 1,
      resultDelaySeconds: ev.resultDelaySeconds ?? 135,
      pairedThreshold: Math.exp(model.logPairedThreshold),
      ...(reaching ? { reaching } : {}),
    };
  }
  const stated = paired ?? options.minRegressions?.pairedPreference;
  return {
    target,
    maxMinutes: cap,
    configMaxMinutes: configCap(options),
    code: at.code,
    codeReaches: at.code.power >= target,
    config: at.config,
    configReaches: at.config.power >= target,
    ...(stated !== undefined && stated !== 0 ? { pairedPreference: stated } : {}),
    ...(evaluation ? { evaluation } : {}),
  };
}

/** The config plan's cap in minutes: maxMinutes, or configMaxMinutes when smaller. */
function configCap(options: CanaryPlanOptions): number {
  const cap = options.maxMinutes ?? 60;
  const c = options.configMaxMinutes;
  if (c === undefined) return cap;
  if (!(Number.isInteger(c) && c >= 2))
    throw new Error(`canaryPlan configMaxMinutes must be a whole number of minutes of at least 2 (what the config plane's budget holds), got ${c}`);
  return Math.min(cap, c);
}

/** Both planes' plans at one traffic (one sampling rate). */
function planAt(traffic: PlanTraffic, options: CanaryPlanOptions, model: ReturnType<typeof engineModel>): { code: CodePlan; config: SchedulePower } {
  const target = options.power ?? 0.9;
  const cap = options.maxMinutes ?? 60;
  const maxFirst = options.maxFirstStepPercent ?? 10;
  const min = options.minRegressions ?? DEFAULT_MIN_REGRESSIONS;
  const regs = regressions(traffic, min, model, options.judge?.tolerance, 'code');
  // Code plane: every CodeDeploy canary/linear config within the cap and first-step limit; the fastest that reaches
  // the target (ties: the smaller first step), else the most powerful.
  const candidates: CodePlan[] = [];
  for (const kind of ['linear', 'canary'] as const)
    for (const pct of kind === 'canary' ? CANARY_PERCENTS : LINEAR_PERCENTS) {
      if (pct > maxFirst) continue;
      const stepsCount = kind === 'canary' ? 1 : Math.ceil(100 / pct) - 1;
      for (let t = 1; t * stepsCount <= cap; t++) {
        const p = powerOf(codeSteps(kind, pct, t), regs);
        candidates.push({ ...p, kind, percent: pct, intervalMinutes: t, call: `TrafficShift.${kind}(${pct}, Duration.minutes(${t}))` });
      }
    }
  const reaching = candidates.filter((c) => c.power >= target).sort((a, b) => a.totalMinutes - b.totalMinutes || a.percent - b.percent);
  const code = reaching[0] ?? [...candidates].sort((a, b) => b.power - a.power || a.totalMinutes - b.totalMinutes)[0];
  // Config plane (assigned share, the canary oversampled): a safety step at the first-step limit for min(5, cap/4)
  // minutes, then 50 % for the fewest minutes that reach the target, within the config plane's own cap (a schedule
  // its time budget cannot hold would be refused at synth, so it is never recommended).
  const configRegs = regressions(traffic, min, model, options.judge?.tolerance, 'config');
  const ccap = configCap(options);
  const safety: PlanStep = { share: maxFirst / 100, minutes: Math.max(1, Math.min(5, Math.floor(ccap / 4))) };
  let config = powerOf([safety, { share: 0.5, minutes: ccap - safety.minutes }], configRegs);
  for (let m = 1; m <= ccap - safety.minutes; m++) {
    const p = powerOf([safety, { share: 0.5, minutes: m }], configRegs);
    if (p.power >= target) {
      config = p;
      break;
    }
  }
  return { code, config };
}

/** `1,140 pairs 17.0 USD + 342 scored 3.4 USD`. */
export function spendText(x: ReleaseSpend): string {
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  return `${n(x.pairs)} pairs ${x.pairsUsd.toFixed(1)} USD + ${n(x.samples)} scored ${x.scoringUsd.toFixed(1)} USD`;
}

/** `93 %`. */
export function pct(x: number): string {
  return `${Math.round(x * 100)} %`;
}

/** The card's section: the plan, its expected power, and the user's schedule beside it. */
export function renderPlanSection(
  plan: CanaryPlan,
  current: SchedulePower & { readonly describe: string },
  traffic: PlanTraffic,
  configCurrent?: SchedulePower & { readonly describe: string },
): string[] {
  const lines: string[] = ['## Canary plan (from the stated traffic)', ''];
  lines.push(
    `At ${traffic.requestsPerSecond} requests/s and a base error rate of ${traffic.errorRate ?? 0.01}${(traffic.meanClusterSize ?? 1) > 1 ? ` (failures in clusters of ${traffic.meanClusterSize} requests, each counted once)` : ''}: each schedule's chance that the judge calls each minimum regression before full rollout, counting only judged minutes (steps where the stable version still serves a share). Target ${pct(plan.target)}, time cap ${plan.maxMinutes} min${plan.configMaxMinutes < plan.maxMinutes ? ` (config: ${plan.configMaxMinutes} min of steps, what the config plane's 50-minute budget holds)` : ''}; closed form, within a few points of the engine's simulated power (bench/canary-plan.ts).`,
    '',
  );
  lines.push(`| schedule | judged min | to 100 % | ${plan.code.byRegression.map((r) => r.describe).join(' | ')} |`);
  lines.push(`|---|---|---|${plan.code.byRegression.map(() => '---|').join('')}`);
  const row = (name: string, p: SchedulePower) =>
    lines.push(`| ${name} | ${p.judgedMinutes} | ${p.totalMinutes} min | ${p.byRegression.map((r) => pct(r.power)).join(' | ')} |`);
  row(`code, as configured: ${current.describe}`, current);
  row(`code, planned: \`${plan.code.call}\`${plan.codeReaches ? '' : ' (best within the cap: does not reach the target)'}`, plan.code);
  if (configCurrent) row(`config, as configured: ${configCurrent.describe}`, configCurrent);
  row(
    `config, planned: ${plan.config.steps.map((s) => `${Math.round(s.share * 100)} % for ${s.minutes} min`).join(', then ')}, then 100 %${plan.configReaches ? '' : ' (does not reach the target within the cap)'}`,
    plan.config,
  );
  lines.push('');
  const turns = traffic.meanConversationTurns;
  lines.push(
    `Config rows: the assigned config canary, judged one unit per conversation (its first request's values, its first failure), at ${
      turns === undefined
        ? `an ASSUMED ${DEFAULT_CONVERSATION_TURNS} requests per conversation (canaryPlan.meanConversationTurns not stated: state it from the traffic, 1 when callers send no conversation id; longer conversations need longer steps)`
        : `${turns} request${turns === 1 ? '' : 's'} per conversation (canaryPlan.meanConversationTurns)`
    }.`,
    '',
  );
  const ev = plan.evaluation;
  if (ev && plan.pairedPreference !== undefined) {
    const r = ev.reaching;
    const paired = (x: SchedulePower) => pct(x.byRegression.find((q) => q.regression === 'pairedPreference')?.power ?? 0);
    lines.push(
      `Paired preference (the canary loses ${pct(plan.pairedPreference)} of decided pairs; evaluation samplingRate ${ev.samplingRate}, pairing rate ${ev.pairSamplingRate} (paired.samplingRate)${ev.configPairSamplingRate !== ev.pairSamplingRate ? `, config canary ${ev.configPairSamplingRate} (paired.configSamplingRate)` : ''}, ` +
        `${pct(ev.decidedPairShare)} of pairs decided (canaryPlan.decidedPairShare), results judged ${ev.resultDelaySeconds} s after the answer plus the judge's once-a-minute reads, ` +
        `paired test e-value threshold ${Math.round(ev.pairedThreshold)}: the evaluation metrics take α / 7, half of it to the paired test when criteria are scored): ` +
        (r
          ? `${
              r.pairSamplingRate === ev.pairSamplingRate && r.configPairSamplingRate === ev.configPairSamplingRate
                ? `reached at the stated pairing rates on the planned schedules (code \`${r.code.call}\` ${paired(r.code)}, config ${paired(r.config)})`
                : `the smallest pairing rates reaching ${pct(plan.target)} on the planned schedules are **${r.pairSamplingRate}** on the code plane (paired.samplingRate; \`${r.code.call}\` ${paired(r.code)}) and **${r.configPairSamplingRate}** on the config plane (paired.configSamplingRate; ${r.config.steps.map((s) => `${Math.round(s.share * 100)} % for ${s.minutes} min`).join(', then ')} ${paired(r.config)})`
            }${r.cost ? `; expected per release: code ${spendText(r.cost.code)}, config ${spendText(r.cost.config)}, against budget.perReleaseUsd ${r.cost.perReleaseUsd} USD${r.cost.withinBudget ? '' : ' — over it: no pairing rate reaching the target fits the budget'}` : ''}.`
          : `no pairing rate up to 1 reaches ${pct(plan.target)} within the cap.`) +
        ' Closed form (sign test on decided pairs, results read after the settle time), checked against bench/evaluation-judge.ts.',
      '',
    );
  } else lines.push('Paired preference: not planned (no evaluation section with paired comparisons).', '');
  return lines;
}
