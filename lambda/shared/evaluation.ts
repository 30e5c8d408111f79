/**
 * The evaluation contract: what the runtime samples for the evaluator, what the evaluator scores and how paired
 * comparisons are recorded. Shared by the runtime (which writes samples as log lines), the evaluator function, the
 * canary judge (which consumes scores and paired outcomes) and the constructs, so none can drift apart.
 *
 * Vocabulary: the *evaluator* scores answers; the *canary judge* is the sequential test that decides a release.
 */
import type { VersionTuple } from './contract';
import type { GuardrailScores } from './guardrail-scores';

/** The criteria a rubric may score. `correctness` needs a reference answer (regression cases carry one). */
export const EVALUATION_CRITERIA = ['groundedness', 'relevance', 'correctness', 'safety', 'refusal'] as const;
export type EvaluationCriterion = (typeof EVALUATION_CRITERIA)[number];

/** Log line type of one evaluation sample, beside the failure record's type. */
export const EVALUATION_SAMPLE_TYPE = 'ai-release.evaluation-sample';

/** One rubric: what "good" means for one criterion, in words the evaluator model reads. */
export interface EvaluationRubric {
  readonly criterion: EvaluationCriterion;
  /** The instruction the evaluator model scores against. */
  readonly instructions: string;
  /** Scores below this (on the section's scale) make the sample a regression-case candidate. @default scale midpoint */
  readonly floor?: number;
}

/** Deterministic checks run on every sampled answer: cheap, no model call. */
export interface DeterministicChecks {
  /** Every passage id the answer cites must be among the retrieved ones. @default true */
  readonly citationValidity?: boolean;
  /** Refusal phrases (case-insensitive substrings) that mark an answer as a refusal. @default a built-in English list */
  readonly refusalPhrases?: readonly string[];
  /** The answer's script must match the question's (Latin, CJK, Cyrillic, …). @default true */
  readonly languageMatch?: boolean;
  /** Bounds on the answer's length in characters. @default no bounds */
  readonly minChars?: number;
  readonly maxChars?: number;
  /** Regular expressions (JavaScript syntax) an answer must never match. @default none */
  readonly forbiddenPatterns?: readonly string[];
}

/** The `evaluation` section of a release config: part of the version tuple, hashed like every section. */
export interface EvaluationConfig {
  /** User's version label for the section. */
  readonly version?: string;
  /** The evaluator model: an inference profile id (or model id), priced like the `model` section. */
  readonly evaluatorModel: {
    /** Bedrock model id or inference profile id (e.g. `us.anthropic.claude-sonnet-4-20250514-v1:0`). */
    readonly modelId: string;
    /** USD per 1,000 tokens, as the `model` section states it. */
    readonly pricing: { readonly inputPer1kTokensUsd: number; readonly outputPer1kTokensUsd: number };
    /** Most tokens one evaluator answer may take. @default 512 */
    readonly maxTokens?: number;
  };
  readonly rubrics: readonly EvaluationRubric[];
  /** Score scale, inclusive. @default { min: 1, max: 5 } */
  readonly scale?: { readonly min: number; readonly max: number };
  /** Share of live answers sampled, 0..1. The canary is oversampled so both versions give comparable counts. */
  readonly samplingRate: number;
  /** Spend caps in USD. Sampling stops when one is spent, and the review says so. */
  readonly budget: { readonly perReleaseUsd: number; readonly perDayUsd: number };
  /**
   * Paired comparisons during a canary (the stable version's answer to the same input, both orders): `true` pairs the
   * canary answers the scoring sampler draws; `{ samplingRate }` also pairs this share of the canary's answers while a
   * release runs (pair-only: compared, not scored), so a release gets enough pairs while steady-state scoring stays at
   * `samplingRate`; `{ samplingRate, configSamplingRate }` pairs the config plane's canary at a rate of its own (its
   * schedule is bounded by the config plane's budget, so it may need more pairs a minute); `false` turns pairs off. Pairs cost a release's budget (two shadow answers, two preference calls).
   * @default true
   */
  readonly paired?: boolean | PairedSampling;
  readonly deterministic?: DeterministicChecks;
  /**
   * Judge the `model.guardrail`'s contextual grounding scores (groundedness and relevance, 0..1, from the Converse
   * trace the service hands the runtime: AnswerEvidence.guardrailTrace) beside the model's, as the canary judge's
   * criteria `guardrail-groundedness` and `guardrail-relevance`. Needs `model.guardrail` with a contextual grounding
   * policy and its trace enabled (the config cannot tell either). Off, the scores a sample carries are still stored
   * and shown by the review, but not judged (each judged criterion takes a share of the judge's false-rollback bound).
   * @default false
   */
  readonly guardrailScores?: boolean;
  /**
   * Share of live answers whose deterministic checks the RUNTIME computes and writes as a check-result line
   * (CHECK_RESULT_TYPE: no input or answer text, one 0/1 per check), 0..1, the same rate on both versions. The checks
   * need no model call, so they run on far more answers than the evaluator scores; the evaluator then leaves the
   * checks the runtime owns (RUNTIME_CHECK_NAMES) out of its result lines, so nothing counts twice. 0: the evaluator
   * checks its samples as before (h8-detjudge). @default 0.25 (DEFAULT_CHECK_SAMPLING_RATE)
   */
  readonly checkSamplingRate?: number;
}

/** The object form of `evaluation.paired`: a release-time pairing rate of its own. */
export interface PairedSampling {
  /**
   * Share of the canary's answers compared with the stable version's while a release runs, 0..1 (a canary answer the
   * scoring sampler draws is paired too, so the canary's pairing rate is the larger of the two).
   */
  readonly samplingRate: number;
  /**
   * The config plane's own pairing rate, 0..1, at least the section's `samplingRate`: the share of a config canary's
   * answers (a config release whose share the runtime knows, `configCanary: 'assigned'`) compared with the stable
   * config's. The code plane keeps `samplingRate`. A config canary's schedule is capped by the config plane's budget
   * inside CloudFormation's hour (37 minutes for the example), so at the code plane's rate it may end before enough
   * pairs decide it (bench/RESULTS.md § h12-assigned: 62.1 % caught at 0.1, 97.5 % at 0.2). Every pair costs the
   * release's budget (`budget.perReleaseUsd`), whichever plane released. @default samplingRate
   */
  readonly configSamplingRate?: number;
}

/** The planes a release-time pairing rate applies to: the code canary (weighted alias) or the config canary. */
export type PairingPlane = 'code' | 'config';

/** Whether the section pairs canary answers at all. */
export function pairsOn(e: Pick<EvaluationConfig, 'paired'>): boolean {
  return e.paired !== false;
}

/**
 * The section's release-time pairing rate on a plane: `paired.samplingRate` in the object form (on the config plane
 * `paired.configSamplingRate` when stated), else the scoring rate (`true`: pairs only what scoring draws), 0 when pairs
 * are off.
 */
export function pairSamplingRate(e: Pick<EvaluationConfig, 'paired' | 'samplingRate'>, plane: PairingPlane = 'code'): number {
  if (e.paired === false) return 0;
  if (typeof e.paired !== 'object' || e.paired === null) return e.samplingRate;
  return plane === 'config' ? (e.paired.configSamplingRate ?? e.paired.samplingRate) : e.paired.samplingRate;
}

/** One sampled answer, redacted by the runtime before it is logged. */
export interface EvaluationSample {
  readonly type: typeof EVALUATION_SAMPLE_TYPE;
  readonly service: string;
  /** Stable id of the sample: hash of request id + service. */
  readonly sampleId: string;
  readonly requestId: string;
  readonly time: string;
  /** The version tuple the answer was produced with. */
  readonly tuple: VersionTuple;
  readonly functionVersion: string;
  /** `canary` or `stable` during a release; `stable` otherwise. */
  readonly arm: 'canary' | 'stable';
  readonly conversationId?: string;
  /** Hash of the normalized input: the regression case id it would become. */
  readonly caseId: string;
  readonly input: string;
  readonly answer: string;
  /** Retrieved passages: ids and a hash of each text (the text itself is not logged). */
  readonly passages: readonly { readonly id: string; readonly textHash: string }[];
  readonly citations: readonly string[];
  readonly toolCalls: readonly { readonly name: string }[];
  readonly stopReason?: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** The sampling rate that selected this answer, so counts can be re-weighted. */
  readonly sampledAt: number;
  /**
   * Set when only the pairing rate drew this answer (`evaluation.paired.samplingRate` above the scoring rate): the
   * evaluator compares it with the stable answer when it is a canary's, and otherwise drops it; it is never scored,
   * so the per-version score tests keep the scoring sampler's counts. `sampledAt` is then the pairing rate.
   */
  readonly pairOnly?: true;
  /**
   * During a release whose share the runtime knows (the config plane's assignment): the probability that an answer
   * sampled at this time was the canary's, from the share and both arms' sampling rates (s r_c / (s r_c + (1 - s) r_s)).
   * The canary judge bets on the label at this probability, so oversampling the canary cannot bias it. Absent: not known.
   */
  readonly armShare?: number;
  /**
   * The Bedrock guardrail's contextual grounding scores of this answer (0..1), when the service handed the runtime a
   * guardrail trace that has them (AnswerEvidence.guardrailTrace; lambda/shared/guardrail-scores.ts). The evaluator
   * scores them as `source: 'guardrail'` (keys `guardrail-groundedness`, `guardrail-relevance`).
   */
  readonly guardrail?: GuardrailScores;
  /**
   * The deterministic checks the runtime owns for this answer's config (checkSamplingRate above 0): written by the
   * runtime as check-result lines, so the evaluator leaves them out of its result line. Absent: none.
   */
  readonly runtimeChecks?: readonly DeterministicCheckName[];
}

/**
 * Log line type of one evaluated sample, written by the evaluator beside its EMF lines: what the canary judge reads
 * (Logs Insights on the evaluator's log group) to judge scores and paired outcomes as metrics of its family.
 */
export const EVALUATION_RESULT_TYPE = 'ai-release.evaluation-result';

/** One evaluated sample as the canary judge reads it. */
export interface EvaluationResultLine {
  readonly type: typeof EVALUATION_RESULT_TYPE;
  readonly service: string;
  readonly sampleId: string;
  /** The input's case id: one paired outcome per input. */
  readonly caseId: string;
  /** The arm the runtime wrote; the judge assigns sides itself, by executed version (code) or config label (config). */
  readonly arm: 'canary' | 'stable';
  readonly functionVersion: string;
  /** The config label the answer was produced with. */
  readonly config: string;
  /** The hashed conversation id (the config plane's randomization unit under per-conversation assignment). */
  readonly conversationId?: string;
  /** Epoch ms of the sampled answer: the judge windows results by it (scores from the same time window). */
  readonly sampleAt: number;
  /** The sample's `armShare`, when the runtime knew it. */
  readonly share?: number;
  /**
   * The execution environment that answered: the log stream of the sample's line (one stream per environment). On the
   * code plane the canary judge tempers each score test by its environments' design effect (lambda/judge/scores.ts).
   */
  readonly environment?: string;
  /** Score per criterion or deterministic check (model scores absent when the budget refused the sample). */
  readonly scores: Readonly<Record<string, number>>;
  readonly paired?: PairedOutcome;
}

/** What one evaluator (deterministic or model) says of one answer on one criterion. */
export interface CriterionScore {
  readonly criterion: EvaluationCriterion | DeterministicCheckName;
  /** On the section's scale for model criteria; 0 or 1 for deterministic checks. */
  readonly score: number;
  readonly reason: string;
  readonly source: 'deterministic' | 'model' | 'guardrail';
}

/**
 * The deterministic checks by key. The refusal check is `refusal-phrase` (was `refusal`, the refusal rubric's key too,
 * until h9-guardrail; old records are still read: lambda/shared/score-keys.ts).
 */
export const DETERMINISTIC_CHECKS = ['citation-validity', 'refusal-phrase', 'language-match', 'length', 'forbidden-pattern'] as const;
export type DeterministicCheckName = (typeof DETERMINISTIC_CHECKS)[number];

/**
 * The checks a section's `deterministic` settings run (lambda/evaluator/deterministic.ts): citation validity and
 * language match unless turned off, refusal detection always, length when a bound is set, forbidden patterns when
 * there are any. The canary judge tests each of them as a pass rate, canary against stable (h8-detjudge).
 */
export function enabledChecks(d: DeterministicChecks = {}): DeterministicCheckName[] {
  return DETERMINISTIC_CHECKS.filter((c) => {
    if (c === 'citation-validity') return d.citationValidity !== false;
    if (c === 'language-match') return d.languageMatch !== false;
    if (c === 'length') return d.minChars !== undefined || d.maxChars !== undefined;
    if (c === 'forbidden-pattern') return (d.forbiddenPatterns?.length ?? 0) > 0;
    return true;
  });
}

/**
 * The checks the runtime can compute on the request path (lambda/runtime/runtime-checks.ts): all five; each is a few
 * string scans of the answer (bench/runtime-checks.ts measures them).
 */
export const RUNTIME_CHECK_NAMES: readonly DeterministicCheckName[] = DETERMINISTIC_CHECKS;

/** The section's runtime check rate (`checkSamplingRate`, default 1). */
export function checkSamplingRateOf(e: Pick<EvaluationConfig, 'checkSamplingRate'>): number {
  return e.checkSamplingRate ?? DEFAULT_CHECK_SAMPLING_RATE;
}

/**
 * A quarter of the answers: below half, so the median request writes no check line and the hot path's p50 ratio stays
 * where it was (every answer: 1.46× against 1.19–1.29×, h9-checks), and still enough answers that a citation fall from
 * 95 % to 80 % is caught before full rollout on the planned code canary in 50 of 50 seeds (bench/RESULTS.md § h9-checks).
 */
export const DEFAULT_CHECK_SAMPLING_RATE = 0.25;

/** The checks the runtime owns under a section: the enabled ones it can compute, when its check rate is above 0. */
export function runtimeOwnedChecks(e: Pick<EvaluationConfig, 'checkSamplingRate' | 'deterministic'>): DeterministicCheckName[] {
  if (!(checkSamplingRateOf(e) > 0)) return [];
  return enabledChecks(e.deterministic).filter((c) => RUNTIME_CHECK_NAMES.includes(c));
}

/**
 * Log line type of the runtime's deterministic check outcomes for one answer, in the service's log group beside the
 * evaluation samples. The canary judge reads it as it reads the evaluator's result lines: the same criterion names,
 * the same family share.
 */
export const CHECK_RESULT_TYPE = 'ai-release.check-result';

/**
 * One answer's check outcomes, as the runtime writes them (no input or answer text: nothing to redact). The version
 * tuple is named by its two keys the judge tells sides by: the executed version and the config label.
 */
export interface CheckResultLine {
  readonly type: typeof CHECK_RESULT_TYPE;
  readonly service: string;
  /** The answer's request id: one line per answer (the judge keeps the first of a re-delivered line). */
  readonly requestId: string;
  readonly functionVersion: string;
  readonly config: string;
  /** The hashed conversation id (the config plane's randomization unit), as in the evaluation sample. */
  readonly conversationId?: string;
  /** The input's cluster key (InvocationMeasurements.caseId): retries of one input share it. */
  readonly caseId?: string;
  /** Epoch ms of the answer. */
  readonly sampleAt: number;
  /** During a config release: the probability that a checked answer is the canary's (the share: both arms at one rate). */
  readonly share?: number;
  /** The execution environment that answered (the judge reads the line's log stream, `@logStream`, into it). */
  readonly environment?: string;
  /** The check rate that drew this answer, when below 1. */
  readonly rate?: number;
  /** 1 (pass) or 0 (fail) per check. */
  readonly scores: Readonly<Record<string, 0 | 1>>;
}

/**
 * One paired comparison: the canary's and the stable version's answers to the same input, judged in both orders.
 * `canary` when the canary was preferred in both orders, `stable` when the stable one was, `tie` otherwise (the
 * orders disagree, or the evaluator called it even): ties carry no evidence either way.
 */
export type PairedOutcome = 'canary' | 'stable' | 'tie';

/** CloudWatch metrics the evaluator publishes (namespace METRIC_NAMESPACE), per service, version and criterion. */
export const EVALUATION_METRIC = {
  /** One datapoint per scored sample and criterion, on the rubric's scale (deterministic checks: 0 or 1). */
  SCORE: 'EvaluationScore',
  /** Paired comparisons the canary lost (the stable answer preferred in both orders), won, or tied. */
  PAIRED_LOSS: 'PairedLoss',
  PAIRED_WIN: 'PairedWin',
  PAIRED_TIE: 'PairedTie',
  /** Samples refused by the budget (the review says sampling stopped). */
  BUDGET_SKIPPED: 'EvaluationBudgetSkipped',
  /** Evaluation spend in USD. */
  SPEND: 'EvaluationSpendUsd',
} as const;

/** Dimension naming the criterion of an EvaluationScore datapoint. */
export const EVALUATION_DIMENSION_CRITERION = 'Criterion';

/** Where scored samples are kept in the regression store's bucket: one object per sample, written once. */
export const evaluationKey = (service: string, sampleId: string): string => `evaluations/${service}/samples/${sampleId}.json`;
/** The spend ledger of one service's evaluation budget (replaced by compare-and-swap). */
export const evaluationLedgerKey = (service: string): string => `evaluations/${service}/ledger.json`;

/** Environment of the evaluator function. */
export const EVALUATOR_ENV = {
  /** JSON: { [service]: { application, environment, profile } } — where each service's LIVE config is read. */
  SERVICES: 'AI_RELEASE_EVALUATOR_SERVICES',
  /** Samples evaluated at once per invocation (Bedrock throttles above the account's rate). */
  CONCURRENCY: 'AI_RELEASE_EVALUATOR_CONCURRENCY',
} as const;
