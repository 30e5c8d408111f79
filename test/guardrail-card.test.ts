/**
 * The card on the release config's guardrail (h9-guardrail, issue 17 A, item 3): whether its contextual grounding
 * scores are judged, recorded or unused, and what the config cannot tell (the policy, the trace, the qualifiers).
 */
import { guardrailFactsOf, guardrailLine } from '../lib/rollout/guardrail-facts';

const GUARDRAIL = { guardrail: { id: 'abcd1234', version: '2' } };
const JUDGED = ['evaluation:groundedness', 'evaluation:guardrail-groundedness', 'evaluation:guardrail-relevance', 'evaluation:paired'];

describe('guardrail facts', () => {
  test.each([
    ['no guardrail', { model: {} }, true, JUDGED, undefined],
    ['a guardrail, its scores judged', { model: GUARDRAIL, evaluation: {} }, true, JUDGED, 'judged'],
    ['a guardrail, an evaluator, scores not judged', { model: GUARDRAIL, evaluation: {} }, true, ['evaluation:groundedness'], 'recorded'],
    ['only one of the two judged is not judged', { model: GUARDRAIL, evaluation: {} }, true, ['evaluation:guardrail-groundedness'], 'recorded'],
    ['a guardrail, no evaluation section', { model: GUARDRAIL }, false, [], 'unused'],
    ['a guardrail, a section but the evaluator off', { model: GUARDRAIL, evaluation: {} }, false, [], 'unused'],
  ] as const)('%s', (_name, config, evaluatorOn, judged, scores) => {
    const f = guardrailFactsOf(config, evaluatorOn, judged);
    expect(f.guardrail?.scores).toBe(scores);
    if (scores) expect(f.guardrail).toMatchObject({ id: 'abcd1234', version: '2' });
  });

  test.each([
    ['judged', /scores are \*\*judged\*\* by the canary judge \(`evaluation:guardrail-groundedness`, `evaluation:guardrail-relevance`\)/],
    ['recorded', /\*\*recorded, not judged\*\*.*`evaluation\.guardrailScores: true` has the judge judge them/],
    ['unused', /\*\*not consumed\*\* \(no evaluator runs/],
  ] as const)('the card line, %s: says so, and what the config cannot tell', (scores, says) => {
    const line = guardrailLine({ id: 'abcd1234', version: '2', scores });
    expect(line).toMatch(/^\*\*Guardrail:\*\* `abcd1234` version 2; /);
    expect(line).toMatch(says);
    expect(line).toMatch(/cannot tell whether the guardrail has a contextual grounding policy, whether the service enables its trace/);
  });

  test('no guardrail, no line', () => expect(guardrailLine(undefined)).toBeUndefined());
});
