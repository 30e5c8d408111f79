/**
 * What evaluating a service's answers costs in model calls (issue 17 D), per release and per month at the stated
 * traffic: sampled answers × rubrics × the evaluator's tokens × the evaluator's price, plus, for each sampled canary
 * answer during a release, the two shadow answers (both arms replayed on the same input, at the service model's price)
 * and the two pairwise preference calls (both orders, at the evaluator's price). Pure arithmetic.
 *
 * Tokens are estimated from the evaluator's REAL requests (lambda/evaluator/converse.ts) built with the release config's
 * rubrics on an answer of typical size (the assumptions below, stated on the card), at 4 characters per token
 * (English text; scripts without spaces take more tokens per character).
 */
import bundled from './data/prices-us-east-1.json';
import { buildPreferenceRequest, buildScoreRequest, type ConverseRequest } from '../../lambda/evaluator/converse';
import { type EvaluationConfig, pairSamplingRate, pairsOn } from '../../lambda/shared/evaluation';
import { type PlanStep, releaseDraws } from './canary-plan';

/** What an answer of typical size is, for the token estimate. Every field has a default, stated on the card. */
export interface EvaluationTokenAssumptions {
  /** Characters of a question. @default 300 */
  readonly questionChars: number;
  /** Characters of an answer. @default 800 */
  readonly answerChars: number;
  /** Characters of one retrieved passage. @default 700 */
  readonly passageChars: number;
  /** Passages per answer. @default the retrieval section's topK, else 4 */
  readonly passages?: number;
  /** Tokens the evaluator answers with per call (the tool call: a score or preference and a short reason). @default 120 */
  readonly evaluatorOutputTokens: number;
  /** Characters per token. @default 4 */
  readonly charsPerToken: number;
}

export const DEFAULT_TOKEN_ASSUMPTIONS: EvaluationTokenAssumptions = {
  questionChars: 300,
  answerChars: 800,
  passageChars: 700,
  evaluatorOutputTokens: 120,
  charsPerToken: 4,
};

type Pricing = { readonly inputPer1kTokensUsd: number; readonly outputPer1kTokensUsd: number };

/** The parts of a release config the estimate reads. */
export interface EvaluationCostConfig {
  readonly evaluation: EvaluationConfig;
  readonly model: { readonly modelId: string; readonly pricing: Pricing };
  readonly retrieval?: { readonly topK?: number };
  readonly prompt?: { readonly system?: string; readonly template?: string };
}

export interface EvaluationCostInputs {
  readonly requestsPerSecond: number;
  /** @default 20 */
  readonly releasesPerMonth?: number;
  /** Hours a release's canary runs (both versions serve). @default 1 */
  readonly releaseHours?: number;
  /**
   * The release's canary schedule (until 100 %) and plane: samples and pairs are then counted step by step (pairs at
   * the canary's share and pairing rate), and a release lasts the schedule's minutes.
   * @default none: a release of `releaseHours` with the canary serving half the requests on average
   */
  readonly schedule?: { readonly steps: readonly PlanStep[]; readonly plane: 'code' | 'config' };
  /**
   * The assigned config canary's schedule, when the service has one: a config release is then costed on its own, at
   * the config plane's pairing rate (paired.configSamplingRate), beside the release of `schedule`. @default none
   */
  readonly configSchedule?: readonly PlanStep[];
  readonly config: EvaluationCostConfig;
  readonly tokens?: Partial<EvaluationTokenAssumptions>;
}

/** A model's list price as the price table records it (USD per 1,000 tokens), with its date and source. */
export interface ModelPrice extends Pricing {
  readonly date: string;
  readonly source: string;
}

export interface EvaluationCost {
  /** Expected evaluation cost of one release, and the same after the per-release cap (sampling stops at the cap). */
  readonly perReleaseUsd: number;
  readonly perReleaseUncappedUsd: number;
  /** Expected per month (steady-state scoring plus the releases), after the caps, and before them. */
  readonly perMonthUsd: number;
  readonly perMonthUncappedUsd: number;
  readonly samplesPerRelease: number;
  readonly pairsPerRelease: number;
  /**
   * The release-time pairing rate on `schedule`'s plane (evaluation.paired.samplingRate, on the config plane
   * paired.configSamplingRate; else the samplingRate; 0: pairs off).
   */
  readonly pairSamplingRate: number;
  /** One config release on the assigned config canary's schedule (present with `configSchedule`). */
  readonly configRelease?: ConfigReleaseCost;
  /** USD per release of scoring and of pairs, before the cap (they add up to perReleaseUncappedUsd). */
  readonly scoringPerReleaseUsd: number;
  readonly pairsPerReleaseUsd: number;
  readonly steadySamplesPerMonth: number;
  /** USD of scoring one sample on every live rubric; of one paired comparison (2 shadow answers, 2 preference calls). */
  readonly scoreUsd: number;
  readonly pairUsd: number;
  readonly tokens: {
    readonly assumptions: EvaluationTokenAssumptions & { readonly passages: number };
    /** Input tokens of one score call per rubric (criterion → tokens). */
    readonly scoreInput: Readonly<Record<string, number>>;
    readonly preferenceInput: number;
    readonly shadowInput: number;
    readonly shadowOutput: number;
    readonly evaluatorOutput: number;
  };
  readonly evaluatorModelId: string;
  readonly serviceModelId: string;
  /** Where the config's prices differ from the price table's (or the table has none), one line each. */
  readonly priceNotes: readonly string[];
  readonly budget: { readonly perReleaseUsd: number; readonly perDayUsd: number };
  /** Hours of steady-state scoring the day budget pays for; under 24: sampling stops for the rest of each day. */
  readonly dayBudgetHours: number;
}

/** What one config release on the assigned schedule draws and spends (before and after budget.perReleaseUsd). */
export interface ConfigReleaseCost {
  /** evaluation.paired.configSamplingRate (default paired.samplingRate). */
  readonly pairSamplingRate: number;
  readonly minutes: number;
  readonly samples: number;
  readonly pairs: number;
  readonly scoringUsd: number;
  readonly pairsUsd: number;
  readonly perReleaseUsd: number;
  readonly perReleaseUncappedUsd: number;
}

const HOURS_PER_MONTH = 730;
const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;

/** The price table's model prices, keyed by base model id (no `us.`/`eu.`/`apac.`/`global.` profile prefix). */
export const MODEL_PRICES: Readonly<Record<string, ModelPrice>> = (bundled as { models?: Record<string, ModelPrice> }).models ?? {};

/** The base model id of a model id or system-defined inference profile id. */
export const baseModelId = (id: string): string => id.replace(/^(us|eu|apac|us-gov|ca|jp|au|global)\./, '');

const tokensOf = (r: ConverseRequest, charsPerToken: number) =>
  Math.ceil(JSON.stringify({ system: r.system, messages: r.messages, tools: r.toolConfig.tools }).length / charsPerToken);

const callUsd = (p: Pricing, input: number, output: number) => (input / 1000) * p.inputPer1kTokensUsd + (output / 1000) * p.outputPer1kTokensUsd;

function priceNote(what: string, modelId: string, p: Pricing): string | undefined {
  const table = MODEL_PRICES[baseModelId(modelId)];
  if (!table) return `${what} ${modelId} is not in the price table: its release-config prices are used unchecked`;
  if (Math.abs(table.inputPer1kTokensUsd - p.inputPer1kTokensUsd) > 1e-12 || Math.abs(table.outputPer1kTokensUsd - p.outputPer1kTokensUsd) > 1e-12)
    return (
      `${what} ${modelId}: the release config prices it at ${p.inputPer1kTokensUsd} / ${p.outputPer1kTokensUsd} USD per 1,000 input / output tokens, ` +
      `the price table at ${table.inputPer1kTokensUsd} / ${table.outputPer1kTokensUsd} (${table.source}, ${table.date}); the config's prices are used`
    );
  return undefined;
}

export function evaluationCost(i: EvaluationCostInputs): EvaluationCost {
  const e = i.config.evaluation;
  if (!(Number.isFinite(i.requestsPerSecond) && i.requestsPerSecond > 0))
    throw new Error(`evaluation cost requestsPerSecond must be a positive number, got ${i.requestsPerSecond}; state expectedRequestsPerSecond`);
  const t = { ...DEFAULT_TOKEN_ASSUMPTIONS, ...i.tokens };
  const passages = t.passages ?? i.config.retrieval?.topK ?? 4;
  for (const [k, v] of Object.entries({ ...t, passages }))
    if (!(Number.isFinite(v) && v >= 0)) throw new Error(`evaluation cost tokens.${k} must be a number of at least 0, got ${v}`);
  const releases = i.releasesPerMonth ?? 20;
  const releaseHours = i.schedule ? i.schedule.steps.reduce((a, x) => a + x.minutes, 0) / 60 : (i.releaseHours ?? 1);
  const scale = e.scale ?? { min: 1, max: 5 };
  const maxTokens = e.evaluatorModel.maxTokens ?? 512;
  const text = (n: number) => 'x'.repeat(Math.round(n));
  const typical = {
    input: text(t.questionChars),
    answer: text(t.answerChars),
    passages: Array.from({ length: passages }, (_, k) => ({ id: `p${k + 1}`, text: text(t.passageChars) })),
  };
  // Live samples have no reference answer: correctness is scored on regression cases (the gate), not here.
  const rubrics = e.rubrics.filter((r) => r.criterion !== 'correctness');
  const scoreInput = Object.fromEntries(
    rubrics.map((r) => [r.criterion, tokensOf(buildScoreRequest(e.evaluatorModel.modelId, maxTokens, r, scale, typical), t.charsPerToken)]),
  );
  const preferenceInput = tokensOf(
    buildPreferenceRequest(e.evaluatorModel.modelId, maxTokens, rubrics, typical.input, typical.passages, typical.answer, typical.answer),
    t.charsPerToken,
  );
  const out = Math.min(t.evaluatorOutputTokens, maxTokens);
  const shadowInput = Math.ceil(
    ((i.config.prompt?.system?.length ?? 0) + (i.config.prompt?.template?.length ?? 0) + t.questionChars + passages * t.passageChars) / t.charsPerToken,
  );
  const shadowOutput = Math.ceil(t.answerChars / t.charsPerToken);
  const ev = e.evaluatorModel.pricing;
  const scoreUsd = Object.values(scoreInput).reduce((s, n) => s + callUsd(ev, n, out), 0);
  const paired = pairsOn(e);
  const pairRate = pairSamplingRate(e, i.schedule?.plane ?? 'code');
  const pairUsd = paired ? 2 * callUsd(i.config.model.pricing, shadowInput, shadowOutput) + 2 * callUsd(ev, preferenceInput, out) : 0;

  // The runtime oversamples the canary so both versions give comparable counts: the total rate stays the base rate,
  // and half of a release's samples are the canary's, each of which gets a paired comparison; a pairing rate of its
  // own (paired.samplingRate) pairs that share of the canary's answers too (the canary serving half on average).
  const requestsPerRelease = i.requestsPerSecond * 3600 * releaseHours;
  const drawn = i.schedule ? releaseDraws(i.schedule.steps, i.requestsPerSecond, e.samplingRate, pairRate, i.schedule.plane) : undefined;
  const samplesPerRelease = drawn ? drawn.samples : requestsPerRelease * e.samplingRate;
  const pairsPerRelease = !paired ? 0 : drawn ? drawn.pairs : requestsPerRelease * Math.max(e.samplingRate / 2, 0.5 * pairRate);
  const scoringPerReleaseUsd = samplesPerRelease * scoreUsd;
  const pairsPerReleaseUsd = pairsPerRelease * pairUsd;
  const perReleaseUncappedUsd = scoringPerReleaseUsd + pairsPerReleaseUsd;
  const perReleaseUsd = Math.min(perReleaseUncappedUsd, e.budget.perReleaseUsd);
  const requestsPerMonth = i.requestsPerSecond * 3600 * HOURS_PER_MONTH;
  const steadySamplesPerMonth = Math.max(0, requestsPerMonth - releases * i.requestsPerSecond * 3600 * releaseHours) * e.samplingRate;
  const perMonthUncappedUsd = steadySamplesPerMonth * scoreUsd + releases * perReleaseUncappedUsd;
  const perMonthUsd = Math.min(steadySamplesPerMonth * scoreUsd + releases * perReleaseUsd, DAYS_PER_MONTH * e.budget.perDayUsd);
  const steadyPerHourUsd = (steadySamplesPerMonth / HOURS_PER_MONTH) * scoreUsd;
  // The budget is one per release, whichever plane released (the evaluator charges the tuple first seen in the release
  // window: lambda/evaluator/budget.ts observeTuple), so a config release is capped by the same perReleaseUsd.
  const configRelease = ((): ConfigReleaseCost | undefined => {
    if (!i.configSchedule) return undefined;
    const rate = pairSamplingRate(e, 'config');
    const d = releaseDraws(i.configSchedule, i.requestsPerSecond, e.samplingRate, rate, 'config');
    const pairs = paired ? d.pairs : 0;
    const uncapped = d.samples * scoreUsd + pairs * pairUsd;
    return {
      pairSamplingRate: rate,
      minutes: i.configSchedule.reduce((a, x) => a + x.minutes, 0),
      samples: d.samples,
      pairs,
      scoringUsd: d.samples * scoreUsd,
      pairsUsd: pairs * pairUsd,
      perReleaseUsd: Math.min(uncapped, e.budget.perReleaseUsd),
      perReleaseUncappedUsd: uncapped,
    };
  })();
  const priceNotes = [
    priceNote('evaluator model', e.evaluatorModel.modelId, ev),
    paired ? priceNote('service model', i.config.model.modelId, i.config.model.pricing) : undefined,
  ].filter((x): x is string => x !== undefined);
  return {
    perReleaseUsd,
    perReleaseUncappedUsd,
    perMonthUsd,
    perMonthUncappedUsd,
    samplesPerRelease,
    pairsPerRelease,
    pairSamplingRate: pairRate,
    ...(configRelease ? { configRelease } : {}),
    scoringPerReleaseUsd,
    pairsPerReleaseUsd,
    steadySamplesPerMonth,
    scoreUsd,
    pairUsd,
    tokens: { assumptions: { ...t, passages }, scoreInput, preferenceInput, shadowInput, shadowOutput, evaluatorOutput: out },
    evaluatorModelId: e.evaluatorModel.modelId,
    serviceModelId: i.config.model.modelId,
    priceNotes,
    budget: e.budget,
    dayBudgetHours: steadyPerHourUsd > 0 ? e.budget.perDayUsd / steadyPerHourUsd : Number.POSITIVE_INFINITY,
  };
}

const usd = (x: number) => `${x < 1 ? x.toFixed(4) : x.toFixed(2)} USD`;
const n0 = (x: number) => Math.round(x).toLocaleString('en-US');

/** The card's lines on the evaluation cost (appended to the machinery cost section). */
export function renderEvaluationCostLines(c: EvaluationCost, requestsPerSecond: number): string[] {
  const tk = c.tokens;
  const a = tk.assumptions;
  const cr = c.configRelease;
  const lines = [
    '### Evaluation (model calls)',
    '',
    `At ${requestsPerSecond} requests/s; evaluator \`${c.evaluatorModelId}\`, service model \`${c.serviceModelId}\` (prices from the release config):`,
    '',
    '| item | quantity | USD |',
    '|---|---|---|',
    `| scoring, per sample | ${Object.entries(tk.scoreInput)
      .map(([k, v]) => `${k} ${n0(v)} in + ${tk.evaluatorOutput} out tokens`)
      .join('; ')} | ${usd(c.scoreUsd)} |`,
    ...(c.pairUsd > 0
      ? [
          `| paired comparison, per sampled canary answer | 2 shadow answers (${n0(tk.shadowInput)} in + ${n0(tk.shadowOutput)} out tokens each, service model) + 2 preference calls, both orders (${n0(tk.preferenceInput)} in + ${tk.evaluatorOutput} out tokens each) | ${usd(c.pairUsd)} |`,
        ]
      : []),
    `| scoring per release | ${n0(c.samplesPerRelease)} samples (samplingRate) | ${usd(c.scoringPerReleaseUsd)} |`,
    ...(c.pairUsd > 0
      ? [
          `| pairs per release | ${n0(c.pairsPerRelease)} canary answers paired (pairing rate ${c.pairSamplingRate}; pair-only answers are compared, not scored) | ${usd(c.pairsPerReleaseUsd)} |`,
        ]
      : []),
    `| **per release** | ${n0(c.samplesPerRelease)} samples, ${n0(c.pairsPerRelease)} pairs | **${usd(c.perReleaseUsd)}**${c.perReleaseUsd < c.perReleaseUncappedUsd ? ` (capped: ${usd(c.perReleaseUncappedUsd)} expected)` : ''} |`,
    ...(cr
      ? [
          `| pairs per config release | ${n0(cr.pairs)} config canary answers paired on the assigned schedule (${cr.minutes} min; pairing rate ${cr.pairSamplingRate}, paired.configSamplingRate) | ${usd(cr.pairsUsd)} |`,
          `| **per config release** | ${n0(cr.samples)} samples, ${n0(cr.pairs)} pairs | **${usd(cr.perReleaseUsd)}**${cr.perReleaseUsd < cr.perReleaseUncappedUsd ? ` (capped: ${usd(cr.perReleaseUncappedUsd)} expected)` : ''} |`,
        ]
      : []),
    `| **per month** | ${n0(c.steadySamplesPerMonth)} steady-state samples and the releases | **${usd(c.perMonthUsd)}**${c.perMonthUsd < c.perMonthUncappedUsd - 1e-9 ? ` (capped: ${usd(c.perMonthUncappedUsd)} expected)` : ''} |`,
    '',
    `Budget: ${usd(c.budget.perReleaseUsd)} per release (code or config), ${usd(c.budget.perDayUsd)} per day; sampling stops when one is spent (the review says when). ` +
      (cr ? "The month counts every release at the code release's figure. " : '') +
      (c.dayBudgetHours < 24
        ? `**At this traffic the day budget pays for about ${Math.round(c.dayBudgetHours * 10) / 10} h of scoring: sampling stops for the rest of each day** (lower samplingRate or raise budget.perDayUsd). `
        : '') +
      `Token assumptions (estimated from the evaluator's real requests with these rubrics): a question of ${a.questionChars} characters, an answer of ${a.answerChars}, ` +
      `${a.passages} passages of ${a.passageChars}, ${a.charsPerToken} characters per token, ${a.evaluatorOutputTokens} tokens per evaluator answer. ` +
      'Not counted: prompt caching, retries of throttled calls, Bedrock batch or global-profile discounts.',
    '',
    ...c.priceNotes.map((p) => `- Price check: ${p}.`),
    ...(c.priceNotes.length ? [''] : []),
  ];
  return lines;
}
