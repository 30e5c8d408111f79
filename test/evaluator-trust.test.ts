/**
 * An evaluator you can trust (issue 17 F) at synth: the release policy's evaluator-agreement rule (table-driven on
 * facts), the canary card's section and AiRelease's `evaluatorAgreement` prop (checked, shown, warned on).
 */
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { computeAgreement, type EvaluatorAgreement } from '../lambda/shared/evaluator-agreement';
import { ReleaseConfigSource, renderCanaryCard } from '../lib';
import { checkEvaluatorAgreement, evaluatorAgreementRule, RULE_EVALUATOR_AGREEMENT } from '../lib/rollout/evaluator-trust';
import { DEFAULT_POLICY_RULES, type ReleaseFacts } from '../lib/rollout/release-policy';
import { testRelease, validConfig } from './helpers';

const AT = '2026-12-06T18:00:00.000Z';
const MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';

/** A measured agreement: `agree` of `compared` labelled answers agree (bad/bad and good/good split evenly), plus unscored labels. */
function measured(agree: number, compared: number, unscored = 0): EvaluatorAgreement {
  const pairs = [
    ...Array.from({ length: agree }, (_, i) => ({ caseId: `a${i}`, people: i % 2 ? 'good' : 'bad', evaluator: i % 2 ? 'good' : 'bad' }) as const),
    ...Array.from({ length: compared - agree }, (_, i) => ({ caseId: `d${i}`, people: 'good', evaluator: 'bad' }) as const),
    ...Array.from({ length: unscored }, (_, i) => ({ caseId: `u${i}`, people: 'bad', evaluator: undefined }) as const),
  ];
  return computeAgreement(pairs, AT, 's3://store/evaluations/assistant/labels.json');
}

const facts = (evaluator: ReleaseFacts['evaluator']) => ({ serviceName: 'assistant', evaluator }) as unknown as ReleaseFacts;

describe('the evaluator-agreement rule', () => {
  test('is a default rule, a warning', () => {
    expect(DEFAULT_POLICY_RULES).toContain(RULE_EVALUATOR_AGREEMENT);
    expect(RULE_EVALUATOR_AGREEMENT.severity).toBe('warning');
  });

  test.each<[string, ReleaseFacts['evaluator'], string | undefined]>([
    ['a service that is not evaluated: nothing to check', undefined, undefined],
    [
      'evaluated, agreement not stated: unknown',
      { modelId: MODEL },
      `the evaluator (${MODEL}) scores assistant's answers, but its agreement with people is unknown`,
    ],
    [
      '10 compared labels (and 40 unscored): too few',
      { modelId: MODEL, agreement: measured(10, 10, 40) },
      'measured on 10 labelled answers (measured 2026-12-06T18:00:00.000Z), fewer than minLabels 30',
    ],
    // 28/30 = 93 %, but the Wilson lower bound is 78.7 %: not yet shown to be at least 80 %.
    [
      '28 of 30: a high rate whose lower bound is under the floor',
      { modelId: MODEL, agreement: measured(28, 30) },
      'its 95 % Wilson lower bound 78.7 % under 80 %',
    ],
    ['30 of 30: lower bound 88.6 %, passes', { modelId: MODEL, agreement: measured(30, 30) }, undefined],
    [
      '170 of 200 (85 %, lower bound 79.4 %): warns',
      { modelId: MODEL, agreement: measured(170, 200) },
      'is 85 % on 200 labelled answers, its 95 % Wilson lower bound 79.4 % under 80 %',
    ],
    ['180 of 200 (90 %, lower bound 85.1 %): passes', { modelId: MODEL, agreement: measured(180, 200) }, undefined],
  ])('%s', (_what, evaluator, message) => {
    const out = RULE_EVALUATOR_AGREEMENT.check(facts(evaluator));
    if (message === undefined) expect(out).toEqual([]);
    else {
      expect(out).toHaveLength(1);
      expect(out[0]).toContain(message);
      expect(out[0]).toContain('`cdk-ai-release regression ');
    }
  });

  test('the floor and the label count are options; bad options name the value', () => {
    const strict = evaluatorAgreementRule({ minAccuracy: 0.9, minLabels: 50 });
    expect(strict.check(facts({ modelId: MODEL, agreement: measured(180, 200) }))[0]).toContain('lower bound 85.1 % under 90 %');
    expect(strict.check(facts({ modelId: MODEL, agreement: measured(40, 40) }))[0]).toContain('fewer than minLabels 50');
    expect(evaluatorAgreementRule({ severity: 'error' }).severity).toBe('error');
    expect(() => evaluatorAgreementRule({ minAccuracy: 80 })).toThrow('minAccuracy must be a fraction in (0, 1), got 80');
    expect(() => evaluatorAgreementRule({ minLabels: 0 })).toThrow('minLabels must be a whole number of at least 1, got 0');
  });
});

describe('AiRelease evaluatorAgreement', () => {
  const evaluated = () => {
    const c = validConfig();
    c.evaluation = {
      evaluatorModel: { modelId: MODEL, pricing: { inputPer1kTokensUsd: 0.003, outputPer1kTokensUsd: 0.015 } },
      rubrics: [{ criterion: 'relevance', instructions: 'Answers the question asked.' }],
      samplingRate: 0.05,
      budget: { perReleaseUsd: 5, perDayUsd: 20 },
    };
    return ReleaseConfigSource.fromObject(c);
  };
  const warnings = (stack: Parameters<typeof Annotations.fromStack>[0]) =>
    Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('evaluator-agreement'));

  test('unknown: the card says so and how to measure it; synth warns', () => {
    const { r, stack } = testRelease({ config: evaluated() });
    const card = renderCanaryCard(r.facts, r.policy);
    expect(card).toContain('## Evaluator agreement with people');
    expect(card).toContain(`Evaluator model \`${MODEL}\`: evaluator agreement with people: unknown`);
    expect(card).toContain('`cdk-ai-release regression agreement assistant --json`');
    expect(warnings(stack)).toHaveLength(1);
  });

  test('stated: the card shows the figures, the label count and the source; no warning when it clears the floor', () => {
    const { r, stack } = testRelease({ config: evaluated(), evaluatorAgreement: measured(190, 200, 12) });
    const card = renderCanaryCard(r.facts, r.policy);
    expect(card).toContain('95 % (95 % Wilson interval 91 %–97.3 %) on 200 labelled answers (12 more labels not scored by the evaluator)');
    expect(card).toContain('Source: s3://store/evaluations/assistant/labels.json.');
    expect(warnings(stack)).toHaveLength(0);
  });

  test('a service without an evaluation section: no section, no warning', () => {
    const { r, stack } = testRelease();
    expect(renderCanaryCard(r.facts, r.policy)).not.toContain('Evaluator agreement');
    expect(warnings(stack)).toHaveLength(0);
  });

  test.each<[string, (a: EvaluatorAgreement) => unknown, string]>([
    ['agree above compared', (a) => ({ ...a, agree: a.compared + 1 }), 'evaluatorAgreement must have agree <= compared <= labels'],
    [
      'a confusion table that does not add up',
      (a) => ({ ...a, confusion: { ...a.confusion, badBad: a.confusion.badBad + 1 } }),
      'evaluatorAgreement.confusion must add up',
    ],
    ['an accuracy that is not agree / compared', (a) => ({ ...a, accuracy: 0.99 }), 'evaluatorAgreement.accuracy must be agree / compared'],
    ['a fractional label count', (a) => ({ ...a, labels: 2.5 }), 'evaluatorAgreement.labels must be a whole number'],
    ['no measurement time', (a) => ({ ...a, measuredAt: 'yesterday' }), 'evaluatorAgreement.measuredAt must be an ISO-8601 time, got "yesterday"'],
  ])('a stated agreement with %s is refused, naming the field and the fix', (_what, change, message) => {
    const bad = change(measured(20, 30)) as EvaluatorAgreement;
    expect(() => checkEvaluatorAgreement(bad)).toThrow(message);
    expect(() => testRelease({ config: evaluated(), evaluatorAgreement: bad })).toThrow('cdk-ai-release regression agreement <service> --json');
  });
});
