/**
 * The line the canary judge reads for one evaluated sample (EVALUATION_RESULT_TYPE): the sample's time, sides and
 * case id with every score and the paired outcome, in one JSON log line of the evaluator function (less the checks the
 * runtime wrote for the answer, EvaluationSample.runtimeChecks). Pure.
 */
import { EVALUATION_RESULT_TYPE, type EvaluationResultLine, type EvaluationSample } from '../shared/evaluation';
import { scoreKey } from '../shared/score-keys';
import type { EvaluationResult } from './evaluator';

/** `environment`: the log stream the sample came from (the execution environment that answered), when known. */
export function evaluationResultLine(result: EvaluationResult, sample: EvaluationSample, environment?: string): EvaluationResultLine {
  const sampleAt = Date.parse(sample.time);
  if (!Number.isFinite(sampleAt)) throw new Error(`evaluation sample ${sample.sampleId}: time "${sample.time}" is not an ISO 8601 time`);
  const scores: Record<string, number> = {};
  // Checks the runtime owns for this answer's config are judged from its check-result lines (h9-checks): left out
  // here, so no check counts twice (the stored evaluation keeps them). One number per key otherwise: a model score, a
  // check and a guardrail score of one criterion keep keys of their own.
  const owned: readonly string[] = sample.runtimeChecks ?? [];
  for (const s of result.scores) if (!(s.source === 'deterministic' && owned.includes(s.criterion))) scores[scoreKey(s)] = s.score;
  return {
    type: EVALUATION_RESULT_TYPE,
    service: sample.service,
    sampleId: sample.sampleId,
    caseId: sample.caseId,
    arm: sample.arm,
    functionVersion: sample.functionVersion,
    config: sample.tuple.config,
    ...(sample.conversationId !== undefined ? { conversationId: sample.conversationId } : {}),
    sampleAt,
    ...(sample.armShare !== undefined ? { share: sample.armShare } : {}),
    ...(environment ? { environment } : {}),
    scores,
    ...(result.paired ? { paired: result.paired.outcome } : {}),
  };
}
