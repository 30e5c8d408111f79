import type { ModelFinding, ModelFindingCode } from '../config/model-lifecycle';
import { alarmFalseFire, type AlarmFalseFire, type BaseRates, combinedFalseFire, type ReleaseTraffic, type SynthesizedRateAlarm } from './false-fire';
import { type CanaryPlan, DEFAULT_CONVERSATION_TURNS, type PlanTraffic, type SchedulePower } from './canary-plan';
import type { AlarmKind } from './release-alarms';
import type { ReleaseCost } from './release-cost';
import type { EvaluationCost } from './evaluation-cost';
import type { GuardrailFacts } from './guardrail-facts';
import type { EvaluatorAgreement } from '../../lambda/shared/evaluator-agreement';
import { RULE_EVALUATOR_AGREEMENT } from './evaluator-trust';
import { APPCONFIG_SIMULATED_POWER, appConfigJudgedSeconds, appConfigPower } from './appconfig-judged';
import { type FunctionLogSettings, RULE_RECORDS_SURVIVE_LOG_LEVEL } from './log-level-policy';
import { alarmPeriods, alarmWorstCase, DEFAULT_TIMING, formatSeconds, type PlaneWorstCase, type TimingAssumptions } from './worst-case';

/** What a release is, as the policy rules and the strategy card see it. Plain data. */
export interface ReleaseFacts {
  readonly serviceName: string;
  /** The stack the service is deployed in (the operator commands on the card name it). @default not named */
  readonly stackName?: string;
  readonly owner?: string;
  readonly onCall?: string;
  readonly code: { readonly describe: string; readonly firstStepPercent: number; readonly steps: readonly [number, number][] };
  readonly config: {
    readonly describe: string;
    readonly firstStepPercent: number;
    readonly steps: readonly number[];
    readonly stepIntervalSeconds: number;
    readonly finalBakeMinutes: number;
    /**
     * The assigned config canary (configCanary: 'assigned'): the share controller's schedule and the client lag
     * promotion waits. @default none: AppConfig's rollout (steps above) reaches traffic
     */
    readonly assigned?: { readonly schedule: readonly { readonly percent: number; readonly holdSeconds: number }[]; readonly clientLagSeconds: number };
  };
  readonly alarms: readonly {
    readonly kind: AlarmKind;
    readonly plane: 'code' | 'config';
    readonly name: string;
    readonly watches: string;
    readonly comparison: '>' | '<';
    readonly threshold: number;
    readonly unit: string;
    /** Its term in the plane's combined alarm (layout 'combined'). @default none */
    readonly term?: string;
  }[];
  /**
   * The canary judge's verdict alarms (one per plane; they roll back like the others, 1 of 1 period at >= 1).
   * @default none (the judge is off)
   */
  readonly verdictAlarms?: readonly { readonly plane: 'code' | 'config'; readonly name: string }[];
  /**
   * The evaluation metrics the canary judge judges in its family (`evaluation:<criterion>`, `evaluation:paired`).
   * @default none
   */
  readonly judgedEvaluation?: readonly string[];
  /**
   * The release config's `model.guardrail` and whether its contextual grounding scores are consumed
   * (rollout/guardrail-facts.ts). @default none (no guardrail)
   */
  readonly guardrail?: GuardrailFacts;
  /** The code plane's alarm window (see `alarmWindows` for each plane's). */
  readonly alarmWindow: AlarmWindowFacts;
  /**
   * Each plane's alarm window: they differ when `alarms.code` / `alarms.config` set them, or when the periods are
   * chosen per plane from the stated traffic. @default both planes on `alarmWindow`
   */
  readonly alarmWindows?: { readonly code: AlarmWindowFacts; readonly config: AlarmWindowFacts };
  readonly worstCase: { readonly code: PlaneWorstCase; readonly config: PlaneWorstCase };
  /** The delays the worst case assumes. @default DEFAULT_TIMING */
  readonly timing?: TimingAssumptions;
  /** The order a release that changes both planes rolls them out in, one at a time. */
  readonly planeOrder?: readonly ('code' | 'config')[];
  readonly rollbackBudgetSeconds: number;
  readonly degrade: {
    readonly switches: readonly string[];
    /** The state each switch is deployed in by this stack (on = true). */
    readonly state?: Readonly<Record<string, boolean>>;
    /** The message served while `staticAnswer` is on. */
    readonly staticAnswerMessage?: string;
    readonly environment: string;
    readonly profile: string;
    readonly application: string;
    /** Set when a cost guard switches to the fallback model on its own. */
    readonly costGuardMaxCostPerRequestUsd?: number;
  };
  readonly waivers: readonly PolicyWaiver[];
  /** The service's typical traffic, when stated: lets the policy check that a canary can be judged at all. */
  readonly expectedRequestsPerSecond?: number;
  /** What the model lifecycle check found for the config's primary and fallback models (see model-lifecycle). */
  readonly models?: readonly ModelFinding[];
  /** Whether the regression gate replays the accepted cases before a release gets traffic. @default true (not stated: not checked) */
  readonly regressionGate?: boolean;
  /**
   * The fixed-threshold alarms' false-fire chances on a good release, in closed form (lib/rollout/false-fire.ts), at the
   * stated traffic and base rates. Present when the traffic is stated.
   */
  readonly falseFire?: {
    readonly traffic: ReleaseTraffic;
    readonly baseRates: Required<BaseRates>;
    readonly alarms: readonly SynthesizedRateAlarm[];
    /** Each count guardrail alone (its own alarm, or its term as if it were one). */
    readonly results: readonly AlarmFalseFire[];
    /**
     * Layout 'combined': each plane's combined alarm, any count term breaching in a period (what fires).
     * @default none (layout 'perMetric')
     */
    readonly combined?: readonly AlarmFalseFire[];
  };
  /**
   * The canary plan at the stated traffic (lib/rollout/canary-plan.ts) and the configured code schedule's power against
   * the same minimum regressions. Present when the traffic is stated and the canary judge is on.
   */
  readonly canaryPlan?: {
    readonly traffic: PlanTraffic;
    readonly plan: CanaryPlan;
    readonly current: SchedulePower & { readonly describe: string };
    /** The assigned config canary's share schedule (configCanary: 'assigned'), when there is one. */
    readonly configCurrent?: SchedulePower & { readonly describe: string };
    /**
     * The evaluation cost of the pairing rate that reaches the paired preference (plan.evaluation.reaching) on the
     * planned code schedule, when it differs from the stated one (lib/rollout/evaluation-cost.ts).
     */
    readonly pairedCost?: EvaluationCost;
  };
  /** What the release machinery adds per month at the stated traffic (lib/rollout/release-cost.ts). */
  readonly releaseCost?: ReleaseCost;
  /**
   * The evaluator that scores the service's answers (an `evaluation` section, evaluator on) and its measured agreement
   * with people as stated (AiRelease `evaluatorAgreement`; absent: unknown). @default not evaluated
   */
  readonly evaluator?: { readonly modelId: string; readonly agreement?: EvaluatorAgreement };
  /**
   * The service function's log settings as synthesized (LoggingConfig, the Powertools variables of its environment):
   * whether its evaluation samples, failure records and metrics could be dropped (lib/rollout/log-level-policy.ts).
   * @default not read (not checked)
   */
  readonly logging?: FunctionLogSettings;
}

/** One plane's alarm window, as synthesized. */
export interface AlarmWindowFacts {
  readonly periodSeconds: number;
  readonly datapointsToAlarm: number;
  readonly evaluationPeriods: number;
  readonly minInvocations: number;
  /** True when the period was chosen from `expectedRequestsPerSecond` (no period given for the plane). */
  readonly periodFromTraffic?: boolean;
}

/** A plane's alarm window: its own when the facts have one, else the shared `alarmWindow`. */
export function windowOf(f: Pick<ReleaseFacts, 'alarmWindow' | 'alarmWindows'>, plane: 'code' | 'config'): AlarmWindowFacts {
  return f.alarmWindows?.[plane] ?? f.alarmWindow;
}

/**
 * The share of the stated traffic a plane's alarms count toward the invocation guard: the code plane's watch the new
 * version (the code canary's first step), the config plane's the whole service (all of it).
 */
export function watchedPercent(plane: 'code' | 'config', codeFirstStepPercent: number): number {
  return plane === 'code' ? codeFirstStepPercent : 100;
}

/** Seconds a config release is watched by its plane's alarms: the assigned schedule, or AppConfig's steps and bake. */
export function configWatchedSeconds(c: ReleaseFacts['config']): number {
  return c.assigned ? c.assigned.schedule.reduce((sum, x) => sum + x.holdSeconds, 0) : c.stepIntervalSeconds * c.steps.length + c.finalBakeMinutes * 60;
}

/** One rule every release must pass; returns what is wrong, or nothing. */
export interface ReleasePolicyRule {
  readonly id: string;
  readonly description: string;
  /** False for rules no written reason can set aside. @default true */
  readonly waivable?: boolean;
  /** `warning`: reported at synth (a CDK warning), not failing it. @default 'error' */
  readonly severity?: 'error' | 'warning';
  check(facts: ReleaseFacts): string[];
}

/** A rule set aside for one release, with the reason a reviewer reads. */
export interface PolicyWaiver {
  readonly rule: string;
  readonly reason: string;
}

const REQUIRED: Record<'code' | 'config', AlarmKind[]> = {
  code: ['error-rate', 'p99-latency', 'canary-vs-stable'],
  config: ['error-rate', 'p99-latency'],
};

export const RULE_REQUIRED_ALARMS: ReleasePolicyRule = {
  id: 'required-alarms',
  description: 'Both planes are watched: the new version by error rate, p99 latency and canary-vs-stable; the service by error rate and p99 latency.',
  check: (f) =>
    (['code', 'config'] as const).flatMap((plane) =>
      REQUIRED[plane].filter((k) => !f.alarms.some((a) => a.plane === plane && a.kind === k)).map((k) => `the ${plane} plane has no ${k} alarm`),
    ),
};

export const RULE_FIRST_STEP: ReleasePolicyRule = {
  id: 'first-step-at-most-50',
  description: 'The first canary step of code and of config reaches at most 50 % of traffic.',
  check: (f) => [
    ...(f.code.firstStepPercent > 50
      ? [`the code traffic shift starts at ${f.code.firstStepPercent} % (${f.code.describe}); use a canary or linear shift of at most 50 %`]
      : []),
    ...(f.config.firstStepPercent > 50
      ? [`the config rollout starts at ${f.config.firstStepPercent} % (${f.config.describe}); use ConfigRollout.DEFAULT or a first step of at most 50 %`]
      : []),
  ],
};

export const RULE_ROLLBACK_BUDGET: ReleasePolicyRule = {
  id: 'rollback-within-budget',
  description: 'The computed worst case from a first bad request to rollback start fits the rollback budget, on both planes.',
  waivable: false,
  check: (f) =>
    (['code', 'config'] as const)
      .filter((p) => f.worstCase[p].seconds > f.rollbackBudgetSeconds)
      .map(
        (p) =>
          `the ${p} plane's worst case is ${formatSeconds(f.worstCase[p].seconds)} (slowest alarm: ${f.worstCase[p].slowestAlarm}), over the rollback budget of ${formatSeconds(f.rollbackBudgetSeconds)}; ` +
          budgetAdvice(f, p),
      ),
};

/**
 * What dominates a plane's worst case, and a change that brings it within the budget: the least change to the
 * slowest alarm's period, then to its datapoints, that fits (and, with stated traffic, still lets a canary be
 * judged); when no alarm setting can fit, the assumed delays (`timing`) are what is left, and the advice says so.
 */
export function budgetAdvice(f: ReleaseFacts, plane: 'code' | 'config'): string {
  const wc = f.worstCase[plane];
  const a = wc.alarms.find((x) => x.name === wc.slowestAlarm) ?? wc.alarms[0];
  const t = { ...DEFAULT_TIMING, ...f.timing };
  const reaction = plane === 'code' ? t.codeDeployReactionSeconds : t.appConfigReactionSeconds;
  const reactionKey = plane === 'code' ? 'codeDeployReactionSeconds' : 'appConfigReactionSeconds';
  // Two parts: the alarm's own datapoints, which alarm settings change, and the delays around them (the assumed
  // ingestion and reaction in `timing`, CloudWatch's evaluation cadence), which they barely do.
  const delays = a.ingestion + a.reaction + a.evaluation;
  const dominant =
    a.datapoints >= delays
      ? `its datapoints ((${a.datapointsToAlarm} + 1) x ${a.periodSeconds} s = ${formatSeconds(a.datapoints)})`
      : `the delays around the alarm (${formatSeconds(delays)}: timing.metricIngestionSeconds ${a.ingestion} s, timing.${reactionKey} ${a.reaction} s, evaluation every ${a.evaluation} s)`;
  const fits = (period: number, m: number) =>
    alarmWorstCase({ name: a.name, periodSeconds: period, datapointsToAlarm: m, evaluationPeriods: m }, reaction, t.metricIngestionSeconds).total <=
    f.rollbackBudgetSeconds;
  const judged = (period: number) =>
    f.expectedRequestsPerSecond === undefined ||
    (plane === 'code' && f.code.steps.length < 2) ||
    period >= judgeablePeriodSeconds(f.expectedRequestsPerSecond, watchedPercent(plane, f.code.firstStepPercent), windowOf(f, plane).minInvocations);
  const opt = `alarms.${plane}`;
  const total = (period: number, m: number) =>
    formatSeconds(
      alarmWorstCase({ name: a.name, periodSeconds: period, datapointsToAlarm: m, evaluationPeriods: m }, reaction, t.metricIngestionSeconds).total,
    );
  const shorter = alarmPeriods(a.periodSeconds - 1).reverse();
  const changes: string[] = [];
  const period = shorter.find((p) => fits(p, a.datapointsToAlarm) && judged(p));
  if (period !== undefined) changes.push(`${opt}.period of ${period} s (worst case ${total(period, a.datapointsToAlarm)})`);
  const m = [...Array(a.datapointsToAlarm - 1).keys()].map((i) => a.datapointsToAlarm - 1 - i).find((x) => fits(a.periodSeconds, x));
  if (m !== undefined) changes.push(`${opt}.datapointsToAlarm of ${m} (worst case ${total(a.periodSeconds, m)})`);
  if (changes.length === 0) {
    const both = [a.periodSeconds, ...shorter].find((p) => fits(p, 1) && judged(p));
    if (both !== undefined) changes.push(`${opt}.period of ${both} s with ${opt}.datapointsToAlarm of 1 (worst case ${total(both, 1)})`);
  }
  const fixed = a.ingestion + a.reaction;
  if (changes.length > 0) {
    return `dominated by ${dominant}; ${changes.join(' or ')} would fit${a.datapoints >= delays ? '' : '; or, if a rollback drill measured the delays lower, set timing'}`;
  }
  const floor = alarmWorstCase({ name: a.name, periodSeconds: 10, datapointsToAlarm: 1, evaluationPeriods: 1 }, reaction, t.metricIngestionSeconds).total;
  return (
    `dominated by ${dominant}; no alarm setting fits: even 10-second periods with 1 datapoint take ${formatSeconds(floor)}, of which ${fixed} s are the assumed delays in \`timing\` ` +
    `(metricIngestionSeconds ${a.ingestion}, ${reactionKey} ${a.reaction})${f.expectedRequestsPerSecond !== undefined ? ' (and the stated traffic may need longer periods to judge a canary)' : ''}; ` +
    `set timing from delays a rollback drill measured, or raise rollbackBudget to at least ${formatSeconds(Math.max(floor, f.rollbackBudgetSeconds + 1))}`
  );
}

/** How many times the invocation guard a canary must get per alarm period, on average, at the stated traffic. */
export const JUDGE_MARGIN = 2;

/**
 * The shortest alarm period CloudWatch accepts at which the first canary step gets, on average, JUDGE_MARGIN times
 * the invocation guard per period at the stated traffic.
 */
export function judgeablePeriodSeconds(requestsPerSecond: number, firstStepPercent: number, minInvocations: number): number {
  const perSecond = (requestsPerSecond * firstStepPercent) / 100;
  const need = JUDGE_MARGIN * minInvocations;
  const day = 86_400;
  return alarmPeriods(day).find((p) => perSecond * p >= need) ?? day;
}

/**
 * The share of alarm periods forced quiet: with Poisson arrivals averaging `mean` per period, the chance a period
 * has fewer than `minInvocations`. At the guard itself (mean = 5, guard 5) it is 44 %; at twice the guard, 3 %.
 */
export function quietFraction(mean: number, minInvocations: number): number {
  let term = Math.exp(-mean);
  let sum = 0;
  for (let k = 0; k < minInvocations; k++) {
    sum += term;
    term *= mean / (k + 1);
  }
  return Math.min(1, sum);
}

/**
 * Low traffic must extend judgement, not skip it. The alarms stay quiet in a period with fewer than minInvocations
 * requests (so one unlucky request cannot roll back a good release); at low traffic that guard would let a canary
 * pass unjudged. A canary that averages exactly the guard is quiet in about 4 periods of 10 (Poisson), so the rule
 * asks for JUDGE_MARGIN (2) times the guard per period at the stated traffic (about 3 % quiet), and for enough
 * breaching periods to fit in the first canary step. AiRelease chooses such a period itself when alarms.period is
 * not given.
 */
export const RULE_CANARY_CAN_BE_JUDGED: ReleasePolicyRule = {
  id: 'canary-can-be-judged',
  description:
    "At the stated traffic, each plane's alarms see at least twice the invocation guard per alarm period on average (the code plane's: the first canary step's share; the config plane's: the whole service), for long enough to trip within the first canary step (code) or the config release (config).",
  check: (f) => {
    const rps = f.expectedRequestsPerSecond;
    if (rps === undefined) return [];
    const out: string[] = [];
    if (f.code.steps.length >= 2) {
      const w = windowOf(f, 'code');
      const perPeriod = (rps * f.code.firstStepPercent * w.periodSeconds) / 100;
      if (perPeriod < JUDGE_MARGIN * w.minInvocations) {
        const period = judgeablePeriodSeconds(rps, f.code.firstStepPercent, w.minInvocations);
        out.push(
          `code plane: at ${rps} requests/s a ${f.code.firstStepPercent} % canary averages ${round(perPeriod)} requests per ${w.periodSeconds}-second alarm period, under ${JUDGE_MARGIN} x minInvocations (${JUDGE_MARGIN * w.minInvocations}): ` +
            `${percent(quietFraction(perPeriod, w.minInvocations))} of its periods would have fewer than ${w.minInvocations} requests and be forced quiet; ` +
            `use alarms.code.period of ${period} s (or leave the periods unset: each plane's is then chosen from expectedRequestsPerSecond), a larger first step, or lower alarms.minInvocations`,
        );
      }
      const stepSeconds = f.code.steps[1][0] * 60;
      const needed = (w.datapointsToAlarm + 1) * w.periodSeconds;
      if (stepSeconds < needed) {
        out.push(
          `code plane: the first canary step lasts ${stepSeconds} s, shorter than the ${needed} s the alarms need to trip ((datapoints + 1) x period: (${w.datapointsToAlarm} + 1) x ${w.periodSeconds} s); lengthen the canary interval, or lower alarms.code.datapointsToAlarm`,
        );
      }
    }
    // The config plane's alarms watch the whole service: all of the stated traffic counts toward their guard, and a
    // config release can be rolled back only while it is watched (AppConfig: its steps and bake; assigned: its schedule).
    const c = f.alarmWindows ? f.alarmWindows.config : undefined;
    if (c) {
      const perPeriod = rps * c.periodSeconds;
      if (perPeriod < JUDGE_MARGIN * c.minInvocations) {
        out.push(
          `config plane: at ${rps} requests/s the service averages ${round(perPeriod)} requests per ${c.periodSeconds}-second alarm period, under ${JUDGE_MARGIN} x minInvocations (${JUDGE_MARGIN * c.minInvocations}): ` +
            `${percent(quietFraction(perPeriod, c.minInvocations))} of its periods would be forced quiet; use alarms.config.period of ${judgeablePeriodSeconds(rps, 100, c.minInvocations)} s or lower alarms.minInvocations`,
        );
      }
      const watched = configWatchedSeconds(f.config);
      const needed = (c.datapointsToAlarm + 1) * c.periodSeconds;
      if (watched < needed) {
        out.push(
          `config plane: a config release is watched for ${watched} s (${f.config.assigned ? 'the assigned schedule' : f.config.describe}), shorter than the ${needed} s the alarms need to trip ((datapoints + 1) x period: (${c.datapointsToAlarm} + 1) x ${c.periodSeconds} s); lengthen the rollout or its bake, or lower alarms.config.datapointsToAlarm or alarms.config.period`,
        );
      }
    }
    return out;
  },
};

/** `about 44 %`, or `under 1 %`. */
export function percent(fraction: number): string {
  return fraction < 0.01 ? 'under 1 %' : `about ${Math.round(fraction * 100)} %`;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

const LIFECYCLE_FAILS: readonly ModelFindingCode[] = ['past-end-of-life', 'near-end-of-life', 'profile-only-bare-id'];

/**
 * Opt-in: the synth warnings of the model lifecycle check become policy violations, so synth fails when the primary or
 * fallback model is past or within the warning window of its end of life, or is a profile-only model named by its bare
 * id. Add it with `policyRules: [...DEFAULT_POLICY_RULES, RULE_MODEL_LIFECYCLE]`; waive it for one release with a reason.
 */
export const RULE_MODEL_LIFECYCLE: ReleasePolicyRule = {
  id: 'models-within-lifecycle',
  description: 'The primary and fallback models are not past or near their Bedrock end of life, and profile-only models are named by an inference profile.',
  check: (f) => (f.models ?? []).filter((m) => LIFECYCLE_FAILS.includes(m.code)).map((m) => `${m.message}${m.fix ? `; ${m.fix}` : ''} (${m.source})`),
};

export const RULE_REGRESSION_GATE: ReleasePolicyRule = {
  id: 'regression-gate',
  description: 'Every new code version and config version replays the accepted regression cases before it gets traffic.',
  check: (f) =>
    f.regressionGate === false
      ? [
          'the regression gate is off (regressionGate: false): a release could repeat a failure the regression set already knows; turn it on, or waive this rule with the reason',
        ]
      : [],
};
export interface FalseFireRuleOptions {
  /** The highest acceptable chance that one alarm rolls back a good release. @default 0.01 */
  readonly maxPerRelease?: number;
  /** `error` refuses synth instead of warning. @default 'warning' */
  readonly severity?: 'error' | 'warning';
}

/** The option that sets each alarm kind's threshold (ReleaseAlarmOptions). */
const THRESHOLD_OPTION: Partial<Record<AlarmKind, string>> = {
  'error-rate': 'alarms.maxErrorRate',
  'safety-rate': 'alarms.maxSafetyViolationRate',
  'contract-rate': 'alarms.maxContractViolationRate',
  'canary-vs-stable': 'alarms.maxCanaryErrorRateDelta',
};

/**
 * A fixed-threshold alarm on a tiny sample cannot be both safe and quiet: at the stated traffic and base rates, each
 * count-rate alarm's chance of firing on a GOOD release (rolling it back) is computed in closed form from the alarm as
 * synthesized, and compared with `maxPerRelease`. The message names the alarm, the chance, and settings that would
 * bring it under the limit (each computed the same way), or the statistical canary judge.
 */
export function falseFireRule(options: FalseFireRuleOptions = {}): ReleasePolicyRule {
  const limit = options.maxPerRelease ?? 0.01;
  if (!(limit > 0 && limit < 1)) throw new Error(`falseFireRule maxPerRelease must be a fraction in (0, 1), got ${limit}; 0.01 = 1 % per release`);
  return {
    id: 'alarm-false-fire',
    severity: options.severity ?? 'warning',
    description: `At the stated traffic and base rates, no fixed-threshold alarm rolls back a good release with a chance above ${limit * 100} % (closed form).`,
    check: (f) => {
      const ff = f.falseFire;
      if (!ff) return [];
      const rps = ff.traffic.requestsPerSecond;
      if (ff.combined) return combinedFindings(ff as Required<NonNullable<ReleaseFacts['falseFire']>>, limit);
      return ff.results
        .filter((r) => r.probability > limit)
        .map((r) => {
          const a = ff.alarms.find((x) => x.name === r.name && x.plane === r.plane && x.kind === r.kind);
          const fixes = a ? falseFireFixes([a], ff.traffic, ff.baseRates, limit) : [];
          const rateName = r.kind === 'safety-rate' ? 'safetyRate' : r.kind === 'contract-rate' ? 'contractRate' : 'errorRate';
          return (
            `alarm ${r.name} (${r.plane} plane, ${r.kind} ${a ? `> ${a.threshold}, ${a.datapointsToAlarm} of ${a.evaluationPeriods} ${a.periodSeconds}-second periods, guard ${a.minInvocations} invocations` : ''}) ` +
            `rolls back a good release with probability ${r.probability.toFixed(3)} per release at ${rps} requests/s and a base ${rateName} of ${ff.baseRates[rateName]} ` +
            `(over ${limit}; ${r.periods} periods watched)${r.upperBound ? ' (an upper bound)' : ''}; ` +
            `fix (each also makes the alarm slower to catch a bad release): ${[...fixes, 'or rely on the statistical canary judge and state the true base rates in baseRates'].join('; ')}`
          );
        });
    },
  };
}

/** The combined alarms above the limit: the chance, each term's own, and settings that bring the alarm under it. */
function combinedFindings(ff: Required<NonNullable<ReleaseFacts['falseFire']>>, limit: number): string[] {
  const rps = ff.traffic.requestsPerSecond;
  return ff.combined
    .filter((r) => r.probability > limit)
    .map((r) => {
      const terms = ff.alarms.filter((x) => x.name === r.name && x.plane === r.plane);
      const alone = ff.results.filter((x) => x.name === r.name && x.plane === r.plane);
      const a = terms[0];
      const fixes = falseFireFixes(terms, ff.traffic, ff.baseRates, limit, { combined: true, alone });
      return (
        `alarm ${r.name} (${r.plane} plane, any of ${terms.map((t) => `${t.kind} > ${t.threshold}`).join(', ')}; ${a.datapointsToAlarm} of ${a.evaluationPeriods} ${a.periodSeconds}-second periods, guard ${a.minInvocations} invocations) ` +
        `rolls back a good release with probability ${r.probability.toFixed(3)} per release at ${rps} requests/s and base rates error ${ff.baseRates.errorRate}, safety ${ff.baseRates.safetyRate}, contract ${ff.baseRates.contractRate} ` +
        `(over ${limit}; ${r.periods} periods watched; each term alone: ${alone.map((x) => `${x.kind} ${x.probability.toFixed(3)}`).join(', ')})${r.upperBound ? ' (an upper bound)' : ''}; ` +
        `fix (each also makes the alarm slower to catch a bad release): ${[...fixes, 'or rely on the statistical canary judge and state the true base rates in baseRates'].join('; ')}`
      );
    });
}

/**
 * Settings that bring an alarm under the false-fire limit, each the least change of its kind: the invocation guard
 * (`alarms.minInvocations`, shared by the planes), the alarm's plane's window (`alarms.<plane>.datapointsToAlarm` of
 * `alarms.<plane>.evaluationPeriods`), or a threshold. `terms`: one alarm's own guardrail (layout 'perMetric'), or the
 * count terms of a plane's combined alarm (`combined: true`: a period breaches when any term does, and the threshold
 * raised is the noisiest term's, by `alone`, each term's own chance; @default computed).
 */
export function falseFireFixes(
  terms: readonly SynthesizedRateAlarm[],
  traffic: ReleaseTraffic,
  rates: Required<BaseRates>,
  limit: number,
  options: { readonly combined?: boolean; readonly alone?: readonly AlarmFalseFire[] } = {},
): string[] {
  if (terms.length === 0) return [];
  if (terms.length > 1 && !options.combined) throw new Error('falseFireFixes: several terms are one combined alarm; pass { combined: true }');
  const chance = (ts: SynthesizedRateAlarm[]) => (options.combined ? combinedFalseFire(ts, traffic, rates) : alarmFalseFire(ts[0], traffic, rates)).probability;
  const p = (edit: (t: SynthesizedRateAlarm) => SynthesizedRateAlarm) => chance(terms.map(edit));
  const a = terms[0];
  const opt = `alarms.${a.plane}`;
  const out: string[] = [];
  const guard = [10, 20, 50, 100, 200].filter((g) => g > a.minInvocations).find((g) => p((t) => ({ ...t, minInvocations: g })) <= limit);
  if (guard !== undefined) out.push(`alarms.minInvocations of ${guard} (${p((t) => ({ ...t, minInvocations: guard })).toFixed(3)})`);
  const windows: [number, number][] = [
    [3, 3],
    [3, 5],
    [4, 5],
    [5, 5],
    [6, 6],
  ];
  const at = (w: [number, number]) => p((t) => ({ ...t, datapointsToAlarm: w[0], evaluationPeriods: w[1] }));
  const win = windows.find((w) => w[0] > a.datapointsToAlarm && at(w) <= limit);
  if (win) out.push(`${opt}.datapointsToAlarm ${win[0]} of ${opt}.evaluationPeriods ${win[1]} (${at(win).toFixed(3)})`);
  const alone = options.alone ?? terms.map((t) => alarmFalseFire(t, traffic, rates));
  const noisiest = [...alone].sort((x, y) => y.probability - x.probability)[0];
  const term = noisiest ? terms.find((t) => t.kind === noisiest.kind) : undefined;
  const option = term ? THRESHOLD_OPTION[term.kind] : undefined;
  if (term && option) {
    const raised = (th: number) => p((t) => (t.kind === term.kind ? { ...t, threshold: th } : t));
    const th = [1.5, 2, 3, 4].map((k) => Math.round(term.threshold * k * 1000) / 1000).find((x) => raised(x) <= limit);
    if (th !== undefined) out.push(`${option} of ${th} (${raised(th).toFixed(3)})`);
  }
  return out;
}

export const RULE_ALARM_FALSE_FIRE: ReleasePolicyRule = falseFireRule();

/**
 * The configured code schedule reaches the planned power: at the stated traffic, its judged steps (the stable version
 * still serving a share) give the canary judge the target power against each minimum regression before full rollout.
 * A warning: it names the powers and the exact TrafficShift call that would reach the target (or the best within the
 * cap, and what to relax).
 */
export const RULE_CANARY_PLAN: ReleasePolicyRule = {
  id: 'canary-reaches-planned-power',
  severity: 'warning',
  description:
    'At the stated traffic, the code traffic shift gives the canary judge the planned power (default 90 %) against each minimum regression before full rollout.',
  check: (f) => {
    const cp = f.canaryPlan;
    if (!cp) return [];
    const config = [...configPlanFinding(cp), ...pairedPlanFinding(cp), ...unusedConfigPairing(f, cp)];
    const runtime = cp.current.byRegression.filter((r) => r.regression !== 'pairedPreference');
    const short = runtime.filter((r) => r.power < cp.plan.target).map((r) => `${r.describe} ${Math.round(r.power * 100)} %`);
    if (short.length === 0) return config;
    const c = cp.plan.code;
    // The runtime metrics' power of the planned schedule (the paired preference has its own finding).
    const power = Math.min(...c.byRegression.filter((r) => r.regression !== 'pairedPreference').map((r) => r.power));
    const fix =
      power >= cp.plan.target
        ? `trafficShift: ${c.call} would reach ${Math.round(power * 100)} % (100 % after ${c.totalMinutes} min)`
        : `no CodeDeploy canary or linear shift within canaryPlan.maxMinutes (${cp.plan.maxMinutes}) reaches it; the most powerful within the cap is ${c.call} (${Math.round(power * 100)} %); raise canaryPlan.maxMinutes, relax canaryPlan.minRegressions, or accept the lower power`;
    const out = [
      `at ${cp.traffic.requestsPerSecond} requests/s the code schedule (${cp.current.describe}) catches ${short.join(', ')} before full rollout, under the planned ${Math.round(cp.plan.target * 100)} %; ${fix}`,
    ];
    return [...out, ...config];
  },
};

/** The assigned config canary's schedule against the plan: the exact configCanary schedule that would reach it. */
function configPlanFinding(cp: NonNullable<ReleaseFacts['canaryPlan']>): string[] {
  const cc = cp.configCurrent;
  if (!cc || cc.power >= cp.plan.target) return [];
  const short = cc.byRegression
    .filter((r) => r.regression !== 'pairedPreference' && r.power < cp.plan.target)
    .map((r) => `${r.describe} ${Math.round(r.power * 100)} %`);
  if (short.length === 0) return [];
  const steps = cp.plan.config.steps.map((x) => `{ percent: ${Math.round(x.share * 100)}, holdSeconds: ${x.minutes * 60} }`).join(', ');
  // The judge bets one unit per conversation here: say which length the powers assume (h10-convplan).
  const turns = cp.traffic.meanConversationTurns;
  const per =
    turns === undefined
      ? `judged per conversation at an assumed ${DEFAULT_CONVERSATION_TURNS} requests per conversation (state canaryPlan.meanConversationTurns; 1 when callers send no conversation id)`
      : `judged per conversation at ${turns} request${turns === 1 ? '' : 's'} per conversation`;
  return [
    `at ${cp.traffic.requestsPerSecond} requests/s the assigned config canary (${cc.describe}), ${per}, catches ${short.join(', ')} before promotion, under the planned ${Math.round(cp.plan.target * 100)} %; ` +
      (cp.plan.configReaches
        ? `configCanary: { schedule: [${steps}] } would reach ${Math.round(cp.plan.config.power * 100)} %`
        : cp.plan.configMaxMinutes < cp.plan.maxMinutes
          ? `even [${steps}] reaches only ${Math.round(cp.plan.config.power * 100)} % within the ${cp.plan.configMaxMinutes} minutes of steps the config plane's budget holds (CloudFormation's hour: longer is refused at synth); relax canaryPlan.minRegressions or accept the lower power`
          : `even [${steps}] reaches only ${Math.round(cp.plan.config.power * 100)} % within canaryPlan.maxMinutes (${cp.plan.maxMinutes}); raise it or relax canaryPlan.minRegressions`),
  ];
}

/**
 * The paired preference (issue 17): at the stated sampling rate and schedule, is a canary losing the planned share of
 * decided pairs caught before full rollout? If not: the smallest sampling rate and the schedules that would, with the
 * evaluation cost of that rate against the section's budget.
 */
function pairedPlanFinding(cp: NonNullable<ReleaseFacts['canaryPlan']>): string[] {
  const ev = cp.plan.evaluation;
  if (!ev) return [];
  const out: string[] = [];
  const schedules: [string, (SchedulePower & { readonly describe: string }) | undefined][] = [
    ['the code schedule', cp.current],
    ['the assigned config canary', cp.configCurrent],
  ];
  for (const [which, current] of schedules) {
    const mine = current?.byRegression.find((r) => r.regression === 'pairedPreference');
    if (!current || !mine || mine.power >= cp.plan.target) continue;
    const what =
      `at ${cp.traffic.requestsPerSecond} requests/s, evaluation samplingRate ${ev.samplingRate} and pairing rate ${which === 'the code schedule' ? `${ev.pairSamplingRate} (paired.samplingRate)` : `${ev.configPairSamplingRate} (paired.configSamplingRate)`} ${which} (${current.describe}) catches a canary that ` +
      `${mine.describe} (${Math.round(ev.decidedPairShare * 100)} % of pairs decided, results judged ${ev.resultDelaySeconds} s late) ` +
      `before full rollout ${Math.round(mine.power * 100)} % of the time, under the planned ${Math.round(cp.plan.target * 100)} %; `;
    out.push(what + pairedFix(cp, ev, which === 'the code schedule' ? 'code' : 'config'));
  }
  return out;
}

/**
 * paired.configSamplingRate is drawn only by a config canary whose share the runtime knows (configCanary 'assigned');
 * on AppConfig's rollout the runtime cannot tell the config canary, so a config rate of its own would pair nothing.
 */
function unusedConfigPairing(f: ReleaseFacts, cp: NonNullable<ReleaseFacts['canaryPlan']>): string[] {
  const ev = cp.plan.evaluation;
  if (!ev || f.config.assigned || ev.configPairSamplingRate === ev.pairSamplingRate) return [];
  return [
    `evaluation.paired.configSamplingRate ${ev.configPairSamplingRate} is not used: the runtime pairs a config canary at its own rate only on configCanary 'assigned' (it knows the share there); ` +
      `on AppConfig's rollout (${f.config.describe}) config releases are not paired apart from the code plane's rate; use configCanary 'assigned' or leave configSamplingRate out`,
  ];
}

function pairedFix(cp: NonNullable<ReleaseFacts['canaryPlan']>, ev: NonNullable<CanaryPlan['evaluation']>, plane: 'code' | 'config'): string {
  const r = ev.reaching;
  if (!r)
    return `no pairing rate up to 1 reaches it within canaryPlan.maxMinutes (${cp.plan.maxMinutes}); raise it, lower canaryPlan.minRegressions.pairedPreference's bar, or use an evaluator that decides more pairs`;
  const paired = (x: SchedulePower) => Math.round((x.byRegression.find((q) => q.regression === 'pairedPreference')?.power ?? 0) * 100);
  const steps = r.config.steps.map((x) => `{ percent: ${Math.round(x.share * 100)}, holdSeconds: ${x.minutes * 60} }`).join(', ');
  // Each plane's own field (paired.samplingRate: code; paired.configSamplingRate: the config canary), stated only where
  // the reaching rate differs from the stated one.
  const fields = [
    r.pairSamplingRate === ev.pairSamplingRate ? '' : `samplingRate: ${r.pairSamplingRate}`,
    r.configPairSamplingRate === ev.configPairSamplingRate ? '' : `configSamplingRate: ${r.configPairSamplingRate}`,
  ].filter((x) => x !== '');
  const rate = fields.length ? `paired: { ${fields.join(', ')} } with ` : '';
  const code = `trafficShift: ${r.code.call} would reach ${paired(r.code)} %`;
  const config = `configCanary schedule [${steps}] ${paired(r.config)} %`;
  const cost = cp.pairedCost;
  const rc = r.cost?.code;
  const costText = cost
    ? `; pairing at ${r.pairSamplingRate} costs about ${usd(cost.perReleaseUncappedUsd)} per release on that code schedule (${rc ? `${Math.round(rc.pairs).toLocaleString('en-US')} pairs ${usd(rc.pairsUsd)}, ${Math.round(rc.samples).toLocaleString('en-US')} scored ${usd(rc.scoringUsd)}; ` : ''}budget.perReleaseUsd ${usd(cost.budget.perReleaseUsd)}` +
      `${cost.perReleaseUncappedUsd > cost.budget.perReleaseUsd ? ': over it, so pairing would stop early and the power would not be reached; raise the budget or shorten the schedule' : ''}); steady-state scoring stays at samplingRate ${ev.samplingRate}: ` +
      `${usd(cost.perMonthUncappedUsd)} per month (budget.perDayUsd ${usd(cost.budget.perDayUsd)}${cost.dayBudgetHours < 24 ? `: pays for about ${Math.round(cost.dayBudgetHours * 10) / 10} h of scoring a day` : ''})`
    : '';
  const cc = r.cost?.config;
  const configCostText =
    cc && r.configPairSamplingRate !== ev.configPairSamplingRate
      ? `; pairing the config canary at ${r.configPairSamplingRate} costs about ${usd(cc.totalUsd)} per config release on that schedule (${Math.round(cc.pairs).toLocaleString('en-US')} pairs ${usd(cc.pairsUsd)}, ${Math.round(cc.samples).toLocaleString('en-US')} scored ${usd(cc.scoringUsd)}; budget.perReleaseUsd ${usd(r.cost?.perReleaseUsd ?? 0)}${cc.totalUsd > (r.cost?.perReleaseUsd ?? 0) ? ': over it' : ''})`
      : '';
  return plane === 'code' ? `${rate}${code} (config: ${config})${costText}${configCostText}` : `${rate}${config} (code: ${code})${costText}${configCostText}`;
}

/**
 * Issue 16 D4: the config plane rolls out through AppConfig's own rollout (configCanary 'appconfig') while the judge is
 * on and the traffic is stated. AppConfig tells execution environments, so the judge compares the configs only while
 * both serve, with the environment as the unit (lambda/judge/environments.ts), and its evidence is bounded by the
 * design: E environments pay at most E!. A warning: it names the judged time, the environments each planned
 * regression needs (0 % power below that, by construction), the simulated power, and the assigned schedule the
 * planner gives as the fix.
 */
export const RULE_APPCONFIG_CONFIG_JUDGED: ReleasePolicyRule = {
  id: 'config-canary-judged',
  severity: 'warning',
  description:
    "With the canary judge on and traffic stated, the config plane's canary can be judged: configCanary 'assigned' (per conversation), not AppConfig's rollout (per execution environment).",
  check: (f) => {
    const cp = f.canaryPlan;
    if (!cp || f.config.assigned) return [];
    const judged = appConfigJudgedSeconds(f.config);
    const needs = appConfigPower(cp.plan.config.byRegression)
      .map((r) => `${r.describe} needs ≥ ${r.environmentsNeeded}`)
      .join(', ');
    const sim = APPCONFIG_SIMULATED_POWER;
    const steps = cp.plan.config.steps.map((x) => `{ percent: ${Math.round(x.share * 100)}, holdSeconds: ${x.minutes * 60} }`).join(', ');
    return [
      `at ${cp.traffic.requestsPerSecond} requests/s the config plane rolls out through AppConfig (configCanary 'appconfig', ${f.config.describe}), which tells execution environments: ` +
        `the judge compares the configs only while both serve (about ${judged} s), with the environment as the unit, and E environments switching in that time give it at most E! of evidence, ` +
        `so each planned regression is caught 0 % of the time below the environments it needs (${needs}); simulated at ${sim.environments} environments and ${sim.requestsPerSecond} requests/s it catches errors x3 ${pct1(sim.errorsX3)} and 20 % errors ${pct1(sim.errors20Percent)} (bench/judge-config-rollout.ts); ` +
        `the threshold alarms are this path's rollback. configCanary: { schedule: [${steps}] } (per conversation, assigned) would reach ${Math.round(cp.plan.config.power * 100)} %${cp.plan.configReaches ? '' : cp.plan.configMaxMinutes < cp.plan.maxMinutes ? " (the best the config plane's budget holds)" : ' (the best within canaryPlan.maxMinutes)'}`,
    ];
  },
};

/**
 * Scores a minute (both versions) from which the code canary's score tests warn (h12-envscore). Chosen between the
 * two measured points, not measured itself: 1.5 a minute (the example: 0.5 % of 5 requests/s) rolled back 0–1 of
 * 1,000 good releases with environment offsets; 30 a minute (10 %) rolled back 7.1–18.9 % before the design effect
 * and about 1 % with it (bench/RESULTS.md § h11-eval17, § h12-envscore).
 */
export const CODE_SCORES_PER_MINUTE_WARN = 6;

/**
 * h12-envscore: the code plane's score tests at a high scoring rate. There an execution environment serves one
 * version, so an environment's own offset rides on its version's label; the judge tempers each score test by its
 * environments' design effect (lambda/judge/scores.ts), which is approximate with few environments and costs power
 * where environments differ. A warning naming the scores a minute, the measured rates and the fixes.
 */
export const RULE_CODE_SCORES_ENVIRONMENTS: ReleasePolicyRule = {
  id: 'code-canary-scores-environments',
  severity: 'warning',
  description:
    "The code canary's score tests (rubric criteria, checks, guardrail keys) at a scoring rate where each execution environment contributes many scores: their false-rollback bound is approximate there.",
  check: (f) => {
    const cp = f.canaryPlan;
    const rate = cp?.plan.evaluation?.samplingRate;
    const scored = (f.judgedEvaluation ?? []).filter((m) => m !== 'evaluation:paired');
    if (!cp || rate === undefined || scored.length === 0 || !(f.verdictAlarms ?? []).some((v) => v.plane === 'code')) return [];
    const perMinute = cp.traffic.requestsPerSecond * rate * 60;
    if (perMinute < CODE_SCORES_PER_MINUTE_WARN) return [];
    const safe = CODE_SCORES_PER_MINUTE_WARN / 60 / cp.traffic.requestsPerSecond;
    return [
      `at ${cp.traffic.requestsPerSecond} requests/s and evaluation samplingRate ${rate} the code canary's score tests (${scored.map((m) => m.replace('evaluation:', '')).join(', ')}) see about ${Math.round(perMinute)} scores a minute from a few execution environments, each serving one version: ` +
        "an environment's own offset (a slow vector store, a cold cache) rides on its version, so the judge tempers each score test by its environments' design effect, which is approximate with few environments " +
        `(measured at 30 scores a minute with environment offsets, bench/RESULTS.md § h12-envscore) and costs power where environments differ; ` +
        `keep samplingRate below ${Number(safe.toPrecision(2))} on the code plane (below ${CODE_SCORES_PER_MINUTE_WARN} scores a minute), judge the paired test (the same input on both versions: exact), or ship config changes with configCanary 'assigned' (conversations share environments)`,
    ];
  },
};

const pct1 = (x: number) => `${(Math.round(x * 1000) / 10).toFixed(1)} %`;

const usd = (x: number) => `${x < 10 ? x.toFixed(2) : Math.round(x).toLocaleString('en-US')} USD`;

/** The rules every release gets. Add your own by passing `policyRules: [...DEFAULT_POLICY_RULES, myRule]`. */
export const DEFAULT_POLICY_RULES: readonly ReleasePolicyRule[] = [
  RULE_REQUIRED_ALARMS,
  RULE_FIRST_STEP,
  RULE_ROLLBACK_BUDGET,
  RULE_CANARY_CAN_BE_JUDGED,
  RULE_REGRESSION_GATE,
  RULE_ALARM_FALSE_FIRE,
  RULE_CANARY_PLAN,
  RULE_APPCONFIG_CONFIG_JUDGED,
  RULE_CODE_SCORES_ENVIRONMENTS,
  RULE_EVALUATOR_AGREEMENT,
  RULE_RECORDS_SURVIVE_LOG_LEVEL,
];

export interface PolicyResult {
  readonly violations: readonly { readonly rule: string; readonly message: string }[];
  /** Findings of warning-severity rules: reported, not failing synth. */
  readonly warnings?: readonly { readonly rule: string; readonly message: string }[];
  readonly waived: readonly { readonly rule: string; readonly reason: string; readonly messages: readonly string[] }[];
}

/** Runs the rules; a waiver must name a known, waivable rule and give a reason of at least 20 characters. */
export function evaluatePolicy(facts: ReleaseFacts, rules: readonly ReleasePolicyRule[]): PolicyResult {
  const violations: { rule: string; message: string }[] = [];
  const warnings: { rule: string; message: string }[] = [];
  const waived: { rule: string; reason: string; messages: string[] }[] = [];
  for (const w of facts.waivers) {
    const rule = rules.find((r) => r.id === w.rule);
    if (!rule) violations.push({ rule: 'policy-waivers', message: `waiver for unknown rule "${w.rule}"; rules: ${rules.map((r) => r.id).join(', ')}` });
    else if (rule.waivable === false) violations.push({ rule: 'policy-waivers', message: `rule "${w.rule}" cannot be waived` });
    else if ((w.reason ?? '').trim().length < 20)
      violations.push({ rule: 'policy-waivers', message: `the waiver of "${w.rule}" needs a written reason of at least 20 characters` });
  }
  for (const rule of rules) {
    const messages = rule.check(facts);
    if (messages.length === 0) continue;
    const waiver = facts.waivers.find((w) => w.rule === rule.id && rule.waivable !== false && (w.reason ?? '').trim().length >= 20);
    if (waiver) waived.push({ rule: rule.id, reason: waiver.reason, messages });
    else (rule.severity === 'warning' ? warnings : violations).push(...messages.map((message) => ({ rule: rule.id, message })));
  }
  return { violations, warnings, waived };
}
