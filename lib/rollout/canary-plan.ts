import { concurrentThreshold, DEFAULT_TOLERANCE, type JudgeMetric, type JudgeOptions, LAMBDA_GRID, newJudgeState, RATIO_GRID } from '../../lambda/judge/judge';
import type { JudgeTolerance } from '../../lambda/shared/contract';

/**
 * The canary planner (issue 16 D): from the stated traffic, base rates and the smallest regressions the team must
 * catch, the traffic schedule whose JUDGED steps (the stable version still serving a share: a concurrent comparison)
 * give the canary judge the stated power before full rollout, within a time cap. Pure, closed form, cheap at synth.
 *
 * The approximation (checked against the real engine in test/canary-plan.test.ts and bench/canary-plan.ts): the
 * judge's canary-phase e-process is a mixture over a grid; its log is at least the best component's log minus
 * log(grid size). Each component's log is a sum of independent per-event (counts) or per-request (values) log
 * factors, so over the judged minutes it is approximately normal with mean Σ n·E[X] and variance Σ n·E[X²]
 * (compound Poisson: the number of events is random too). Power ≈ P(log e-value crosses log threshold), taking the
 * best component, and for the crossing by the end of the judged steps (the judge stops at the first minute it
 * crosses): the reflection principle for a Brownian motion with that drift and variance. The other components only
 * add, so this leans low.
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
   * Reserved for the evaluation work (issue 17): the smallest share of paired comparisons preferring the stable answer
   * (0.55 = 55 %). Not planned for yet. @default undefined (off)
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
}

export interface CanaryPlanOptions {
  /** Power wanted for each minimum regression, before full rollout. @default 0.9 */
  readonly power?: number;
  /** Longest acceptable time from the first shift to 100 %, in minutes. @default 60 */
  readonly maxMinutes?: number;
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

export const DEFAULT_MIN_REGRESSIONS: Required<Omit<MinimumRegressions, 'pairedPreference'>> = { errorRatio: 2, p50Increase: 0.2, qualityDrop: 0.05 };

/** A traffic step: `share` of requests on the new version for `minutes`. The last step (100 %) is not listed. */
export interface PlanStep {
  readonly share: number;
  readonly minutes: number;
}

export interface RegressionPower {
  readonly regression: 'errorRatio' | 'p50Increase' | 'qualityDrop';
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
  /** Code plane: the fastest TimeBasedCanary / TimeBasedLinear config reaching the target, or the most powerful within the cap. */
  readonly code: CodePlan;
  readonly codeReaches: boolean;
  /** Config plane (per-conversation share, any step list): a safety step, then a balanced step. */
  readonly config: SchedulePower;
  readonly configReaches: boolean;
  readonly pairedPreference?: number;
}

/**
 * The engine constants the closed form depends on: one function, so the planner can be pointed at a reworked engine.
 */
export function engineModel(judge?: Partial<Pick<JudgeOptions, 'alpha' | 'metrics' | 'tolerance'>>): {
  /** ln of the concurrent test's threshold for `metric` (the error metric splits its share with the gross rule). */
  readonly logThreshold: (metric: JudgeMetric) => number;
  readonly ratioGrid: readonly number[];
  readonly lambdaGrid: readonly number[];
} {
  const options = newJudgeState({
    ...(judge?.alpha !== undefined ? { alpha: judge.alpha } : {}),
    ...(judge?.metrics ? { metrics: judge.metrics } : {}),
  }).options;
  return { logThreshold: (m) => Math.log(concurrentThreshold(options, m)), ratioGrid: RATIO_GRID, lambdaGrid: LAMBDA_GRID };
}

/** Standard normal cdf (Zelen & Severo 26.2.17, |error| < 7.5e-8). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const d = 0.3989422804014327 * Math.exp((-x * x) / 2);
  const p = d * t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  return x >= 0 ? 1 - p : p;
}

/** Per event at share s, for a canary rate `ratio` × stable: mean and second moment of each count-grid component's log factor. */
export function countMoments(s: number, ratio: number, grid: readonly number[]): { mean: number; second: number }[] {
  const theta = (ratio * s) / (ratio * s + 1 - s);
  return grid.map((r) => {
    const t = (r * s) / (r * s + 1 - s);
    const a = Math.log(t / s);
    const b = Math.log((1 - t) / (1 - s));
    return { mean: theta * a + (1 - theta) * b, second: theta * a * a + (1 - theta) * b * b };
  });
}

const QUAD_N = 161;
/**
 * Per request at share s, the canary's (oriented) values shifted by `d` standard deviations of a normal: mean and
 * second moment of each value-grid component's log factor log(1 + λ g (V - s)), g = 2F(x) - 1, F the pooled cdf.
 * Rank-based, so it holds for any monotone transform (log-normal latency: d = ln(1 + increase) / σ).
 */
export function valueMoments(s: number, d: number, grid: readonly number[]): { mean: number; second: number }[] {
  const cap = 0.99 / Math.max(s, 1 - s);
  const lambdas = grid.map((l) => Math.min(l, cap));
  const acc = lambdas.map(() => ({ mean: 0, second: 0 }));
  // Trapezoid over z in [-7, 7] for each arm (stable: x = z; canary: x = z + d).
  const h = 14 / (QUAD_N - 1);
  for (let i = 0; i < QUAD_N; i++) {
    const z = -7 + i * h;
    const w = (h * Math.exp((-z * z) / 2)) / Math.sqrt(2 * Math.PI) / (i === 0 || i === QUAD_N - 1 ? 2 : 1);
    const gS = 2 * ((1 - s) * normalCdf(z) + s * normalCdf(z - d)) - 1;
    const xc = z + d;
    const gC = 2 * ((1 - s) * normalCdf(xc) + s * normalCdf(xc - d)) - 1;
    for (let j = 0; j < lambdas.length; j++) {
      const ls = Math.log(1 - lambdas[j] * gS * s);
      const lc = Math.log(1 + lambdas[j] * gC * (1 - s));
      acc[j].mean += w * ((1 - s) * ls + s * lc);
      acc[j].second += w * ((1 - s) * ls * ls + s * lc * lc);
    }
  }
  return acc;
}

interface Regression {
  readonly key: RegressionPower['regression'];
  readonly describe: string;
  /** Per judged minute at share s: per-component mean and variance of the log e-value's growth. */
  perMinute(s: number): { mean: number; variance: number }[];
  readonly gridSize: number;
  readonly logThreshold: number;
}

function regressions(t: PlanTraffic, min: MinimumRegressions, model: ReturnType<typeof engineModel>, given?: JudgeTolerance): Regression[] {
  const tol = { ...planTolerance(min), ...given };
  const rps = t.requestsPerSecond;
  const p = t.errorRate ?? 0.01;
  const out: Regression[] = [];
  const cache = new Map<string, { mean: number; variance: number }[]>();
  const memo = (key: string, f: () => { mean: number; variance: number }[]) => {
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
      gridSize: model.ratioGrid.length,
      logThreshold: model.logThreshold('error'),
      perMinute: (s) =>
        memo(`e${s}`, () => {
          const events = 60 * rps * p * (s * rho + 1 - s);
          return countMoments(s, rho, model.ratioGrid).map((m) => ({ mean: events * m.mean, variance: events * m.second }));
        }),
    });
  }
  const values = (key: 'p50Increase' | 'qualityDrop', describe: string, d: number, perMinuteN: number) =>
    out.push({
      key,
      describe,
      gridSize: model.lambdaGrid.length,
      logThreshold: model.logThreshold(key === 'p50Increase' ? 'latencyMs' : 'quality'),
      perMinute: (s) =>
        memo(`${key}${s}`, () =>
          valueMoments(s, d, model.lambdaGrid).map((m) => ({ mean: perMinuteN * m.mean, variance: perMinuteN * Math.max(0, m.second - m.mean * m.mean) })),
        ),
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
  return out;
}

function validate(t: PlanTraffic, o: CanaryPlanOptions): void {
  if (!(Number.isFinite(t.requestsPerSecond) && t.requestsPerSecond > 0))
    throw new Error(`canary plan requestsPerSecond must be a positive number, got ${t.requestsPerSecond}; state expectedRequestsPerSecond`);
  const e = t.errorRate ?? 0.01;
  if (!(e >= 0 && e < 1)) throw new Error(`canary plan errorRate must be from 0 to below 1, got ${e}; e.g. 0.01 for 1 % of requests failing`);
  const pw = o.power ?? 0.9;
  if (!(pw > 0 && pw < 1)) throw new Error(`canaryPlan.power must be in (0, 1), got ${pw}; 0.9 = catch 90 % of the minimum regressions`);
  const cap = o.maxMinutes ?? 60;
  if (!(Number.isInteger(cap) && cap >= 2)) throw new Error(`canaryPlan.maxMinutes must be a whole number of minutes of at least 2, got ${cap}`);
  const first = o.maxFirstStepPercent ?? 10;
  if (!(Number.isInteger(first) && first >= 1 && first <= 50))
    throw new Error(`canaryPlan.maxFirstStepPercent must be a whole number from 1 to 50, got ${first}`);
  const pp = o.minRegressions?.pairedPreference;
  if (pp !== undefined && !(pp > 0.5 && pp < 1))
    throw new Error(
      `canaryPlan.minRegressions.pairedPreference must be in (0.5, 1) (a share preferring stable), got ${pp}; leave it unset until evaluation exists`,
    );
}

/** The power of a schedule's judged steps (share < 1) against each minimum regression. */
export function schedulePower(steps: readonly PlanStep[], traffic: PlanTraffic, options: CanaryPlanOptions = {}): SchedulePower {
  validate(traffic, options);
  const model = engineModel(options.judge);
  return powerOf(steps, regressions(traffic, options.minRegressions ?? DEFAULT_MIN_REGRESSIONS, model, options.judge?.tolerance));
}

function powerOf(steps: readonly PlanStep[], regs: readonly Regression[]): SchedulePower {
  const judged = steps.filter((x) => x.share > 0 && x.share < 1 && x.minutes > 0);
  const byRegression = regs.map((r) => {
    let best = { power: 0, mean: 0 };
    const n = r.perMinute(0.5).length;
    for (let j = 0; j < n; j++) {
      let mean = 0;
      let variance = 0;
      for (const st of judged) {
        const m = r.perMinute(st.share)[j];
        mean += st.minutes * m.mean;
        variance += st.minutes * m.variance;
      }
      const need = r.logThreshold + Math.log(r.gridSize);
      const power = crossing(mean, variance, need);
      if (power > best.power || (power === best.power && mean > best.mean)) best = { power, mean };
    }
    return { regression: r.key, describe: r.describe, power: best.power, expectedLogE: best.mean - Math.log(r.gridSize), logThreshold: r.logThreshold };
  });
  return {
    steps: [...steps],
    judgedMinutes: judged.reduce((a, x) => a + x.minutes, 0),
    totalMinutes: steps.reduce((a, x) => a + x.minutes, 0),
    byRegression,
    power: byRegression.length > 0 ? Math.min(...byRegression.map((b) => b.power)) : 1,
  };
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
  const maxFirst = options.maxFirstStepPercent ?? 10;
  const model = engineModel(options.judge);
  const regs = regressions(traffic, options.minRegressions ?? DEFAULT_MIN_REGRESSIONS, model, options.judge?.tolerance);
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
  // Config plane: a safety step at the first-step limit for min(5, cap/4) minutes, then 50 % for the fewest minutes that reach the target.
  const safety: PlanStep = { share: maxFirst / 100, minutes: Math.max(1, Math.min(5, Math.floor(cap / 4))) };
  let config = powerOf([safety, { share: 0.5, minutes: cap - safety.minutes }], regs);
  for (let m = 1; m <= cap - safety.minutes; m++) {
    const p = powerOf([safety, { share: 0.5, minutes: m }], regs);
    if (p.power >= target) {
      config = p;
      break;
    }
  }
  return {
    target,
    maxMinutes: cap,
    code,
    codeReaches: code.power >= target,
    config,
    configReaches: config.power >= target,
    ...(options.minRegressions?.pairedPreference !== undefined ? { pairedPreference: options.minRegressions.pairedPreference } : {}),
  };
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
    `At ${traffic.requestsPerSecond} requests/s and a base error rate of ${traffic.errorRate ?? 0.01}: each schedule's chance that the judge calls each minimum regression before full rollout, counting only judged minutes (steps where the stable version still serves a share). Target ${pct(plan.target)}, time cap ${plan.maxMinutes} min; closed form, checked against the engine in bench/canary-plan.ts (it leans low).`,
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
  lines.push(
    plan.pairedPreference !== undefined
      ? `Paired preference (${pct(plan.pairedPreference)} preferring stable): stated, not planned yet (needs the evaluation work, issue 17).`
      : 'Paired preference: off (reserved for the evaluation work, issue 17).',
    '',
  );
  return lines;
}
