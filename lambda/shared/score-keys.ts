/**
 * The keys evaluator scores are written, emitted as metrics, judged, gated and reviewed under (issue 17 A). One
 * answer can be scored on one criterion by several evaluators: the model's rubric, a deterministic check and the
 * Bedrock guardrail's contextual grounding check. Each keeps a key of its own, so a model's refusal score and the
 * refusal check's outcome, or the model's groundedness and the guardrail's, never overwrite or average each other in
 * a result line (one number per key), a metric (one Criterion dimension value per key), the judge (one test per key)
 * or the review (one row per key).
 *
 * - model rubric: the criterion (`groundedness`, `refusal`, …);
 * - deterministic check: the check's name (`citation-validity`, `refusal-phrase`, …);
 * - guardrail: `guardrail-<criterion>` (`guardrail-groundedness`, `guardrail-relevance`).
 *
 * Pure, no SDK.
 */
import type { CriterionScore, DeterministicCheckName } from './evaluation';

/** The deterministic refusal check's key: 1 = no refusal phrase found, 0 = one was (like `forbidden-pattern`). */
export const REFUSAL_CHECK = 'refusal-phrase' satisfies DeterministicCheckName;

/**
 * The refusal check's key until h9-guardrail: `refusal`, the refusal rubric's name too. Stored results (S3) and
 * result lines (the evaluator's log) written before the rename still carry it; `upgradeStoredScore` and
 * `upgradeResultScores` read them as the check under its new key. Keep them while such records can still be read:
 * a review reads its release's samples, the judge the lines of the release in progress.
 */
export const LEGACY_REFUSAL_CHECK = 'refusal';

/** The prefix of a guardrail score's key. */
export const GUARDRAIL_KEY_PREFIX = 'guardrail-';

/** The key of one score (see the file's comment). */
export function scoreKey(s: Pick<CriterionScore, 'criterion' | 'source'>): string {
  return s.source === 'guardrail' ? `${GUARDRAIL_KEY_PREFIX}${s.criterion}` : s.criterion;
}

/**
 * A stored score as today's code reads it. A stored result names each score's source, so the old key is not
 * ambiguous there: the deterministic `refusal` is the refusal check, now REFUSAL_CHECK; a model's `refusal` stays.
 */
export function upgradeStoredScore(s: CriterionScore): CriterionScore {
  return s.source === 'deterministic' && (s.criterion as string) === LEGACY_REFUSAL_CHECK ? { ...s, criterion: REFUSAL_CHECK } : s;
}

/**
 * A result line's scores as today's judge reads them. A line is a map from key to score, without sources, so the
 * old key is read by the rule the judge had then: before the rename a result line of a scored sample always carried
 * the refusal check (it runs on every scored sample), and a refusal rubric's score, scored after the checks,
 * replaced it under the same key. So a line without REFUSAL_CHECK is an old one, and its `refusal` is the rubric's
 * score when the judge judges a refusal rubric (as the judge read it then), else the check's (renamed).
 */
export function upgradeResultScores(scores: Readonly<Record<string, unknown>>, refusalRubricJudged: boolean): Readonly<Record<string, unknown>> {
  if (!(LEGACY_REFUSAL_CHECK in scores) || REFUSAL_CHECK in scores || refusalRubricJudged) return scores;
  const { [LEGACY_REFUSAL_CHECK]: check, ...rest } = scores;
  return { ...rest, [REFUSAL_CHECK]: check };
}
