/**
 * An evaluator you can trust (issue 17 F), at synth: the release policy's rule on the evaluator's measured agreement
 * with people, the canary card's lines, and the check of the stated agreement. The agreement itself is measured from
 * the regression store (`cdk-ai-release regression agreement <service> --json`, lambda/shared/label-store.ts) and
 * stated on AiRelease as `evaluatorAgreement`; synth reads no AWS account.
 */
import { describeAgreement, type EvaluatorAgreement } from '../../lambda/shared/evaluator-agreement';
import type { ReleaseFacts, ReleasePolicyRule } from './release-policy';

export interface EvaluatorAgreementRuleOptions {
  /**
   * The lowest acceptable agreement (share of labelled answers on which the evaluator and people agree), compared with
   * the 95 % Wilson interval's LOWER bound, so that a few lucky labels do not pass.
   * @default 0.8
   */
  readonly minAccuracy?: number;
  /** Fewest labelled answers the evaluator also scored before agreement counts as known. @default 30 */
  readonly minLabels?: number;
  /** `error` refuses synth instead of warning. @default 'warning' */
  readonly severity?: 'error' | 'warning';
}

const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;

/**
 * Warns when a service's answers are scored by an evaluator whose agreement with people is unknown (no stated
 * measurement, or fewer than `minLabels` compared labels) or whose 95 % Wilson lower bound is under `minAccuracy`.
 * The evaluator's scores feed regression-case candidates (and, with the judge's use of evaluation, the canary's
 * verdict): an evaluator nobody checked decides what "good" means.
 */
export function evaluatorAgreementRule(options: EvaluatorAgreementRuleOptions = {}): ReleasePolicyRule {
  const floor = options.minAccuracy ?? 0.8;
  const minLabels = options.minLabels ?? 30;
  if (!(floor > 0 && floor < 1))
    throw new Error(`evaluatorAgreementRule minAccuracy must be a fraction in (0, 1), got ${floor}; 0.8 = 80 % of labelled answers`);
  if (!(Number.isInteger(minLabels) && minLabels >= 1))
    throw new Error(`evaluatorAgreementRule minLabels must be a whole number of at least 1, got ${minLabels}`);
  return {
    id: 'evaluator-agreement',
    severity: options.severity ?? 'warning',
    description: `The evaluator's agreement with people's labels is measured on at least ${minLabels} labelled answers, and its 95 % Wilson lower bound is at least ${pct(floor)}.`,
    check: (f) => {
      const e = f.evaluator;
      if (!e) return [];
      const how =
        `label answers (\`cdk-ai-release regression label ${f.serviceName} <case-or-sample-id> good|bad\`: any case or scored evaluation sample; promote and retire count too), ` +
        `measure (\`cdk-ai-release regression agreement ${f.serviceName} --json\`) and pass the result as evaluatorAgreement`;
      const a = e.agreement;
      if (!a) return [`the evaluator (${e.modelId}) scores ${f.serviceName}'s answers, but its agreement with people is unknown; ${how}`];
      if (a.compared < minLabels || !a.interval)
        return [
          `the evaluator's agreement with people is measured on ${a.compared} labelled answer${a.compared === 1 ? '' : 's'} (measured ${a.measuredAt}), fewer than minLabels ${minLabels}; ${how}`,
        ];
      if (a.interval.low < floor)
        return [
          `the evaluator's agreement with people is ${pct(a.accuracy ?? 0)} on ${a.compared} labelled answers, its 95 % Wilson lower bound ${pct(a.interval.low)} under ${pct(floor)} ` +
            `(it flagged ${a.confusion.badGood} answers people found good and passed ${a.confusion.goodBad} they found bad; measured ${a.measuredAt}); ` +
            `fix the rubrics (evaluation.yaml) or the evaluator model where it disagrees, then measure again (\`cdk-ai-release regression agreement ${f.serviceName} --json\`)`,
        ];
      return [];
    },
  };
}

export const RULE_EVALUATOR_AGREEMENT: ReleasePolicyRule = evaluatorAgreementRule();

/** The canary card's lines on the evaluator's trustworthiness (none when the service is not evaluated). */
export function renderEvaluatorTrustSection(f: ReleaseFacts): string[] {
  const e = f.evaluator;
  if (!e) return [];
  const a = e.agreement;
  return [
    '## Evaluator agreement with people',
    '',
    `Evaluator model \`${e.modelId}\`: ${describeAgreement(a)}.` +
      (a?.source ? ` Source: ${a.source}.` : '') +
      (a ? '' : ` Measure it with \`cdk-ai-release regression agreement ${f.serviceName} --json\` and pass it as evaluatorAgreement.`),
    '',
  ];
}

/** Checks a stated agreement (AiRelease `evaluatorAgreement`): the message names the field and the fix. */
export function checkEvaluatorAgreement(a: EvaluatorAgreement, field = 'evaluatorAgreement'): void {
  const fix = `pass what \`cdk-ai-release regression agreement <service> --json\` prints`;
  const whole = (k: 'labels' | 'compared' | 'agree') => {
    const v = a?.[k];
    if (!(Number.isInteger(v) && v >= 0)) throw new Error(`${field}.${k} must be a whole number of at least 0, got ${JSON.stringify(v)}; ${fix}`);
  };
  whole('labels');
  whole('compared');
  whole('agree');
  if (a.agree > a.compared || a.compared > a.labels)
    throw new Error(`${field} must have agree <= compared <= labels, got ${a.agree}, ${a.compared}, ${a.labels}; ${fix}`);
  const c = a.confusion;
  if (!c || c.badBad + c.goodGood !== a.agree || c.badBad + c.badGood + c.goodBad + c.goodGood !== a.compared)
    throw new Error(`${field}.confusion must add up to agree (${a.agree}) and compared (${a.compared}); ${fix}`);
  if (a.compared > 0 && (a.accuracy === undefined || Math.abs(a.accuracy - a.agree / a.compared) > 1e-9))
    throw new Error(`${field}.accuracy must be agree / compared (${a.agree / a.compared}), got ${a.accuracy}; ${fix}`);
  if (a.interval && !(a.interval.low >= 0 && a.interval.low <= (a.accuracy ?? 0) && (a.accuracy ?? 0) <= a.interval.high && a.interval.high <= 1))
    throw new Error(`${field}.interval must hold the accuracy within 0..1, got ${JSON.stringify(a.interval)}; ${fix}`);
  if (typeof a.measuredAt !== 'string' || Number.isNaN(Date.parse(a.measuredAt)))
    throw new Error(`${field}.measuredAt must be an ISO-8601 time, got ${JSON.stringify(a.measuredAt)}; ${fix}`);
}
