/**
 * Evaluation sampling in the runtime: which answers become evaluation samples, and the redacted sample itself.
 * Pure and synchronous: the hot path only decides and writes one log line (no network, no S3, no model call).
 *
 * During a release the canary is oversampled so both versions contribute comparable counts: with canary share s and
 * a base rate r, the canary is sampled at r / (2s) and the stable version at r / (2(1 - s)) (each capped at 1), so
 * the expected samples per request stay r while each arm gives about r/2 of all requests. Outside a release every
 * answer is sampled at r. The decision hashes the request id, so a retried delivery of one request decides the same.
 */
import { sha256Hex } from '../shared/canonical-json';
import { CODE_CANARY_MAX_WINDOW_MS, type CodeCanaryState, type VersionTuple } from '../shared/contract';
import { EVALUATION_SAMPLE_TYPE, type EvaluationSample } from '../shared/evaluation';
import { caseIdOf } from '../snapshot/cases';
import { type Redactor, redact, redactAndCut } from './redact';
import { EVALUATION_DRAW_SEED, drawUnit } from './sample-draw';
import { passageTextHash, redactShort } from './sample-memo';

/** Longest input or answer a sample keeps, in characters (after redaction). CloudWatch Logs events are ≤ 256 KB. */
export const SAMPLE_MAX_CHARS = 8000;

export function armSamplingRate(baseRate: number, arm: 'canary' | 'stable', canaryShare: number | undefined): number {
  if (!(baseRate >= 0 && baseRate <= 1)) throw new Error(`evaluation.samplingRate must be between 0 and 1 (got ${baseRate})`);
  if (canaryShare === undefined || canaryShare <= 0 || canaryShare >= 1) return baseRate;
  return Math.min(1, baseRate / (2 * (arm === 'canary' ? canaryShare : 1 - canaryShare)));
}

/**
 * The probability that an answer sampled during a release at canary share s is the canary's: s r_c / (s r_c + (1 - s) r_s)
 * with both arms' rates from `armSamplingRate` (1/2 while neither rate is capped). The judge bets on the label at this
 * probability, so sampling the arms at unequal rates cannot bias it (lambda/judge/scores.ts).
 */
export function sampledCanaryShare(baseRate: number, canaryShare: number): number {
  if (!(canaryShare > 0 && canaryShare < 1)) throw new Error(`the canary share must be strictly between 0 and 1 (got ${canaryShare})`);
  const rc = armSamplingRate(baseRate, 'canary', canaryShare);
  const rs = armSamplingRate(baseRate, 'stable', canaryShare);
  const c = canaryShare * rc;
  const d = c + (1 - canaryShare) * rs;
  return d > 0 ? c / d : canaryShare;
}

/**
 * The arm and share of an answer for sampling, from the config plane's assignment: `canary` when the unit was assigned
 * the candidate and served it, during a release (a share strictly between 0 and 1); `stable` otherwise (no release, the
 * live config, or a candidate that fell back to live). The code plane has no assignment: its canary is told apart by
 * its executed version, sampled at the base rate (the runtime does not know the alias's weights).
 */
export function samplingArm(
  assignment: { readonly arm: 'live' | 'candidate'; readonly share: number; readonly releaseKey: string; readonly fallback?: string } | undefined,
): {
  readonly arm: 'canary' | 'stable';
  readonly share?: number;
} {
  if (!assignment || assignment.releaseKey === '' || !(assignment.share > 0 && assignment.share < 1)) return { arm: 'stable' };
  return { arm: assignment.arm === 'candidate' && assignment.fallback === undefined ? 'canary' : 'stable', share: assignment.share };
}

/**
 * A uniform number in [0, 1) from the request id: the same request always decides the same. A fast keyed hash
 * (sample-draw.ts, h10-hot17), not SHA-256: every request pays it. The rates are unchanged; which requests a given
 * rate picks differs from the SHA-256 draw before h10-hot17 (no contract or reader recomputes the draw).
 */
export function sampleUnit(requestId: string): number {
  return drawUnit(EVALUATION_DRAW_SEED, requestId);
}

export function shouldSample(requestId: string, rate: number): boolean {
  return rate > 0 && sampleUnit(requestId) < rate;
}

/**
 * What the runtime knows of the code plane's canary: `unknown` when nothing announces it (no share document, or the
 * code plane does not write it); else whether this execution environment's version is the announced canary now.
 */
export type CodeCanarySignal = { readonly known: false } | { readonly known: true; readonly state?: CodeCanaryState };

/**
 * Whether this environment may draw code-plane pair-only samples (issue 17 D). Unknown: yes (the runtime cannot tell
 * its canary, so every answer is a candidate and the evaluator drops the non-canary ones: the steady-state cost the
 * card prices). Known: only when the announced canary is this version and `now` is before its expiry; an announcement
 * longer than CODE_CANARY_MAX_WINDOW_MS, malformed or lapsed counts as none, so a release never cleared stops by itself.
 */
export function codePairsAllowed(signal: CodeCanarySignal | undefined, functionVersion: string, now: number): boolean {
  if (!signal?.known) return true;
  const c = signal.state;
  if (!c || typeof c !== 'object') return false;
  if (typeof c.functionVersion !== 'string' || c.functionVersion !== functionVersion) return false;
  if (typeof c.at !== 'number' || typeof c.until !== 'number' || !Number.isFinite(c.at) || !Number.isFinite(c.until)) return false;
  return now < c.until && c.until - c.at <= CODE_CANARY_MAX_WINDOW_MS;
}

/**
 * Whether this answer becomes a sample, and at which rate: drawn by the scoring sampler (`rate`, the arm's), or only
 * by the release-time pairing rate (`pairRate`, evaluation.paired.samplingRate): then `pairOnly`, compared and never
 * scored. One uniform number per request decides both, so a scored answer is always a pair candidate too. The pairing
 * rate applies to the config canary (the share is known) and, on the code plane, outside a config release, where
 * `codePairs` (codePairsAllowed) says whether this version may be the code canary: when the code plane announces its
 * canary, only that version draws, only during its release; when nothing announces it, every answer is drawn and the
 * evaluator, which reads the alias, keeps the canary's and drops the others unscored. The config canary (the share is
 * known) draws at `configPairRate` (evaluation.paired.configSamplingRate, defaulting to the code plane's `pairRate`).
 * Undefined: not sampled.
 */
export function pairingDraw(
  requestId: string,
  rate: number,
  pairRate: number,
  arm: 'canary' | 'stable',
  canaryShare: number | undefined,
  codePairs = true,
  configPairRate = pairRate,
): { readonly rate: number; readonly pairOnly?: true } | undefined {
  if (!(pairRate >= 0 && pairRate <= 1)) throw new Error(`evaluation.paired.samplingRate must be between 0 and 1 (got ${pairRate})`);
  if (!(configPairRate >= 0 && configPairRate <= 1)) throw new Error(`evaluation.paired.configSamplingRate must be between 0 and 1 (got ${configPairRate})`);
  const pairs = canaryShare !== undefined ? (arm === 'canary' ? configPairRate : 0) : arm === 'canary' || codePairs ? pairRate : 0;
  if (!(rate > 0) && !(pairs > rate)) return undefined;
  const u = sampleUnit(requestId);
  if (u < rate) return { rate };
  if (pairs > rate && u < pairs) return { rate: pairs, pairOnly: true };
  return undefined;
}

export interface AnswerToSample {
  readonly service: string;
  readonly requestId: string;
  readonly time: Date;
  readonly tuple: VersionTuple;
  readonly functionVersion: string;
  readonly arm: 'canary' | 'stable';
  readonly conversationId?: string;
  readonly input: string;
  readonly answer: string;
  readonly passages?: readonly { readonly id: string; readonly text: string }[];
  readonly citations?: readonly string[];
  readonly toolCalls?: readonly { readonly name: string }[];
  readonly stopReason?: string;
  readonly inputTokens?: number;
  readonly outputTokens?: number;
  /** The checks the runtime owns and writes itself (h9-checks), carried into the sample. */
  readonly runtimeChecks?: EvaluationSample['runtimeChecks'];
}

/** Builds the redacted sample. Passage texts are kept only as hashes: the evaluator reads them from the index. */
export function buildEvaluationSample(a: AnswerToSample, rate: number, redactor: Redactor = redact, armShare?: number, pairOnly?: true): EvaluationSample {
  const input = redactAndCut(a.input, SAMPLE_MAX_CHARS, redactor).text;
  // Passage ids, citations, tool names and the stop reason repeat within a sample (a citation is a passage id, an
  // agent calls one tool many times): each distinct one is redacted once per sample (a redactor is a function of its
  // text), ~0.5 µs per repeat with the built-in redactor; the built-in one's answers are kept across samples too
  // (sample-memo.ts, h9-hotpath).
  const redacted = new Map<string, string>();
  const short = (text: string): string => {
    let out = redacted.get(text);
    if (out === undefined) {
      out = redactShort(redactor, text);
      redacted.set(text, out);
    }
    return out;
  };
  return {
    type: EVALUATION_SAMPLE_TYPE,
    service: a.service,
    sampleId: sha256Hex(`${a.service}\n${a.requestId}`).slice(0, 32),
    requestId: a.requestId,
    time: a.time.toISOString(),
    tuple: a.tuple,
    functionVersion: a.functionVersion,
    arm: a.arm,
    ...(a.conversationId !== undefined ? { conversationId: sha256Hex(`conversation\n${a.conversationId}`).slice(0, 32) } : {}),
    caseId: caseIdOf(a.service, input),
    input,
    answer: redactAndCut(a.answer, SAMPLE_MAX_CHARS, redactor).text,
    // Passage ids, citations and tool names are short, and the model writes the citations: redacted like the text
    // (the same redactor on both sides, so a citation still matches its passage id for the citation check).
    passages: (a.passages ?? []).map((p) => ({ id: short(p.id), textHash: passageTextHash(p.text) })),
    citations: (a.citations ?? []).map(short),
    toolCalls: (a.toolCalls ?? []).map((t) => ({ name: short(t.name) })),
    ...(a.stopReason !== undefined ? { stopReason: short(a.stopReason) } : {}),
    inputTokens: a.inputTokens ?? 0,
    outputTokens: a.outputTokens ?? 0,
    sampledAt: rate,
    ...(armShare !== undefined ? { armShare } : {}),
    ...(pairOnly ? { pairOnly } : {}),
    ...(a.runtimeChecks ? { runtimeChecks: a.runtimeChecks } : {}),
  };
}
