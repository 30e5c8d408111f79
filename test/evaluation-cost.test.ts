/**
 * The evaluation's cost in model calls (issue 17 D), per release and per month at the stated traffic: the arithmetic
 * checked by hand, the token estimate tied to the evaluator's real requests, the caps, the price table check, and the
 * example's card.
 */
import { App } from 'aws-cdk-lib';
import { buildScoreRequest } from '../lambda/evaluator/converse';
import type { EvaluationConfig } from '../lambda/shared/evaluation';
import { renderCanaryCard } from '../lib';
import { baseModelId, type EvaluationCostConfig, evaluationCost, MODEL_PRICES, renderEvaluationCostLines } from '../lib/rollout/evaluation-cost';
import { releaseCost } from '../lib/rollout/release-cost';

const SONNET = { inputPer1kTokensUsd: 0.003, outputPer1kTokensUsd: 0.015 };
const HAIKU = { inputPer1kTokensUsd: 0.001, outputPer1kTokensUsd: 0.005 };
const evaluation = (over: Partial<EvaluationConfig> = {}): EvaluationConfig => ({
  evaluatorModel: { modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', pricing: SONNET, maxTokens: 300 },
  rubrics: [
    { criterion: 'groundedness', instructions: 'Every claim is supported by the passages.' },
    { criterion: 'relevance', instructions: 'The answer addresses the question.' },
  ],
  samplingRate: 0.02,
  budget: { perReleaseUsd: 20, perDayUsd: 500 },
  ...over,
});
const config = (e: EvaluationConfig = evaluation()): EvaluationCostConfig => ({
  evaluation: e,
  model: { modelId: 'us.anthropic.claude-haiku-4-5-20251001-v1:0', pricing: HAIKU },
  retrieval: { topK: 3 },
  prompt: { system: 'You answer from the passages.', template: 'Question: {{question}}\nPassages:\n{{passages}}\n' },
});

describe('evaluationCost', () => {
  test('per release: samples x rubrics x tokens x the evaluator price, plus per canary sample 2 shadow answers and 2 preference calls', () => {
    const c = evaluationCost({ requestsPerSecond: 5, releaseHours: 1, releasesPerMonth: 20, config: config() });
    const t = c.tokens;
    // 5 rps x 3,600 s x 2 %: 360 samples in the release's hour; the canary gives half (oversampled to equal counts).
    expect(c.samplesPerRelease).toBe(360);
    expect(c.pairsPerRelease).toBe(180);
    const score = (t.scoreInput.groundedness * 0.003 + 120 * 0.015 + t.scoreInput.relevance * 0.003 + 120 * 0.015) / 1000;
    expect(c.scoreUsd).toBeCloseTo(score, 12);
    const pair = (2 * (t.shadowInput * 0.001 + t.shadowOutput * 0.005) + 2 * (t.preferenceInput * 0.003 + 120 * 0.015)) / 1000;
    expect(c.pairUsd).toBeCloseTo(pair, 12);
    expect(c.perReleaseUsd).toBeCloseTo(360 * score + 180 * pair, 10);
    // The month: the steady state (730 h less 20 release hours) at the base rate, plus 20 releases.
    expect(c.steadySamplesPerMonth).toBeCloseTo((730 - 20) * 3600 * 5 * 0.02, 6);
    expect(c.perMonthUsd).toBeCloseTo(c.steadySamplesPerMonth * score + 20 * c.perReleaseUsd, 8);
  });

  test("the token estimate is the evaluator's real request: a longer rubric costs more tokens, by its characters / 4", () => {
    const long = 'Every claim is supported by the passages. '.repeat(20);
    const a = evaluationCost({ requestsPerSecond: 1, config: config() });
    const b = evaluationCost({ requestsPerSecond: 1, config: config(evaluation({ rubrics: [{ criterion: 'groundedness', instructions: long }] })) });
    const extra = long.length - 'Every claim is supported by the passages.'.length;
    expect(b.tokens.scoreInput.groundedness - a.tokens.scoreInput.groundedness).toBeGreaterThanOrEqual(Math.floor(extra / 4) - 1);
    expect(b.tokens.scoreInput.groundedness - a.tokens.scoreInput.groundedness).toBeLessThanOrEqual(Math.ceil(extra / 4) + 1);
    // At least the message text of the request (the tool schema and system prompt come on top).
    const req = buildScoreRequest(
      'm',
      300,
      { criterion: 'relevance', instructions: 'The answer addresses the question.' },
      { min: 1, max: 5 },
      {
        input: 'x'.repeat(300),
        answer: 'x'.repeat(800),
        passages: [1, 2, 3].map((i) => ({ id: `p${i}`, text: 'x'.repeat(700) })),
      },
    );
    expect(a.tokens.scoreInput.relevance).toBeGreaterThan(req.messages[0].content[0].text.length / 4);
    // Correctness needs a reference answer: live samples are not scored on it.
    const withCorrectness = evaluation({ rubrics: [...evaluation().rubrics, { criterion: 'correctness', instructions: 'Matches the reference.' }] });
    expect(Object.keys(evaluationCost({ requestsPerSecond: 1, config: config(withCorrectness) }).tokens.scoreInput)).toEqual(['groundedness', 'relevance']);
  });

  test('a pairing rate of its own: pairs cost the release, not the month; scoring and pairs are priced apart', () => {
    const plain = evaluationCost({ requestsPerSecond: 5, config: config() });
    const c = evaluationCost({ requestsPerSecond: 5, config: config(evaluation({ paired: { samplingRate: 0.2 } })) });
    // 1 h release, the canary serving half: 5 x 3,600 x 0.5 x 0.2 = 1,800 pairs; scoring unchanged.
    expect(c.pairSamplingRate).toBe(0.2);
    expect(c.pairsPerRelease).toBeCloseTo(1800, 9);
    expect(c.samplesPerRelease).toBe(plain.samplesPerRelease);
    expect(c.scoringPerReleaseUsd).toBeCloseTo(plain.scoringPerReleaseUsd, 12);
    expect(c.pairsPerReleaseUsd).toBeCloseTo(1800 * c.pairUsd, 9);
    expect(c.perReleaseUncappedUsd).toBeCloseTo(c.scoringPerReleaseUsd + c.pairsPerReleaseUsd, 9);
    expect(c.steadySamplesPerMonth).toBe(plain.steadySamplesPerMonth);
    expect(c.dayBudgetHours).toBe(plain.dayBudgetHours);
    // On a schedule: step by step, pairs at the canary's share x pairing rate until 100 %.
    const s = evaluationCost({
      requestsPerSecond: 5,
      schedule: { steps: [{ share: 0.1, minutes: 5 }], plane: 'code' },
      config: config(evaluation({ paired: { samplingRate: 0.2 } })),
    });
    expect(s.samplesPerRelease).toBeCloseTo(5 * 300 * 0.02, 9);
    expect(s.pairsPerRelease).toBeCloseTo(5 * 300 * 0.1 * 0.2, 9);
  });

  test('a config release on the assigned schedule is costed at paired.configSamplingRate; the code release keeps paired.samplingRate; one budget per release', () => {
    const e = evaluation({ paired: { samplingRate: 0.1, configSamplingRate: 0.3 } });
    const code = { steps: [{ share: 0.1, minutes: 5 }], plane: 'code' as const };
    const c = evaluationCost({ requestsPerSecond: 5, schedule: code, configSchedule: [{ share: 0.5, minutes: 10 }], config: config(e) });
    // Code: 5 x 300 requests x 0.1 share x 0.1 = 15 pairs, as without a config rate.
    expect(c.pairSamplingRate).toBe(0.1);
    expect(c.pairsPerRelease).toBeCloseTo(15, 9);
    expect(c.perReleaseUsd).toBeCloseTo(
      evaluationCost({ requestsPerSecond: 5, schedule: code, config: config(evaluation({ paired: { samplingRate: 0.1 } })) }).perReleaseUsd,
      12,
    );
    // Config: 5 x 600 requests, half the canary's, 0.3 of those paired = 450; scoring 0.02 of all = 60.
    expect(c.configRelease).toMatchObject({ pairSamplingRate: 0.3, minutes: 10 });
    expect(c.configRelease?.pairs).toBeCloseTo(450, 9);
    expect(c.configRelease?.samples).toBeCloseTo(60, 9);
    expect(c.configRelease?.perReleaseUncappedUsd).toBeCloseTo(450 * c.pairUsd + 60 * c.scoreUsd, 12);
    // Left out, the config release pairs at paired.samplingRate.
    const dflt = evaluationCost({
      requestsPerSecond: 5,
      configSchedule: [{ share: 0.5, minutes: 10 }],
      config: config(evaluation({ paired: { samplingRate: 0.1 } })),
    });
    expect(dflt.configRelease?.pairs).toBeCloseTo(150, 9);
    // The release budget caps a config release too, and the card says so on its own line.
    const tight = evaluationCost({
      requestsPerSecond: 5,
      schedule: code,
      configSchedule: [{ share: 0.5, minutes: 10 }],
      config: config({ ...e, budget: { perReleaseUsd: 1, perDayUsd: 50 } }),
    });
    expect(tight.configRelease?.perReleaseUncappedUsd).toBeGreaterThan(1);
    expect(tight.configRelease?.perReleaseUsd).toBe(1);
    const lines = renderEvaluationCostLines(tight, 5).join('\n');
    expect(lines).toMatch(
      /\| pairs per config release \| 450 config canary answers paired on the assigned schedule \(10 min; pairing rate 0\.3, paired\.configSamplingRate\) \|/,
    );
    expect(lines).toContain(
      `| **per config release** | 60 samples, 450 pairs | **1.00 USD** (capped: ${tight.configRelease?.perReleaseUncappedUsd.toFixed(2)} USD expected) |`,
    );
    expect(lines).toContain('per release (code or config)');
    // No assigned schedule: no config release line.
    expect(renderEvaluationCostLines(dflt, 5).join('\n')).toContain('per config release');
    expect(evaluationCost({ requestsPerSecond: 5, config: config(e) }).configRelease).toBeUndefined();
  });

  test('paired off: no shadow answers, no preference calls', () => {
    const c = evaluationCost({ requestsPerSecond: 5, config: config(evaluation({ paired: false })) });
    expect(c.pairsPerRelease).toBe(0);
    expect(c.pairUsd).toBe(0);
    expect(c.perReleaseUsd).toBeCloseTo(c.samplesPerRelease * c.scoreUsd, 12);
  });

  test('the caps: a release stops at its budget, the month at 30.4 day budgets; the card says when the day budget runs out', () => {
    const c = evaluationCost({ requestsPerSecond: 50, config: config(evaluation({ budget: { perReleaseUsd: 5, perDayUsd: 50 } })) });
    expect(c.perReleaseUncappedUsd).toBeGreaterThan(5);
    expect(c.perReleaseUsd).toBe(5);
    expect(c.perMonthUsd).toBeCloseTo((730 / 24) * 50, 8);
    expect(c.dayBudgetHours).toBeCloseTo(50 / ((c.steadySamplesPerMonth / 730) * c.scoreUsd), 8);
    const lines = renderEvaluationCostLines(c, 50).join('\n');
    expect(lines).toContain(`**5.00 USD** (capped: ${c.perReleaseUncappedUsd.toFixed(2)} USD expected)`);
    expect(lines).toMatch(/the day budget pays for about [0-9.]+ h of scoring: sampling stops for the rest of each day/);
  });

  test('prices are checked against the price table (model, date, source); a difference or a missing model is said', () => {
    expect(MODEL_PRICES[baseModelId('us.anthropic.claude-sonnet-4-5-20250929-v1:0')]).toMatchObject({ ...SONNET, date: '2026-12-07' });
    expect(MODEL_PRICES['anthropic.claude-haiku-4-5-20251001-v1:0']).toMatchObject(HAIKU);
    expect(MODEL_PRICES['anthropic.claude-haiku-4-5-20251001-v1:0'].source).toContain('https://aws.amazon.com/bedrock/pricing/');
    expect(evaluationCost({ requestsPerSecond: 1, config: config() }).priceNotes).toEqual([]);
    const cheap = evaluationCost({
      requestsPerSecond: 1,
      config: config(
        evaluation({
          evaluatorModel: {
            modelId: 'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
            pricing: { inputPer1kTokensUsd: 0.0003, outputPer1kTokensUsd: 0.015 },
          },
        }),
      ),
    });
    expect(cheap.priceNotes[0]).toContain(
      'the release config prices it at 0.0003 / 0.015 USD per 1,000 input / output tokens, the price table at 0.003 / 0.015',
    );
    const unknown = evaluationCost({
      requestsPerSecond: 1,
      config: config(evaluation({ evaluatorModel: { modelId: 'us.amazon.nova-pro-v1:0', pricing: SONNET } })),
    });
    expect(unknown.priceNotes[0]).toBe('evaluator model us.amazon.nova-pro-v1:0 is not in the price table: its release-config prices are used unchecked');
  });

  test('bad input names the field', () => {
    expect(() => evaluationCost({ requestsPerSecond: 0, config: config() })).toThrow('requestsPerSecond must be a positive number, got 0');
    expect(() => evaluationCost({ requestsPerSecond: 1, config: config(), tokens: { answerChars: -1 } })).toThrow(
      'tokens.answerChars must be a number of at least 0, got -1',
    );
  });

  test('release cost: the evaluation is its own block, apart from the machinery total and its Powertools ratio', () => {
    const base = { requestsPerSecond: 5, highResolutionAlarmMetrics: 10, standardAlarmMetrics: 2, compositeAlarms: 1, metricNames: 12 };
    const without = releaseCost(base);
    const withEval = releaseCost({ ...base, evaluation: { config: config() } });
    expect(withEval.totalUsd).toBeCloseTo(without.totalUsd, 12);
    expect(withEval.ratio).toBeCloseTo(without.ratio, 12);
    expect(withEval.evaluation?.perReleaseUsd).toBeGreaterThan(0);
    expect(without.evaluation).toBeUndefined();
  });
});

describe("the example's card", () => {
  test('states the evaluation cost per release and per month at 5 requests/s, with the token assumptions', () => {
    const { ExampleStack } = require('../bin/example-stack');
    // The example as shipped: the canary plan's code schedule (linear 5 % every 3 minutes), counted below.
    const stack = new ExampleStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Example');
    const r = stack.release;
    const e = r.facts.releaseCost.evaluation;
    const card = renderCanaryCard(r.facts, r.policy);
    expect(card).toContain('### Evaluation (model calls)');
    // A release is the configured code schedule (linear 5 % every 3 min, 57 min): 0.5 % of its requests scored, 10 %
    // of the canary's answers paired (the canary serves 50 % on average): 85.5 samples and 855 pairs.
    expect(e.samplesPerRelease).toBeCloseTo(5 * 60 * 57 * 0.005, 6);
    expect(e.pairsPerRelease).toBeCloseTo(5 * 60 * 3 * 9.5 * 0.1, 6); // Σ shares 0.05 + … + 0.95 = 9.5, 3 min each
    expect(card).toContain(`| scoring per release | 86 samples (samplingRate) | ${e.scoringPerReleaseUsd.toFixed(4)} USD |`);
    expect(card).toContain(
      `| pairs per release | 855 canary answers paired (pairing rate 0.1; pair-only answers are compared, not scored) | ${e.pairsPerReleaseUsd.toFixed(2)} USD |`,
    );
    expect(card).toContain(`| **per release** | 86 samples, 855 pairs | **${e.perReleaseUsd.toFixed(2)} USD** |`);
    expect(e.perReleaseUsd).toBeLessThan(20);
    expect(card).toContain('Token assumptions (estimated from the evaluator');
    // 0.5 % of 5 requests/s scored on two rubrics at Sonnet 4.5 prices: about 21.6 USD a day, within the 50 USD day
    // budget with room for a release's pairs.
    expect(e.dayBudgetHours).toBeGreaterThan(24);
    expect((e.dayBudgetHours > 0 ? 50 / e.dayBudgetHours : 0) * 24 + e.perReleaseUsd).toBeLessThan(50);
    expect(card).not.toContain('sampling stops for the rest of each day');
  });
});
