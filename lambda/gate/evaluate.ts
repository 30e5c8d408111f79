/**
 * The regression gate's evaluator part (issue 17 E): a case that carries a reference answer or rubric floors is
 * replayed k times, every replay is judged by the deterministic checks and scored by the evaluator model with the
 * LIVE config's rubrics, and the case passes by a stated rule; a config gate can also compare the candidate's answer
 * with the live config's, in both orders, and fail on a stated loss rate. Pure: the model is a port, no SDK import.
 *
 * Budget: the gate's model calls spend from a cap of their own per gate run (`maxUsd`), not from the evaluation
 * section's ledger: a gate runs before the canary, and spending the release's ledger on replays would leave the
 * canary's paired comparisons without budget. Each call's worst case is reserved before it is made, so the spend
 * never exceeds the cap; a call the cap refuses leaves its criterion unscored and the replay not passed.
 */
import type { CaseExpectation, GateEvaluationSettings, GateInvocationVerdict, GateReplayPass } from '../shared/contract';
import { GATE_RESPONSE_KEY } from '../shared/contract';
import { EVALUATION_CRITERIA, type EvaluationConfig, type EvaluationCriterion, type EvaluationRubric } from '../shared/evaluation';
import { REFUSAL_CHECK } from '../shared/score-keys';
import { costUsd, estimateInputTokens } from '../evaluator/budget';
import {
  buildPreferenceRequest,
  buildScoreRequest,
  type ConverseRequest,
  parsePreferenceResponse,
  parseScoreResponse,
  type Usage,
} from '../evaluator/converse';
import { runDeterministicChecks } from '../evaluator/deterministic';
import { type ModelPort, withRetry } from '../evaluator/evaluator';
import { combineOrders } from '../judge/paired';

export const DEFAULT_GATE_EVALUATION: GateEvaluationSettings = { k: 3, pass: 'majority', maxUsd: 10 };
export const DEFAULT_PAIRWISE = { maxLossRate: 0.6, alpha: 0.01 } as const;
export const MAX_REPLAYS = 10;
/** A reference answer longer than this is refused (the evaluator reads it in every replay's request). */
export const MAX_REFERENCE_CHARS = 8000;

/**
 * The rubric a case's reference answer is judged with when the live evaluation section has no `correctness` rubric:
 * built in, so it is not changed by a release either.
 */
export const DEFAULT_CORRECTNESS_RUBRIC: EvaluationRubric = {
  criterion: 'correctness',
  instructions:
    'The answer states the same facts as the reference answer and contradicts none of them; wording may differ. ' +
    'Missing a fact the reference gives, or adding a claim the reference contradicts, lowers the score.',
};

/** Replays of k that must pass under the rule. */
export function replaysNeeded(pass: GateReplayPass, k: number): number {
  if (pass === 'all') return k;
  if (pass === 'majority') return Math.floor(k / 2) + 1;
  return pass.atLeast;
}

export function passRuleText(pass: GateReplayPass, k: number): string {
  const n = replaysNeeded(pass, k);
  return `${typeof pass === 'string' ? pass : `at least ${pass.atLeast}`} of ${k} (${n} needed)`;
}

/** Checks the gate's evaluation settings, naming the field and the fix. `field` is where the user wrote them. */
export function checkGateEvaluationSettings(s: GateEvaluationSettings, field = 'regressionGate.evaluation'): void {
  if (!Number.isInteger(s.k) || s.k < 1 || s.k > MAX_REPLAYS)
    throw new Error(`${field}.k must be a whole number of replays from 1 to ${MAX_REPLAYS}, got ${s.k}`);
  const p = s.pass as unknown;
  if (p !== 'majority' && p !== 'all') {
    const n = (p as { atLeast?: unknown } | null)?.atLeast;
    if (typeof p !== 'object' || p === null || typeof n !== 'number')
      throw new Error(`${field}.pass must be 'majority', 'all' or { atLeast: n }, got ${JSON.stringify(p)}`);
    if (!Number.isInteger(n) || n < 1 || n > s.k)
      throw new Error(`${field}.pass.atLeast must be a whole number from 1 to k (${s.k}), got ${n}; raise k or lower atLeast`);
  }
  if (!(typeof s.maxUsd === 'number' && s.maxUsd > 0 && Number.isFinite(s.maxUsd)))
    throw new Error(`${field}.maxUsd must be a positive number of USD (the evaluator spend cap of one gate run), got ${s.maxUsd}`);
  if (s.pairwise) {
    const { maxLossRate, alpha } = s.pairwise;
    if (!(maxLossRate >= 0.5 && maxLossRate < 1))
      throw new Error(
        `${field}.pairwise.maxLossRate must be in [0.5, 1): the share of decided pairs the candidate may lose (0.5 is "no worse than live"), got ${maxLossRate}`,
      );
    if (!(alpha > 0 && alpha <= 0.5)) throw new Error(`${field}.pairwise.alpha must be in (0, 0.5], got ${alpha}`);
  }
}

/** Whether the evaluator judges this case: it carries a reference answer or rubric floors. */
export function isEvaluatedCase(e: CaseExpectation | undefined): boolean {
  return e?.reference !== undefined || (e?.minScores !== undefined && Object.keys(e.minScores).length > 0);
}

/** What is wrong with a case's evaluator expectation (reference, minScores), or undefined. Scale checks need the live section. */
export function caseEvaluationProblem(e: CaseExpectation): string | undefined {
  if (e.reference !== undefined) {
    if (typeof e.reference !== 'string' || e.reference.trim() === '')
      return 'expectation.reference must be a non-empty string (the reference answer), or be left out';
    if (e.reference.length > MAX_REFERENCE_CHARS)
      return `expectation.reference is ${e.reference.length} characters; at most ${MAX_REFERENCE_CHARS}: shorten the reference answer`;
  }
  if (e.minScores !== undefined) {
    if (e.minScores === null || typeof e.minScores !== 'object' || Array.isArray(e.minScores))
      return 'expectation.minScores must be an object of criterion: floor, e.g. { "groundedness": 4 }';
    for (const [criterion, floor] of Object.entries(e.minScores)) {
      if (!(EVALUATION_CRITERIA as readonly string[]).includes(criterion))
        return `expectation.minScores.${criterion} is not a criterion; use one of ${EVALUATION_CRITERIA.join(', ')}`;
      if (typeof floor !== 'number' || !Number.isFinite(floor)) return `expectation.minScores.${criterion} must be a number, got ${JSON.stringify(floor)}`;
    }
    if (e.minScores.correctness !== undefined && e.reference === undefined)
      return 'expectation.minScores.correctness needs expectation.reference (correctness is judged against a reference answer)';
  }
  return undefined;
}

/** One criterion the evaluator scores on every replay of a case, with its floor. */
export interface CaseCriterion {
  readonly rubric: EvaluationRubric;
  readonly floor: number;
}

/**
 * The criteria a case is scored on, with the live section's rubrics: each floor the case names, and correctness when
 * it has a reference. Problems (a criterion without a live rubric, a floor off the scale) fail the case.
 */
export function caseCriteria(e: CaseExpectation, live: EvaluationConfig): { criteria: CaseCriterion[]; problems: string[]; notes: string[] } {
  const scale = live.scale ?? { min: 1, max: 5 };
  const mid = (scale.min + scale.max) / 2;
  const criteria: CaseCriterion[] = [];
  const problems: string[] = [];
  const notes: string[] = [];
  const rubricOf = (c: EvaluationCriterion) => live.rubrics.find((r) => r.criterion === c);
  for (const [criterion, floor] of Object.entries(e.minScores ?? {}) as [EvaluationCriterion, number][]) {
    if (criterion === 'correctness') continue;
    const rubric = rubricOf(criterion);
    if (!rubric) {
      problems.push(
        `expectation.minScores.${criterion}: the live evaluation section has no ${criterion} rubric (rubrics: ${live.rubrics.map((r) => r.criterion).join(', ')}); add the rubric in a release before the case needs it, or drop the floor`,
      );
      continue;
    }
    if (floor < scale.min || floor > scale.max) {
      problems.push(`expectation.minScores.${criterion} is ${floor}, off the live scale ${scale.min}..${scale.max}`);
      continue;
    }
    criteria.push({ rubric, floor });
  }
  if (e.reference !== undefined) {
    const live = rubricOf('correctness');
    if (!live) notes.push('correctness judged with the built-in rubric (the live evaluation section has none)');
    const floor = e.minScores?.correctness ?? live?.floor ?? mid;
    if (floor < scale.min || floor > scale.max) problems.push(`expectation.minScores.correctness is ${floor}, off the live scale ${scale.min}..${scale.max}`);
    else criteria.push({ rubric: live ?? DEFAULT_CORRECTNESS_RUBRIC, floor });
  }
  return { criteria, problems, notes };
}

/** The answer of one replay, as the evaluator reads it. */
export interface ReplayAnswer {
  readonly text: string;
  readonly passages: readonly { readonly id: string; readonly text: string }[];
  readonly citations: readonly string[];
  /** The version that answered (the tuple's codeVersion), when the runtime said. */
  readonly codeVersion?: string;
}

/** The answer text and evidence in a replay's payload (the runtime's verdict), or undefined when there is none. */
export function replayAnswer(payload: string): ReplayAnswer | undefined {
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const v = body && typeof body === 'object' ? ((body as Record<string, unknown>)[GATE_RESPONSE_KEY] as GateInvocationVerdict | undefined) : undefined;
  const output = v ? v.output : body;
  const ev = v?.evidence;
  const fromOutput = (output as { answer?: unknown } | null)?.answer;
  const text = typeof ev?.answer === 'string' ? ev.answer : typeof fromOutput === 'string' ? fromOutput : (JSON.stringify(output) ?? '');
  const outCitations = (output as { citations?: unknown } | null)?.citations;
  return {
    text,
    passages: Array.isArray(ev?.passages) ? ev.passages : [],
    citations: Array.isArray(ev?.citations) ? ev.citations : Array.isArray(outCitations) ? outCitations.filter((c): c is string => typeof c === 'string') : [],
    ...(typeof v?.tuple?.codeVersion === 'string' ? { codeVersion: v.tuple.codeVersion } : {}),
  };
}

/** The gate run's evaluator spend: worst case reserved before each call, the actual cost kept. One process, so no race. */
export class GateSpend {
  private spent = 0;
  private reserved = 0;
  public capReached = false;
  constructor(public readonly capUsd: number) {}
  get spentUsd(): number {
    return this.spent;
  }
  reserve(usd: number): boolean {
    if (this.spent + this.reserved + usd > this.capUsd) {
      this.capReached = true;
      return false;
    }
    this.reserved += usd;
    return true;
  }
  settle(reservedUsd: number, actualUsd: number): void {
    this.reserved -= reservedUsd;
    this.spent += Math.min(actualUsd, reservedUsd);
  }
}

export interface GateEvaluatorPorts {
  readonly model: ModelPort;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
}

/** What the gate's evaluator works with in one run. */
export interface GateEvaluator {
  readonly ports: GateEvaluatorPorts;
  /** The live evaluation section: its rubrics, scale, checks and prices judge the replays. */
  readonly live: EvaluationConfig;
  /** The model id called: the one the gate role is granted (the section's inference profile at synth). */
  readonly modelId: string;
  readonly spend: GateSpend;
}

type Called<T> = { ok: true; value: T } | { ok: false; reason: string };

/** One evaluator call under the cap: reserved at its worst case, settled at its usage. */
async function call<T>(
  ev: GateEvaluator,
  request: ConverseRequest,
  parse: (r: Awaited<ReturnType<ModelPort['converse']>>) => { ok: true; value: T; usage: Usage } | { ok: false; reason: string; usage: Usage },
): Promise<Called<T>> {
  const prices = ev.live.evaluatorModel.pricing;
  const maxTokens = request.inferenceConfig.maxTokens;
  const worst = costUsd(prices, estimateInputTokens(JSON.stringify(request)), maxTokens);
  if (!ev.spend.reserve(worst)) return { ok: false, reason: `the gate's evaluation cap of ${ev.spend.capUsd} USD is spent (regressionGate.evaluation.maxUsd)` };
  let actual = worst;
  try {
    const p = parse(await withRetry(ev.ports, () => ev.ports.model.converse(request)));
    actual = costUsd(prices, p.usage.inputTokens, Math.min(p.usage.outputTokens, maxTokens));
    return p.ok ? { ok: true, value: p.value } : { ok: false, reason: p.reason };
  } catch (e) {
    return { ok: false, reason: `${(e as Error).name}: ${(e as Error).message}`.slice(0, 200) };
  } finally {
    ev.spend.settle(worst, actual);
  }
}

/** What the evaluator found on one replay. */
export interface ReplayEvaluation {
  /** The replay met the evaluator's expectations: deterministic checks pass, every criterion scored at its floor or above. */
  readonly passed: boolean;
  readonly reasons: readonly string[];
  readonly scores: readonly { readonly criterion: string; readonly score: number }[];
}

/**
 * Judges one replay's answer: the live section's deterministic checks (the refusal check, REFUSAL_CHECK, is scored,
 * not failed: some cases must be refused; a refusal RUBRIC is a model criterion like any other and fails under its
 * floor) and one model call per criterion. An unscored criterion fails the replay: it was not shown to pass.
 */
export async function evaluateReplay(
  input: string,
  answer: ReplayAnswer,
  criteria: readonly CaseCriterion[],
  reference: string | undefined,
  ev: GateEvaluator,
): Promise<ReplayEvaluation> {
  const reasons: string[] = [];
  for (const d of runDeterministicChecks(
    // Citation validity reads the passage ids only.
    { input, answer: answer.text, passages: answer.passages.map((p) => ({ id: p.id, textHash: '' })), citations: answer.citations },
    ev.live.deterministic,
  )) {
    if (d.score === 0 && d.criterion !== REFUSAL_CHECK) reasons.push(`${d.criterion}: ${d.reason}`);
  }
  const scale = ev.live.scale ?? { min: 1, max: 5 };
  const maxTokens = ev.live.evaluatorModel.maxTokens ?? 512;
  const scores: { criterion: string; score: number }[] = [];
  for (const c of criteria) {
    const req = buildScoreRequest(ev.modelId, maxTokens, c.rubric, scale, {
      input,
      answer: answer.text,
      passages: answer.passages,
      ...(c.rubric.criterion === 'correctness' && reference !== undefined ? { reference } : {}),
    });
    const r = await call(ev, req, (res) => parseScoreResponse(res, scale));
    if (!r.ok) {
      reasons.push(`${c.rubric.criterion}: not scored (${r.reason})`);
      continue;
    }
    scores.push({ criterion: c.rubric.criterion, score: r.value.score });
    if (r.value.score < c.floor) reasons.push(`${c.rubric.criterion}: scored ${r.value.score}, under the floor ${c.floor} (${r.value.reason.slice(0, 160)})`);
  }
  return { passed: reasons.length === 0, reasons, scores };
}

/**
 * The candidate's answer against the live config's on one input, asked in both orders (candidate as A, then as B):
 * a side wins only when both orders prefer it, so the evaluator's position bias only adds ties.
 */
export async function comparePair(
  input: string,
  candidate: ReplayAnswer,
  live: ReplayAnswer,
  ev: GateEvaluator,
): Promise<{ outcome: 'candidate' | 'live' | 'tie' | 'unscored'; reason?: string }> {
  const maxTokens = ev.live.evaluatorModel.maxTokens ?? 512;
  const passages = candidate.passages.length > 0 ? candidate.passages : live.passages;
  const ask = (a: string, b: string) =>
    call(ev, buildPreferenceRequest(ev.modelId, maxTokens, ev.live.rubrics, input, passages, a, b), (res) => parsePreferenceResponse(res));
  const first = await ask(candidate.text, live.text);
  const second = await ask(live.text, candidate.text);
  if (!first.ok || !second.ok) return { outcome: 'unscored', reason: [first, second].map((p) => (p.ok ? 'ok' : p.reason)).join('; ') };
  const o = combineOrders(first.value.preferred, second.value.preferred);
  return { outcome: o === 'canary' ? 'candidate' : o === 'stable' ? 'live' : 'tie' };
}

/** One comparison's outcome, or one case's preference over its comparisons. */
export type PairOutcome = 'candidate' | 'live' | 'tie' | 'unscored';

/**
 * The stated rule of the k-per-side comparison (issue 17 E, h7-evaluator): LLM answers vary, so a case's preference
 * is not one answer against one. The candidate answers the case's input k times and the live config k times; answer i
 * of the candidate is compared with answer i of the live config, each comparison asked in both orders (a side wins a
 * comparison only when both orders prefer it, so position bias only adds ties); the case's preference is the side
 * that won more of its k comparisons, a tie when both won as many, unscored when no comparison was scored. The sign
 * test then counts cases (one input each), never comparisons: the k answers to one input are one cluster.
 */
export function casePreference(comparisons: readonly PairOutcome[]): { outcome: PairOutcome; wins: number; losses: number; ties: number; unscored: number } {
  const count = (o: PairOutcome) => comparisons.filter((x) => x === o).length;
  const wins = count('candidate');
  const losses = count('live');
  const ties = count('tie');
  const unscored = count('unscored');
  const outcome: PairOutcome = unscored === comparisons.length ? 'unscored' : wins > losses ? 'candidate' : losses > wins ? 'live' : 'tie';
  return { outcome, wins, losses, ties, unscored };
}

/** The rule in one line, for the report. */
export function pairwiseRuleText(k: number): string {
  return `${k} answer${k === 1 ? '' : 's'} per side, answer i against answer i in both orders; a case goes to the side that won more of its ${k} comparison${k === 1 ? '' : 's'}`;
}

/** P(X ≥ losses) for X ~ Binomial(n, 1/2): the one-sided sign test of "the candidate loses more than it wins". */
export function signTestPValue(losses: number, n: number): number {
  if (n === 0) return 1;
  let logC = 0; // log C(n, 0)
  let p = 0;
  for (let x = 0; x <= n; x++) {
    if (x > 0) logC += Math.log(n - x + 1) - Math.log(x);
    if (x >= losses) p += Math.exp(logC - n * Math.LN2);
  }
  return Math.min(1, p);
}

/**
 * The pairwise decision: the config gate fails when the candidate lost more than `maxLossRate` of the decided pairs
 * AND the sign test shows it loses more than it wins (p < alpha). Both: a rate alone fails by chance on few pairs, a
 * test alone fails on a trivially small but consistent loss.
 */
export function pairwiseDecision(
  outcomes: readonly ('candidate' | 'live' | 'tie' | 'unscored')[],
  settings: { readonly maxLossRate: number; readonly alpha: number },
): { wins: number; losses: number; ties: number; unscored: number; lossRate: number; pValue: number; failed: boolean } {
  const count = (o: string) => outcomes.filter((x) => x === o).length;
  const wins = count('candidate');
  const losses = count('live');
  const ties = count('tie');
  const unscored = count('unscored');
  const n = wins + losses;
  const lossRate = n === 0 ? 0 : losses / n;
  const pValue = signTestPValue(losses, n);
  return { wins, losses, ties, unscored, lossRate, pValue, failed: n > 0 && lossRate > settings.maxLossRate && pValue < settings.alpha };
}

/** The case-level outcome of k replays under the rule: passed, failed (the rule can no longer be met), or not run. */
export function replayOutcome(pass: GateReplayPass, k: number, run: number, passed: number): 'passed' | 'failed' | 'not-run' {
  const needed = replaysNeeded(pass, k);
  if (passed >= needed) return 'passed';
  const failed = run - passed;
  if (failed > k - needed) return 'failed';
  return 'not-run';
}
