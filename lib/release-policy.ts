import type { AlarmKind } from './release-alarms';
import { formatSeconds, type PlaneWorstCase } from './worst-case';

/** What a release is, as the policy rules and the strategy card see it. Plain data. */
export interface ReleaseFacts {
  readonly serviceName: string;
  readonly owner?: string;
  readonly onCall?: string;
  readonly code: { readonly describe: string; readonly firstStepPercent: number; readonly steps: readonly [number, number][] };
  readonly config: {
    readonly describe: string;
    readonly firstStepPercent: number;
    readonly steps: readonly number[];
    readonly stepIntervalSeconds: number;
    readonly finalBakeMinutes: number;
  };
  readonly alarms: readonly {
    readonly kind: AlarmKind;
    readonly plane: 'code' | 'config';
    readonly name: string;
    readonly watches: string;
    readonly comparison: '>' | '<';
    readonly threshold: number;
    readonly unit: string;
  }[];
  readonly alarmWindow: {
    readonly periodSeconds: number;
    readonly datapointsToAlarm: number;
    readonly evaluationPeriods: number;
    readonly minInvocations: number;
  };
  readonly worstCase: { readonly code: PlaneWorstCase; readonly config: PlaneWorstCase };
  readonly rollbackBudgetSeconds: number;
  readonly degrade: {
    readonly switches: readonly string[];
    readonly environment: string;
    readonly profile: string;
    readonly application: string;
    /** Set when a cost guard switches to the fallback model on its own. */
    readonly costGuardMaxCostPerRequestUsd?: number;
  };
  readonly waivers: readonly PolicyWaiver[];
  /** The service's typical traffic, when stated: lets the policy check that a canary can be judged at all. */
  readonly expectedRequestsPerSecond?: number;
}

/** One rule every release must pass; returns what is wrong, or nothing. */
export interface ReleasePolicyRule {
  readonly id: string;
  readonly description: string;
  /** False for rules no written reason can set aside. @default true */
  readonly waivable?: boolean;
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
          'shorten alarms.period or alarms.datapointsToAlarm, or raise rollbackBudget',
      ),
};

/**
 * Low traffic must extend judgement, not skip it. The alarms stay quiet in a period with fewer than minInvocations
 * requests (so one unlucky request cannot roll back a good release); at low traffic that guard would let a canary
 * pass unjudged. Given the stated traffic, this rule checks that the new version gets enough requests per alarm
 * period during the first canary step, and enough breaching periods fit in that step.
 */
export const RULE_CANARY_CAN_BE_JUDGED: ReleasePolicyRule = {
  id: 'canary-can-be-judged',
  description: 'At the stated traffic, the first canary step sends the new version enough requests per alarm period, for long enough, to be judged.',
  check: (f) => {
    const rps = f.expectedRequestsPerSecond;
    if (rps === undefined || f.code.steps.length < 2) return [];
    const share = f.code.firstStepPercent / 100;
    const w = f.alarmWindow;
    const perPeriod = rps * share * w.periodSeconds;
    const out: string[] = [];
    if (perPeriod < w.minInvocations) {
      const period = Math.ceil(w.minInvocations / (rps * share) / 60) * 60;
      out.push(
        `at ${rps} requests/s a ${f.code.firstStepPercent} % canary gets ${round(perPeriod)} requests per ${w.periodSeconds}-second alarm period, fewer than minInvocations (${w.minInvocations}): its alarms would stay quiet; ` +
          `use alarms.period of ${period} s or more, a larger first step, or lower alarms.minInvocations`,
      );
    }
    const stepSeconds = f.code.steps[1][0] * 60;
    const needed = (w.datapointsToAlarm + 1) * w.periodSeconds;
    if (stepSeconds < needed) {
      out.push(
        `the first canary step lasts ${stepSeconds} s, shorter than the ${needed} s the alarms need to trip ((datapoints + 1) x period); lengthen the canary interval`,
      );
    }
    return out;
  },
};

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The rules every release gets. Add your own by passing `policyRules: [...DEFAULT_POLICY_RULES, myRule]`. */
export const DEFAULT_POLICY_RULES: readonly ReleasePolicyRule[] = [RULE_REQUIRED_ALARMS, RULE_FIRST_STEP, RULE_ROLLBACK_BUDGET, RULE_CANARY_CAN_BE_JUDGED];

export interface PolicyResult {
  readonly violations: readonly { readonly rule: string; readonly message: string }[];
  readonly waived: readonly { readonly rule: string; readonly reason: string; readonly messages: readonly string[] }[];
}

/** Runs the rules; a waiver must name a known, waivable rule and give a reason of at least 20 characters. */
export function evaluatePolicy(facts: ReleaseFacts, rules: readonly ReleasePolicyRule[]): PolicyResult {
  const violations: { rule: string; message: string }[] = [];
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
    else violations.push(...messages.map((message) => ({ rule: rule.id, message })));
  }
  return { violations, waived };
}
