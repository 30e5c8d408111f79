/**
 * The evaluator's metrics as EMF lines (CloudWatch extracts them from the function's log): per service, executed
 * version and criterion, high-resolution so the canary judge's alarms can use short periods. Pure.
 */
import { DIMENSION, METRIC_NAMESPACE } from '../shared/contract';
import { EVALUATION_DIMENSION_CRITERION, EVALUATION_METRIC, type EvaluationSample } from '../shared/evaluation';
import { scoreKey } from '../shared/score-keys';
import type { EvaluationResult } from './evaluator';

export function evaluationMetricLines(result: EvaluationResult, sample: Pick<EvaluationSample, 'service' | 'functionVersion'>, now: number): string[] {
  const base = { [DIMENSION.SERVICE]: sample.service, [DIMENSION.VERSION]: sample.functionVersion };
  const lines: string[] = [];
  for (const s of result.scores) {
    lines.push(
      JSON.stringify({
        _aws: {
          Timestamp: now,
          CloudWatchMetrics: [
            {
              Namespace: METRIC_NAMESPACE,
              Dimensions: [[DIMENSION.SERVICE, DIMENSION.VERSION, EVALUATION_DIMENSION_CRITERION]],
              Metrics: [{ Name: EVALUATION_METRIC.SCORE, Unit: 'None', StorageResolution: 1 }],
            },
          ],
        },
        ...base,
        // The score's key: a guardrail's groundedness is `guardrail-groundedness`, apart from the model's.
        [EVALUATION_DIMENSION_CRITERION]: scoreKey(s),
        [EVALUATION_METRIC.SCORE]: s.score,
        source: s.source,
        sampleId: result.sampleId,
      }),
    );
  }
  const counts: [string, number][] = [[EVALUATION_METRIC.SPEND, result.costUsd]];
  if (result.skipped) counts.push([EVALUATION_METRIC.BUDGET_SKIPPED, 1]);
  if (result.paired) {
    counts.push([EVALUATION_METRIC.PAIRED_LOSS, result.paired.outcome === 'stable' ? 1 : 0]);
    counts.push([EVALUATION_METRIC.PAIRED_WIN, result.paired.outcome === 'canary' ? 1 : 0]);
    counts.push([EVALUATION_METRIC.PAIRED_TIE, result.paired.outcome === 'tie' ? 1 : 0]);
  }
  lines.push(
    JSON.stringify({
      _aws: {
        Timestamp: now,
        CloudWatchMetrics: [
          {
            Namespace: METRIC_NAMESPACE,
            Dimensions: [[DIMENSION.SERVICE, DIMENSION.VERSION]],
            Metrics: counts.map(([Name]) => ({ Name, Unit: Name === EVALUATION_METRIC.SPEND ? 'None' : 'Count', StorageResolution: 1 })),
          },
        ],
      },
      ...base,
      ...Object.fromEntries(counts),
      sampleId: result.sampleId,
      ...(result.skipped ? { skipped: result.skipped } : {}),
    }),
  );
  return lines;
}
