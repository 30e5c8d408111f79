/**
 * What the card says of the release config's `model.guardrail` (h9-guardrail, issue 17 A): whether the Bedrock
 * guardrail's contextual grounding scores are consumed, and what the config cannot tell. Pure.
 *
 * - `judged`: `evaluation.guardrailScores` is on and the canary judge judges `guardrail-groundedness` and
 *   `guardrail-relevance` with its other evaluation metrics; the evaluator stores them and the review shows them.
 * - `recorded`: an evaluator runs but `guardrailScores` is off: the scores sampled answers carry are stored and
 *   shown by the review, never judged.
 * - `unused`: no evaluator (no `evaluation` section, or `evaluation: false`): nothing reads them.
 *
 * What the config cannot tell: whether the guardrail HAS a contextual grounding policy (the config names the
 * guardrail by id and version only), whether the service's Converse call enables its trace (`guardrailConfig.trace`
 * is the service's code), and whether the request marks a grounding source and a query (guardContent qualifiers
 * `grounding_source` and `query`, which the check needs). Any of them missing, answers carry no scores: a judged
 * criterion without scores never rolls back (the judge's minimum count), so the loss is silent. The card says so,
 * and the review shows how many sampled answers carried scores (its score rows' counts).
 */
import { GUARDRAIL_CRITERIA } from '../../lambda/shared/guardrail-scores';
import { scoreKey } from '../../lambda/shared/score-keys';

export interface GuardrailFacts {
  readonly id: string;
  readonly version: string;
  readonly scores: 'judged' | 'recorded' | 'unused';
}

/** The facts of a release config's guardrail, as a spread into ReleaseFacts (empty without a guardrail). */
export function guardrailFactsOf(
  config: { readonly [section: string]: unknown },
  evaluatorOn: boolean,
  judgedEvaluation: readonly string[],
): { guardrail?: GuardrailFacts } {
  const g = (config.model as { guardrail?: { id?: unknown; version?: unknown } } | undefined)?.guardrail;
  if (!g || typeof g.id !== 'string' || typeof g.version !== 'string') return {};
  const judged = GUARDRAIL_CRITERIA.every((c) => judgedEvaluation.includes(`evaluation:${scoreKey({ criterion: c, source: 'guardrail' })}`));
  return { guardrail: { id: g.id, version: g.version, scores: judged ? 'judged' : evaluatorOn && config.evaluation ? 'recorded' : 'unused' } };
}

/** The card's line on the guardrail. */
export function guardrailLine(g: GuardrailFacts | undefined): string | undefined {
  if (!g) return undefined;
  const what =
    g.scores === 'judged'
      ? 'its contextual grounding scores are **judged** by the canary judge (`evaluation:guardrail-groundedness`, `evaluation:guardrail-relevance`) and shown by the review'
      : g.scores === 'recorded'
        ? 'its contextual grounding scores are **recorded, not judged**: the evaluator stores those sampled answers carry and the review shows them (`evaluation.guardrailScores: true` has the judge judge them)'
        : 'its contextual grounding scores are **not consumed** (no evaluator runs: no `evaluation` section)';
  return (
    `**Guardrail:** \`${g.id}\` version ${g.version}; ${what}. ` +
    'The config cannot tell whether the guardrail has a contextual grounding policy, whether the service enables its trace (`guardrailConfig.trace`) and hands it to the runtime (`evaluation.guardrailTrace` of its result), or whether the request marks a grounding source and a query; without them answers carry no scores, and a criterion without scores never rolls back.'
  );
}
