/**
 * The evaluator: scores one sampled answer (deterministic checks, then one model call per rubric) and, for a canary
 * sample, compares it with the stable version's answer to the same input in both orders. Pure orchestration behind
 * ports (model, shadow, ledger, sleep, random): no SDK import. The handler adapts Bedrock Converse, the shadow
 * invocation of the stable version's `gate` alias and the ledger in S3.
 *
 * Budget: before any call, the sample's worst-case cost is reserved on the ledger by compare-and-swap (so concurrent
 * evaluators can never overspend together); after the calls the unused part is given back. Throttling is retried
 * with capped exponential backoff and full jitter; other errors fail the criterion with the reason.
 */
import { type CriterionScore, type EvaluationConfig, type EvaluationSample, type PairedOutcome, pairsOn } from '../shared/evaluation';
import { admit, type Caps, charge, costUsd, currentLedger, ensureRelease, estimateInputTokens, type Ledger, observeTuple, readLedger } from './budget';
import {
  buildPreferenceRequest,
  buildScoreRequest,
  type ConverseRequest,
  type ConverseResponse,
  parsePreferenceResponse,
  parseScoreResponse,
  type Usage,
} from './converse';
import { runDeterministicChecks } from './deterministic';
import { combineOrders } from '../judge/paired';

export interface ModelPort {
  converse(request: ConverseRequest): Promise<ConverseResponse>;
}

/**
 * Answers to the sample's (redacted) input from one arm, through the gate-style shadow path: a replay that the
 * runtime neither measures nor records as live traffic, with side-effecting tools off. BOTH arms are asked, so the
 * two answers compared come from the very same input (the live canary answer saw the unredacted input; comparing it
 * with a stable answer to the redacted one would not be a fair pair).
 */
export interface ShadowPort {
  answer(sample: EvaluationSample, arm: 'canary' | 'stable'): Promise<{ readonly answer: string; readonly costUsd: number }>;
  /**
   * Code plane: whether the sample's executed version is the canary of the live alias (its routing weights name it).
   * The runtime cannot tell (it does not know the alias's weights), so it writes `stable`; without this, code canaries
   * would never be paired. A failure to tell counts as no.
   */
  isCodeCanary?(sample: EvaluationSample): Promise<boolean>;
}

/** The spend ledger, updated by compare-and-swap: `write` returns false when someone else wrote first. */
export interface LedgerPort {
  read(): Promise<{ readonly ledger: Ledger | undefined; readonly etag: string | undefined }>;
  write(ledger: Ledger, etag: string | undefined): Promise<boolean>;
}

export interface EvaluatorPorts {
  readonly model: ModelPort;
  readonly shadow?: ShadowPort;
  readonly ledger: LedgerPort;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly now: () => Date;
}

export interface EvaluationResult {
  readonly sampleId: string;
  readonly service: string;
  readonly arm: EvaluationSample['arm'];
  readonly functionVersion: string;
  readonly caseId: string;
  readonly scores: readonly CriterionScore[];
  /** Criteria the model could not score, with the reason (never counted as a low score). */
  readonly unscored: readonly { readonly criterion: string; readonly reason: string }[];
  readonly paired?: { readonly outcome: PairedOutcome; readonly reasons: readonly string[] };
  readonly costUsd: number;
  /** Set when a pair-only sample (EvaluationSample.pairOnly) is not a canary's: nothing was spent, nothing is kept. */
  readonly dropped?: 'not-a-canary';
  /** Set when the budget refused the sample: no model call was made. */
  readonly skipped?: 'budget-release' | 'budget-day';
  /** The release the sample's spend was charged to (absent: the steady state, day budget only). */
  readonly releaseKey?: string;
  /** Set when the refund of the over-reservation could not be recorded (ledger contention): charged, never over a cap. */
  readonly unsettledUsd?: number;
  /** Scores under a rubric's floor: the sample becomes a regression-case candidate with these reasons. */
  readonly belowFloor: readonly { readonly criterion: string; readonly score: number; readonly reason: string }[];
}

export const THROTTLE_ERRORS = new Set(['ThrottlingException', 'TooManyRequestsException', 'ServiceUnavailableException', 'ModelNotReadyException']);
export const MAX_ATTEMPTS = 4;
const BASE_DELAY_MS = 200;
const MAX_DELAY_MS = 5000;
/** Compare-and-swap attempts on the ledger, with full-jitter backoff between them (as the case index does). */
const LEDGER_CAS_ATTEMPTS = 40;

/** Retries throttling with capped exponential backoff and full jitter; other errors are thrown at once. The gate reuses it. */
export async function withRetry(ports: Pick<EvaluatorPorts, 'sleep' | 'random'>, call: () => Promise<ConverseResponse>): Promise<ConverseResponse> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      const name = (e as { name?: string }).name ?? '';
      if (!THROTTLE_ERRORS.has(name) || attempt >= MAX_ATTEMPTS) throw e;
      await ports.sleep(Math.floor(ports.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempt - 1))));
    }
  }
}

/**
 * Reserves (or, with a negative amount, gives back) spend on the ledger by compare-and-swap. The first call of a sample
 * tells which release it is charged to (named, or the one in progress from the tuples: see budget.ts); the settle
 * passes that key back so the refund goes where the reservation went.
 */
async function reserve(
  ports: EvaluatorPorts,
  sample: EvaluationSample,
  caps: Caps,
  usd: number,
  release: { readonly named?: string; readonly settled?: { readonly key?: string } },
): Promise<{ ok: true; releaseKey?: string } | { ok: false; by: 'release' | 'day'; releaseKey?: string }> {
  let refused: { ok: false; by: 'release' | 'day'; releaseKey?: string } | undefined;
  for (let i = 0; i < LEDGER_CAS_ATTEMPTS; i++) {
    // Many evaluators share a service's ledger: back off with full jitter after a lost race (20 ms x 2^i, at most 1 s).
    if (i > 0) await ports.sleep(Math.floor(ports.random() * Math.min(1000, 20 * 2 ** Math.min(i, 6))));
    const now = ports.now();
    const { ledger, etag } = await ports.ledger.read();
    let l = currentLedger(readLedger(ledger, now), now);
    let releaseKey: string | undefined;
    if (release.settled) releaseKey = release.settled.key;
    else if (release.named) {
      releaseKey = release.named;
      l = ensureRelease(l, releaseKey, now);
    } else {
      const at = Date.parse(sample.time);
      const o = observeTuple(l, sample.tuple, Number.isNaN(at) ? now : new Date(at));
      l = o.ledger;
      releaseKey = o.releaseKey;
    }
    if (usd > 0) {
      const a = admit(l, caps, usd, now, releaseKey);
      if (!a.admit) {
        // Record the stop once, by compare-and-swap too (the review reports it); a lost race re-reads and re-decides.
        refused = { ok: false, by: a.by, releaseKey };
        if (a.ledger === l || (await ports.ledger.write(a.ledger, etag))) return refused;
        continue;
      }
    }
    if (await ports.ledger.write(charge(l, usd, releaseKey), etag)) return { ok: true, releaseKey };
  }
  // A refusal stands even when recording its stop kept losing races (a later refusal records it); a charge never does.
  if (refused) return refused;
  throw new Error(`evaluation ledger: ${LEDGER_CAS_ATTEMPTS} compare-and-swap attempts lost to concurrent writers`);
}

export interface EvaluateOptions {
  /**
   * The release the spend belongs to, when the caller knows it (a gate replay, the judge's release key).
   * @default the release in progress told from the version tuples of the service's answers (budget.ts); none in the steady state
   */
  readonly releaseKey?: string;
  /** Passage texts by id, where the sample's delivery carries them (the runtime logs only hashes). */
  readonly passageTexts?: ReadonlyMap<string, string>;
  readonly reference?: string;
  /** Worst-case cost of one shadow answer (the service's model at its maxTokens), reserved twice with the sample. */
  readonly shadowWorstCaseUsd?: number;
}

export async function evaluateSample(
  sample: EvaluationSample,
  config: EvaluationConfig,
  ports: EvaluatorPorts,
  options: EvaluateOptions,
): Promise<EvaluationResult> {
  const scale = config.scale ?? { min: 1, max: 5 };
  const maxTokens = config.evaluatorModel.maxTokens ?? 512;
  const prices = config.evaluatorModel.pricing;
  const passages = sample.passages.map((p) => ({ id: p.id, text: options.passageTexts?.get(p.id) ?? `(text not captured; hash ${p.textHash})` }));
  const deterministic = runDeterministicChecks(sample, config.deterministic);
  const rubrics = config.rubrics.filter((r) => r.criterion !== 'correctness' || options.reference !== undefined);
  const wantsPairs = pairsOn(config) && ports.shadow !== undefined;
  const codeCanary = wantsPairs && sample.arm !== 'canary' && ports.shadow?.isCodeCanary ? await ports.shadow.isCodeCanary(sample).catch(() => false) : false;
  const pairedWanted = wantsPairs && (sample.arm === 'canary' || codeCanary);
  // Drawn by the pairing rate only: compared when it is a canary's, never scored (the score tests keep the scoring
  // sampler's counts); another answer drawn so is dropped before any spend (the code plane's runtime draws them all).
  const pairOnly = sample.pairOnly === true;
  if (pairOnly && !pairedWanted)
    return {
      sampleId: sample.sampleId,
      service: sample.service,
      arm: sample.arm,
      functionVersion: sample.functionVersion,
      caseId: sample.caseId,
      scores: [],
      unscored: [],
      costUsd: 0,
      belowFloor: [],
      dropped: 'not-a-canary',
    };
  const scored = pairOnly ? [] : rubrics;

  const scoreRequests = scored.map((r) =>
    buildScoreRequest(config.evaluatorModel.modelId, maxTokens, r, scale, { ...sample, passages, reference: options.reference }),
  );
  const worstCall = (req: ConverseRequest) => costUsd(prices, estimateInputTokens(JSON.stringify(req)), maxTokens);
  const prefWorst = pairedWanted
    ? 2 * worstCall(buildPreferenceRequest(config.evaluatorModel.modelId, maxTokens, rubrics, sample.input, passages, sample.answer, sample.answer)) +
      (options.shadowWorstCaseUsd ?? 0)
    : 0;
  const reserved = scoreRequests.reduce((s, r) => s + worstCall(r), 0) + prefWorst;

  const base = { sampleId: sample.sampleId, service: sample.service, arm: sample.arm, functionVersion: sample.functionVersion, caseId: sample.caseId };
  const r = await reserve(ports, sample, config.budget, reserved, { named: options.releaseKey });
  if (!r.ok)
    return {
      ...base,
      scores: pairOnly ? [] : deterministic,
      unscored: [],
      costUsd: 0,
      skipped: r.by === 'release' ? 'budget-release' : 'budget-day',
      belowFloor: [],
      ...(r.releaseKey ? { releaseKey: r.releaseKey } : {}),
    };

  let spent = 0;
  const pay = (u: Usage) => {
    spent += costUsd(prices, u.inputTokens, Math.min(u.outputTokens, maxTokens));
  };
  const scores: CriterionScore[] = pairOnly ? [] : [...deterministic];
  const unscored: { criterion: string; reason: string }[] = [];
  const belowFloor: { criterion: string; score: number; reason: string }[] = [];
  let paired: EvaluationResult['paired'];
  let unsettledUsd: number | undefined;
  try {
    for (let i = 0; i < scored.length; i++) {
      const rubric = scored[i];
      try {
        const parsed = parseScoreResponse(await withRetry(ports, () => ports.model.converse(scoreRequests[i])), scale);
        pay(parsed.usage);
        if (!parsed.ok) {
          unscored.push({ criterion: rubric.criterion, reason: parsed.reason });
          continue;
        }
        scores.push({ criterion: rubric.criterion, score: parsed.value.score, reason: parsed.value.reason, source: 'model' });
        const floor = rubric.floor ?? (scale.min + scale.max) / 2;
        if (parsed.value.score < floor) belowFloor.push({ criterion: rubric.criterion, score: parsed.value.score, reason: parsed.value.reason });
      } catch (e) {
        unscored.push({ criterion: rubric.criterion, reason: `${(e as Error).name}: ${(e as Error).message}` });
      }
    }
    if (pairedWanted && ports.shadow) {
      try {
        const [canary, stable] = await Promise.all([ports.shadow.answer(sample, 'canary'), ports.shadow.answer(sample, 'stable')]);
        spent += canary.costUsd + stable.costUsd;
        const ask = async (a: string, b: string) => {
          const p = parsePreferenceResponse(
            await withRetry(ports, () =>
              ports.model.converse(buildPreferenceRequest(config.evaluatorModel.modelId, maxTokens, rubrics, sample.input, passages, a, b)),
            ),
          );
          pay(p.usage);
          return p;
        };
        const first = await ask(canary.answer, stable.answer); // canary as A
        const second = await ask(stable.answer, canary.answer); // canary as B
        if (first.ok && second.ok)
          paired = { outcome: combineOrders(first.value.preferred, second.value.preferred), reasons: [first.value.reason, second.value.reason] };
        else unscored.push({ criterion: 'paired', reason: [first, second].map((p) => (p.ok ? 'ok' : p.reason)).join('; ') });
      } catch (e) {
        unscored.push({ criterion: 'paired', reason: `${(e as Error).name}: ${(e as Error).message}` });
      }
    }
  } finally {
    // Settle: give back what the worst case over-reserved (the estimate is an upper bound, so this is a refund). A
    // settle that keeps losing races to other evaluators leaves the over-reservation charged (never over a cap) rather
    // than failing a sample whose model calls are paid for (a failed delivery is retried and would pay them again).
    try {
      await reserve(ports, sample, config.budget, spent - reserved, { settled: { key: r.releaseKey } });
    } catch (e) {
      unsettledUsd = reserved - spent;
      unscored.push({ criterion: 'ledger', reason: `the refund of ${unsettledUsd.toFixed(6)} USD was not recorded: ${(e as Error).message}` });
    }
  }
  return {
    ...base,
    scores,
    unscored,
    paired,
    costUsd: spent,
    belowFloor,
    ...(r.releaseKey ? { releaseKey: r.releaseKey } : {}),
    ...(unsettledUsd !== undefined ? { unsettledUsd } : {}),
  };
}
