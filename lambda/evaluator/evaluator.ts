/**
 * The evaluator: scores one sampled answer (deterministic checks, then one model call per rubric) and, for a canary
 * sample, compares it with the stable version's answer to the same input in both orders. Pure orchestration behind
 * ports (model, shadow, ledger, sleep, random): no SDK import. The handler adapts Bedrock Converse, the shadow
 * invocation of the stable version's `gate` alias and the ledger in S3.
 *
 * Budget: before any call, the worst-case cost of a delivery batch's samples is reserved on the ledger by ONE
 * compare-and-swap (so concurrent evaluators can never overspend together); after the calls the unused part is given
 * back by one more (`evaluateBatch`). Throttling is retried
 * with capped exponential backoff and full jitter; other errors fail the criterion with the reason.
 */
import { type CriterionScore, type EvaluationConfig, type EvaluationSample, type PairedOutcome, pairsOn } from '../shared/evaluation';
import { mapLimit } from '../snapshot/store';
import { costUsd, currentLedger, estimateInputTokens, type Ledger, readLedger, reserveBatch, settleBatch } from './budget';
import {
  buildPreferenceRequest,
  buildScoreRequest,
  type ConverseRequest,
  type ConverseResponse,
  parsePreferenceResponse,
  parseScoreResponse,
  type Usage,
} from './converse';
import { guardrailCriterionScores } from '../shared/guardrail-scores';
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
  /**
   * Set with `skipped` when the throttle refused the sample (its case id's hash above the admission rate the spend
   * allowed, the same rate for both arms; budget.ts) rather than a cap that was spent.
   */
  readonly throttled?: true;
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
 * One update of the service's ledger by compare-and-swap, with full-jitter backoff after a lost race (20 ms x 2^i, at
 * most 1 s). `update` decides from the ledger it is given (day rolled over) and returns the ledger to write, or the same
 * object to write nothing; `settle` marks an update that must commit. An update that kept losing throws, except one
 * that charged nothing (a refusal whose stop could not be recorded stands: a later refusal records it).
 */
async function updateLedger<T>(
  ports: EvaluatorPorts,
  update: (l: Ledger, now: Date) => { readonly ledger: Ledger; readonly result: T; readonly chargesNothing?: boolean },
): Promise<T> {
  let uncharged: { result: T } | undefined;
  for (let i = 0; i < LEDGER_CAS_ATTEMPTS; i++) {
    if (i > 0) await ports.sleep(Math.floor(ports.random() * Math.min(1000, 20 * 2 ** Math.min(i, 6))));
    const now = ports.now();
    const { ledger, etag } = await ports.ledger.read();
    const l = currentLedger(readLedger(ledger, now), now);
    const u = update(l, now);
    if (u.ledger === l && u.chargesNothing) return u.result;
    if (await ports.ledger.write(u.ledger, etag)) return u.result;
    uncharged = u.chargesNothing ? { result: u.result } : undefined;
  }
  if (uncharged) return uncharged.result;
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

/** A sample prepared for evaluation: its requests and its worst-case cost, before any budget is reserved. */
interface PlannedSample {
  readonly sample: EvaluationSample;
  readonly options: EvaluateOptions;
  readonly rubrics: EvaluationConfig['rubrics'];
  readonly passages: readonly { readonly id: string; readonly text: string }[];
  readonly deterministic: readonly CriterionScore[];
  readonly scoreRequests: readonly ConverseRequest[];
  readonly pairedWanted: boolean;
  readonly worstCaseUsd: number;
  /** A pair-only sample that is no canary's: nothing is spent and nothing kept. */
  readonly dropped?: boolean;
}

async function planSample(sample: EvaluationSample, config: EvaluationConfig, ports: EvaluatorPorts, options: EvaluateOptions): Promise<PlannedSample> {
  const scale = config.scale ?? { min: 1, max: 5 };
  const maxTokens = config.evaluatorModel.maxTokens ?? 512;
  const prices = config.evaluatorModel.pricing;
  const passages = sample.passages.map((p) => ({ id: p.id, text: options.passageTexts?.get(p.id) ?? `(text not captured; hash ${p.textHash})` }));
  // The guardrail's scores come with the sample (no call, no spend): scored beside the checks, under keys of their own.
  const deterministic = [...runDeterministicChecks(sample, config.deterministic), ...guardrailCriterionScores(sample.guardrail)];
  const rubrics = config.rubrics.filter((r) => r.criterion !== 'correctness' || options.reference !== undefined);
  const wantsPairs = pairsOn(config) && ports.shadow !== undefined;
  const codeCanary = wantsPairs && sample.arm !== 'canary' && ports.shadow?.isCodeCanary ? await ports.shadow.isCodeCanary(sample).catch(() => false) : false;
  const pairedWanted = wantsPairs && (sample.arm === 'canary' || codeCanary);
  // Drawn by the pairing rate only (EvaluationSample.pairOnly): compared when it is a canary's, never scored (the
  // score tests keep the scoring sampler's counts); another answer drawn so is dropped before any spend (the code
  // plane's runtime draws them all).
  const pairOnly = sample.pairOnly === true;
  if (pairOnly && !pairedWanted)
    return { sample, options, rubrics, passages, deterministic: [], scoreRequests: [], pairedWanted, worstCaseUsd: 0, dropped: true };
  const scoreRequests = (pairOnly ? [] : rubrics).map((r) =>
    buildScoreRequest(config.evaluatorModel.modelId, maxTokens, r, scale, { ...sample, passages, reference: options.reference }),
  );
  const worstCall = (req: ConverseRequest) => costUsd(prices, estimateInputTokens(JSON.stringify(req)), maxTokens);
  const prefWorst = pairedWanted
    ? 2 * worstCall(buildPreferenceRequest(config.evaluatorModel.modelId, maxTokens, rubrics, sample.input, passages, sample.answer, sample.answer)) +
      (options.shadowWorstCaseUsd ?? 0)
    : 0;
  const worstCaseUsd = scoreRequests.reduce((s, r) => s + worstCall(r), 0) + prefWorst;
  return { sample, options, rubrics, passages, deterministic: pairOnly ? [] : deterministic, scoreRequests, pairedWanted, worstCaseUsd };
}

const baseOf = (sample: EvaluationSample) => ({
  sampleId: sample.sampleId,
  service: sample.service,
  arm: sample.arm,
  functionVersion: sample.functionVersion,
  caseId: sample.caseId,
});

function skippedResult(p: PlannedSample, by: 'release' | 'day', releaseKey: string | undefined, throttled?: true): EvaluationResult {
  return {
    ...baseOf(p.sample),
    scores: p.deterministic,
    unscored: [],
    costUsd: 0,
    skipped: by === 'release' ? 'budget-release' : 'budget-day',
    ...(throttled ? { throttled } : {}),
    belowFloor: [],
    ...(releaseKey ? { releaseKey } : {}),
  };
}

/** The model calls of an admitted sample; its cost is what the responses' usage says (never more than its worst case). */
async function runPlanned(p: PlannedSample, config: EvaluationConfig, ports: EvaluatorPorts, releaseKey: string | undefined): Promise<EvaluationResult> {
  const { sample, rubrics, passages, scoreRequests } = p;
  const scale = config.scale ?? { min: 1, max: 5 };
  const maxTokens = config.evaluatorModel.maxTokens ?? 512;
  const prices = config.evaluatorModel.pricing;
  let spent = 0;
  const pay = (u: Usage) => {
    spent += costUsd(prices, u.inputTokens, Math.min(u.outputTokens, maxTokens));
  };
  const scores: CriterionScore[] = [...p.deterministic];
  const unscored: { criterion: string; reason: string }[] = [];
  const belowFloor: { criterion: string; score: number; reason: string }[] = [];
  let paired: EvaluationResult['paired'];
  // scoreRequests is empty for a pair-only sample (compared, never scored); rubrics still phrase its preference.
  for (let i = 0; i < scoreRequests.length; i++) {
    const rubric = rubrics[i];
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
  if (p.pairedWanted && ports.shadow) {
    try {
      const [canary, stable] = await Promise.all([ports.shadow.answer(sample, 'canary'), ports.shadow.answer(sample, 'stable')]);
      spent += canary.costUsd + stable.costUsd;
      const ask = async (a: string, b: string) => {
        const r = parsePreferenceResponse(
          await withRetry(ports, () =>
            ports.model.converse(buildPreferenceRequest(config.evaluatorModel.modelId, maxTokens, rubrics, sample.input, passages, a, b)),
          ),
        );
        pay(r.usage);
        return r;
      };
      const first = await ask(canary.answer, stable.answer); // canary as A
      const second = await ask(stable.answer, canary.answer); // canary as B
      if (first.ok && second.ok)
        paired = { outcome: combineOrders(first.value.preferred, second.value.preferred), reasons: [first.value.reason, second.value.reason] };
      else unscored.push({ criterion: 'paired', reason: [first, second].map((x) => (x.ok ? 'ok' : x.reason)).join('; ') });
    } catch (e) {
      unscored.push({ criterion: 'paired', reason: `${(e as Error).name}: ${(e as Error).message}` });
    }
  }
  return { ...baseOf(sample), scores, unscored, paired, costUsd: spent, belowFloor, ...(releaseKey ? { releaseKey } : {}) };
}

export interface BatchOptions {
  /** Samples evaluated at once (model calls in flight). @default 4 */
  readonly concurrency?: number;
  /** Called as each sample's evaluation ends (before the batch settles), so its result can be kept at once. */
  readonly onResult?: (result: EvaluationResult, sample: EvaluationSample) => Promise<void>;
}

/**
 * Evaluates a delivery batch of one service's samples with TWO ledger updates instead of two per sample (issue 17,
 * h7-evaluator): one compare-and-swap reserves every sample's worst case (`reserveBatch`: admitted in answer order
 * while they fit the caps), the samples are evaluated `concurrency` at a time with no ledger traffic, and one
 * compare-and-swap gives back what they did not spend (`settleBatch`). When the caps refused some samples but admitted
 * others, the refused ones get one more round after the refund (the worst case over-reserves, so the refund may make
 * room); only that round's refusals record a stop. A batch whose invocation dies before it settles leaves its
 * reservation charged: spend stays under the caps, and at most the batch's over-reservation is lost to the budget. A
 * settle that keeps losing races does the same, and every result of the batch carries its `unsettledUsd`.
 */
export async function evaluateBatch(
  samples: readonly EvaluationSample[],
  config: EvaluationConfig,
  ports: EvaluatorPorts,
  options: EvaluateOptions,
  batch: BatchOptions = {},
): Promise<EvaluationResult[]> {
  const concurrency = Math.max(1, batch.concurrency ?? 4);
  const planned = await mapLimit(samples, concurrency, (s) => planSample(s, config, ports, options));
  const results: EvaluationResult[] = new Array(samples.length);
  for (const [i, p] of planned.entries())
    if (p.dropped) results[i] = { ...baseOf(p.sample), scores: [], unscored: [], costUsd: 0, belowFloor: [], dropped: 'not-a-canary' };
  let pending = planned.flatMap((p, i) => (p.dropped ? [] : [i]));
  for (let round = 1; pending.length > 0; round++) {
    const last = round >= 2;
    const claims = pending.map((i) => {
      const t = Date.parse(planned[i].sample.time);
      // The case id is the throttle's unit: whether a sample is admitted depends on its input, never on its arm.
      return {
        tuple: planned[i].sample.tuple,
        at: Number.isNaN(t) ? ports.now() : new Date(t),
        worstCaseUsd: planned[i].worstCaseUsd,
        unit: planned[i].sample.caseId,
      };
    });
    const grants = await updateLedger(ports, (l, now) => {
      let r = reserveBatch(l, config.budget, claims, now, { named: options.releaseKey, recordStop: last });
      // Nothing admitted: no refund can make room, so this is the last round and its refusals are stops.
      if (!last && r.grants.every((g) => !g.admit)) r = reserveBatch(l, config.budget, claims, now, { named: options.releaseKey, recordStop: true });
      return { ledger: r.ledger, result: r.grants, chargesNothing: r.grants.every((g) => !g.admit) };
    });
    const admitted = pending.filter((_, j) => grants[j].admit);
    const refused = pending.filter((_, j) => !grants[j].admit);
    const keyOf = new Map(pending.map((i, j) => [i, grants[j].releaseKey]));
    for (const [j, i] of pending.entries()) {
      const g = grants[j];
      if (!g.admit && (last || admitted.length === 0)) results[i] = skippedResult(planned[i], g.by, g.releaseKey, g.throttled);
    }
    if (admitted.length === 0) break;
    // Settled even when keeping a result fails (the delivery then fails and is retried): a sample never started gives
    // back its whole reservation; one started without a result (its calls may be paid) gives back nothing.
    const started = new Set<number>();
    let unsettled: Error | undefined;
    try {
      await mapLimit(admitted, concurrency, async (i) => {
        started.add(i);
        results[i] = await runPlanned(planned[i], config, ports, keyOf.get(i));
        await batch.onResult?.(results[i], samples[i]);
      });
    } finally {
      const byKey = new Map<string | undefined, number>();
      for (const i of admitted) {
        const unused = !started.has(i) ? planned[i].worstCaseUsd : results[i] ? planned[i].worstCaseUsd - results[i].costUsd : 0;
        byKey.set(keyOf.get(i), (byKey.get(keyOf.get(i)) ?? 0) + unused);
      }
      const refunds = [...byKey].map(([releaseKey, usd]) => ({ ...(releaseKey ? { releaseKey } : {}), usd }));
      try {
        await updateLedger(ports, (l) => ({ ledger: settleBatch(l, refunds), result: undefined }));
      } catch (e) {
        unsettled = e as Error;
      }
    }
    if (unsettled)
      for (const i of admitted) {
        const unsettledUsd = planned[i].worstCaseUsd - results[i].costUsd;
        results[i] = {
          ...results[i],
          unsettledUsd,
          unscored: [
            ...results[i].unscored,
            { criterion: 'ledger', reason: `the refund of ${unsettledUsd.toFixed(6)} USD was not recorded: ${unsettled.message}` },
          ],
        };
      }
    if (last) break;
    pending = refused;
  }
  return results;
}

/** One sample, on its own: the batch of one (a reservation and a settle). */
export async function evaluateSample(
  sample: EvaluationSample,
  config: EvaluationConfig,
  ports: EvaluatorPorts,
  options: EvaluateOptions,
): Promise<EvaluationResult> {
  return (await evaluateBatch([sample], config, ports, options, { concurrency: 1 }))[0];
}
