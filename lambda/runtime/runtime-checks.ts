/**
 * The deterministic checks on the request path (issue 17 A/E, h9-checks): the runtime computes the evaluation
 * section's checks (citation validity, refusal, language match, length, forbidden patterns) on every answer, or on
 * `evaluation.checkSamplingRate` of them, and writes the outcomes as one compact check-result line (CHECK_RESULT_TYPE:
 * no input or answer text, so nothing to redact). The canary judge reads those lines as it reads the evaluator's
 * check scores (same criterion names, same family share); the evaluator leaves the checks the runtime owns out of its
 * result lines. The checks are the evaluator's own functions (lambda/evaluator/deterministic.ts: pure, no SDK), made
 * ready once per config (patterns compiled), so the request path runs only string scans.
 *
 * Pure and synchronous: no network, no clock, no SDK.
 */
import { sha256Hex } from '../shared/canonical-json';
import {
  CHECK_RESULT_TYPE,
  type CheckResultLine,
  checkSamplingRateOf,
  type DeterministicCheckName,
  type EvaluationConfig,
  runtimeOwnedChecks,
} from '../shared/evaluation';
import { checkOutcomes, type PreparedChecks, prepareChecks } from '../evaluator/deterministic';

/** A section's runtime checks, made ready once: the checks it owns, their compiled settings, its check rate. */
export interface RuntimeChecks {
  readonly names: readonly DeterministicCheckName[];
  readonly prepared: PreparedChecks;
  readonly rate: number;
}

const READY = new WeakMap<EvaluationConfig, RuntimeChecks | null>();

/**
 * The runtime checks of an evaluation section, cached by the section object (a served config keeps its object until
 * it changes). Undefined when the runtime owns no check (checkSamplingRate 0, or every check off). Throws on a bad
 * `checkSamplingRate` or forbidden pattern, naming the field (validation at synth refuses both first).
 */
export function runtimeChecksOf(evaluation: EvaluationConfig): RuntimeChecks | undefined {
  const cached = READY.get(evaluation);
  if (cached !== undefined) return cached ?? undefined;
  const rate = checkSamplingRateOf(evaluation);
  if (!(typeof rate === 'number' && rate >= 0 && rate <= 1))
    throw new Error(
      `evaluation.checkSamplingRate must be a number from 0 to 1 (got ${JSON.stringify(rate)}); 1 checks every answer, 0 leaves the checks to the evaluator`,
    );
  const names = runtimeOwnedChecks(evaluation);
  const ready = names.length > 0 ? { names, prepared: prepareChecks(evaluation.deterministic), rate } : null;
  READY.set(evaluation, ready);
  return ready ?? undefined;
}

/** Whether the check sampler draws this answer: every answer at rate 1 (no hash), else a hash of the request id. */
export function checkDrawn(requestId: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (!(rate > 0)) return false;
  return Number.parseInt(sha256Hex(`check-sample\n${requestId}`).slice(0, 13), 16) / 2 ** 52 < rate;
}

export interface AnswerToCheck {
  readonly service: string;
  readonly requestId: string;
  /** Epoch ms of the answer. */
  readonly at: number;
  readonly functionVersion: string;
  readonly config: string;
  /** The config canary's unit (a keyed hash), when assigned during a release: hashed again as the sample does. */
  readonly unit?: string;
  /** The config release's share, when assigned during a release (0 < share < 1). */
  readonly share?: number;
  readonly caseId?: string;
  /** The input's JSON (the language check's question) and the answer text, as the evaluation sample would carry them. */
  readonly input: string;
  readonly answer: string;
  readonly passages?: readonly { readonly id: string }[];
  readonly citations?: readonly string[];
}

/** The check-result line of one answer. */
export function checkResultLine(checks: RuntimeChecks, a: AnswerToCheck): CheckResultLine {
  const scores = checkOutcomes(checks.prepared, { input: a.input, answer: a.answer, passages: a.passages ?? [], citations: a.citations ?? [] }, checks.names);
  const during = a.share !== undefined && a.share > 0 && a.share < 1;
  return {
    type: CHECK_RESULT_TYPE,
    service: a.service,
    requestId: a.requestId,
    functionVersion: a.functionVersion,
    config: a.config,
    ...(during && a.unit !== undefined ? { conversationId: sha256Hex(`conversation\n${a.unit}`).slice(0, 32) } : {}),
    ...(a.caseId !== undefined ? { caseId: a.caseId } : {}),
    sampleAt: a.at,
    ...(during ? { share: a.share } : {}),
    ...(checks.rate < 1 ? { rate: checks.rate } : {}),
    scores,
  };
}
