/**
 * One CloudWatch Logs delivery of evaluation samples, evaluated: decode, keep the samples of services with an
 * evaluation section, skip samples already scored (a re-delivered batch spends nothing twice), evaluate with bounded
 * concurrency (one budget reservation and one settle per service per delivery), keep each result in the regression store (written once, If-None-Match; a
 * sample the budget skipped too, with its deterministic checks), publish per-version metrics,
 * and turn scores under a rubric's floor into failure records of kind `quality` carrying the evaluator's reason, so
 * the snapshot pipeline makes them regression-case candidates like any other failure. Pure, behind ports.
 *
 * Which rubric: the LIVE environment's evaluation section (the stable version's), never the candidate's, so a release
 * is never judged by a rubric it changes itself.
 */
import { FAILURE_RECORD_TYPE, type FailureRecord } from '../shared/contract';
import { EVALUATION_SAMPLE_TYPE, type EvaluationConfig, type EvaluationSample, evaluationKey } from '../shared/evaluation';
import { guardrailLowDetail, guardrailLowScores } from '../shared/guardrail-scores';
import { type CloudWatchLogsEvent, decodeDelivery, extractRecord } from '../snapshot/snapshot';
import { mapLimit, type ObjectStore } from '../snapshot/store';
import { type EvaluationResult, type EvaluatorPorts, evaluateBatch } from './evaluator';

export interface DeliveryDeps {
  /** The evaluator's ports for one service: each service spends from its own ledger. */
  readonly evaluator: (service: string) => EvaluatorPorts;
  /** The live evaluation section of a service, or undefined when it has none (its samples are skipped). */
  readonly liveEvaluation: (service: string) => Promise<EvaluationConfig | undefined>;
  readonly store: ObjectStore;
  /**
   * The release the spend belongs to, per service, where the caller knows it.
   * @default told from the samples' version tuples (the release in progress, lambda/evaluator/budget.ts)
   */
  readonly releaseKey?: (service: string) => Promise<string | undefined>;
  /**
   * `logStream`: the delivery's log stream, the execution environment that wrote the sample (one stream per
   * environment: https://docs.aws.amazon.com/lambda/latest/operatorguide/log-structure.html); the result line names it
   * so the canary judge can take environments into account (lambda/judge/scores.ts, design effect).
   */
  readonly publish: (result: EvaluationResult, sample: EvaluationSample, logStream?: string) => void;
  /** Writes a failure record line (the snapshot subscription on the evaluator's log group collects it). */
  readonly writeFailureRecord: (record: FailureRecord) => void;
  readonly concurrency: number;
}

export interface DeliveryOutcome {
  readonly samples: number;
  readonly evaluated: number;
  readonly alreadyScored: number;
  readonly skippedNoSection: number;
  readonly skippedBudget: number;
  /** Pair-only samples (drawn by `evaluation.paired.samplingRate` alone) that were not a canary's: dropped unspent. */
  readonly droppedNotCanary: number;
  readonly rejected: readonly { readonly eventId: string; readonly reason: string }[];
  readonly candidates: number;
  /** Over-reservation left charged because the batch's refund kept losing ledger races (0 normally; never over a cap). */
  readonly unsettledUsd: number;
}

/** Checks a log line is a sample this version understands; the reason names the field. */
export function validateSample(v: unknown): string | undefined {
  if (!v || typeof v !== 'object') return 'not an object';
  const s = v as Record<string, unknown>;
  if (s.type !== EVALUATION_SAMPLE_TYPE) return `type is ${JSON.stringify(s.type)}, not ${EVALUATION_SAMPLE_TYPE}`;
  for (const k of ['service', 'sampleId', 'requestId', 'time', 'functionVersion', 'caseId', 'input', 'answer'] as const)
    if (typeof s[k] !== 'string') return `${k} is not a string`;
  if (s.arm !== 'canary' && s.arm !== 'stable') return `arm is ${JSON.stringify(s.arm)}, not canary or stable`;
  if (!s.tuple || typeof s.tuple !== 'object') return 'tuple is missing';
  for (const k of ['passages', 'citations', 'toolCalls'] as const) if (!Array.isArray(s[k])) return `${k} is not a list`;
  if (s.runtimeChecks !== undefined && !(Array.isArray(s.runtimeChecks) && s.runtimeChecks.every((c) => typeof c === 'string')))
    return 'runtimeChecks is not a list of check names';
  return undefined;
}

/**
 * Why a scored sample is a regression-case candidate: the evaluator model's scores under their rubric's floor, and
 * the guardrail's contextual grounding scores under the guardrail's own thresholds (the sample's `guardrail`: no
 * model call, so also when the budget skipped the model). Empty: not a candidate.
 */
export function candidateDetails(sample: EvaluationSample, result: EvaluationResult): string[] {
  return [
    ...result.belowFloor.map((b) => `evaluator: ${b.criterion} scored ${b.score} (${b.reason})`),
    // A pair-only sample is compared, never scored: its guardrail scores are not read either (as its checks).
    ...(sample.pairOnly === true || result.dropped ? [] : guardrailLowScores(sample.guardrail).map(guardrailLowDetail)),
  ].slice(0, 20);
}

/** The failure record a low score becomes: kind `quality`, with the evaluator's and the guardrail's reasons as details. */
export function lowScoreRecord(sample: EvaluationSample, result: EvaluationResult): FailureRecord {
  return {
    type: FAILURE_RECORD_TYPE,
    schemaVersion: 1,
    kind: 'quality',
    kinds: ['quality'],
    service: sample.service,
    requestId: sample.requestId,
    time: sample.time,
    tuple: sample.tuple,
    measurements: { latencyMs: 0, inputTokens: sample.inputTokens, outputTokens: sample.outputTokens },
    input: sample.input,
    output: sample.answer,
    details: candidateDetails(sample, result),
    truncated: false,
  };
}

export async function evaluateDelivery(event: CloudWatchLogsEvent, deps: DeliveryDeps): Promise<DeliveryOutcome> {
  const data = decodeDelivery(event);
  const rejected: { eventId: string; reason: string }[] = [];
  const samples: EvaluationSample[] = [];
  for (const e of data.logEvents ?? []) {
    const v = extractRecord(e.message);
    const reason = validateSample(v);
    if (reason) rejected.push({ eventId: e.id, reason });
    else samples.push(v as EvaluationSample);
  }
  const counts = { evaluated: 0, alreadyScored: 0, skippedNoSection: 0, skippedBudget: 0, droppedNotCanary: 0, candidates: 0, unsettledUsd: 0 };
  const configs = new Map<string, Promise<EvaluationConfig | undefined>>();
  const releases = new Map<string, Promise<string | undefined>>();
  const once = <T>(m: Map<string, Promise<T>>, k: string, f: (k: string) => Promise<T>) => {
    if (!m.has(k)) m.set(k, f(k));
    return m.get(k) as Promise<T>;
  };
  // First the cheap part, per sample: the live section and whether the sample was already scored.
  const todo = new Map<string, { config: EvaluationConfig; samples: EvaluationSample[] }>();
  await mapLimit(samples, Math.max(1, deps.concurrency), async (sample) => {
    const config = await once(configs, sample.service, deps.liveEvaluation);
    if (!config) {
      counts.skippedNoSection++;
      return;
    }
    // A re-delivered sample was already paid for: never evaluate it twice.
    if (await deps.store.exists(evaluationKey(sample.service, sample.sampleId))) {
      counts.alreadyScored++;
      return;
    }
    const t = todo.get(sample.service) ?? { config, samples: [] };
    t.samples.push(sample);
    todo.set(sample.service, t);
  });
  // Then each service's samples as one batch: one ledger update reserves for all of them, one settles (evaluator.ts).
  for (const [service, { config, samples: batch }] of todo) {
    const named = deps.releaseKey ? await once(releases, service, deps.releaseKey) : undefined;
    const results = await evaluateBatch(batch, config, deps.evaluator(service), named ? { releaseKey: named } : {}, {
      concurrency: deps.concurrency,
      onResult: async (result, sample) => {
        const written = await deps.store.put(
          evaluationKey(sample.service, sample.sampleId),
          JSON.stringify({ sample, result, evaluation: config.version ?? null }),
          {
            condition: { ifNoneMatch: '*' },
          },
        );
        if (written === 'precondition-failed') {
          // A concurrent delivery of the same sample scored it first; its result stands, ours is not published.
          counts.alreadyScored++;
          return;
        }
        counts.evaluated++;
        deps.publish(result, sample, data.logStream);
        if (candidateDetails(sample, result).length > 0) {
          counts.candidates++;
          deps.writeFailureRecord(lowScoreRecord(sample, result));
        }
      },
    });
    for (const [i, result] of results.entries()) {
      if (result.dropped) counts.droppedNotCanary++;
      if (result.skipped) {
        counts.skippedBudget++;
        // Kept like a scored one (its deterministic checks, and that the budget skipped it), so the review can say
        // which share of each arm the model scored; a re-delivery then decides nothing again.
        const written = await deps.store.put(
          evaluationKey(batch[i].service, batch[i].sampleId),
          JSON.stringify({ sample: batch[i], result, evaluation: config.version ?? null }),
          { condition: { ifNoneMatch: '*' } },
        );
        if (written !== 'precondition-failed') {
          deps.publish(result, batch[i], data.logStream);
          // The guardrail's low scores cost nothing to read: a skipped sample is still a candidate on them.
          if (candidateDetails(batch[i], result).length > 0) {
            counts.candidates++;
            deps.writeFailureRecord(lowScoreRecord(batch[i], result));
          }
        }
      }
      if (result.unsettledUsd !== undefined) counts.unsettledUsd += result.unsettledUsd;
    }
  }
  return { samples: samples.length, ...counts, rejected };
}
