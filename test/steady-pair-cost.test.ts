/**
 * What code-plane pair sampling costs outside a canary (issue 17 D, h8-codepairs), as the card states it: with nothing
 * announcing the code canary the runtime writes a pair-only line for (pairing rate − scoring rate) of EVERY answer,
 * which the evaluator drops unscored; with the announcement only the canary's answers in the 60 s slack after each
 * shift remain. Log bytes per line: MEASURED_BYTES.pairOnlySampleLine (held by test/release-cost-bytes.test.ts).
 */
import { ExampleStack } from '../bin/example-stack';
import { renderCanaryCard } from '../lib/rollout/canary-card';
import { MEASURED_BYTES, US_EAST_1_PRICES } from '../lib/rollout/release-cost';
import { testApp } from './helpers';

const SECONDS_PER_MONTH = 730 * 3600;
const GB = 1024 ** 3;

describe('the steady-state pair-sampling line of the example', () => {
  // AppConfig's own rollout (the example before h12-assigned, and the library's default): nothing announces the code canary.
  const plain = new ExampleStack(testApp(), 'Example', { configCanary: 'appconfig' });
  const facts = plain.release.facts;
  const cost = facts.releaseCost!;
  const ev = cost.evaluation!;
  const sp = cost.steadyPairSampling!;
  const rps = facts.expectedRequestsPerSecond!;
  const section = (plain.release.config.config as { evaluation: { samplingRate: number } }).evaluation;

  test("configCanary 'appconfig' (the example before h12-assigned): every answer but the canary's, at pairing − scoring rate, priced", () => {
    expect(sp.codePairs).toBe('every-answer');
    expect(rps).toBe(5);
    expect(ev.pairSamplingRate).toBe(0.1);
    expect(section.samplingRate).toBe(0.005);
    // Recomputed here from the stated traffic: 13,140,000 answers a month less the canary's in 20 releases (the pairs the
    // example's linear(5, 3 min) canary plans per release).
    const canaryAnswers = (20 * ev.pairsPerRelease) / 0.1;
    const lines = (rps * SECONDS_PER_MONTH - canaryAnswers) * (0.1 - 0.005);
    expect(sp.linesPerMonth).toBeCloseTo(lines, 3);
    expect(Math.round(sp.linesPerMonth)).toBe(1_232_055);
    expect(sp.bytesPerLine).toBe(MEASURED_BYTES.pairOnlySampleLine);
    expect(sp.logsUsd).toBeCloseTo(((lines * MEASURED_BYTES.pairOnlySampleLine) / GB) * US_EAST_1_PRICES.prices.logsIngestionPerGB.usd, 9);
    const invocations = (lines / 1e6) * US_EAST_1_PRICES.prices.lambdaRequestsPerMillion.usd + lines * 0.5 * 0.1 * US_EAST_1_PRICES.prices.lambdaGbSecond.usd;
    expect(sp.invocationsUsd).toBeCloseTo(invocations, 9);
    expect(sp.totalUsd.toFixed(2)).toBe('2.48');
  });

  test('the card states it, with the fix', () => {
    const card = renderCanaryCard(facts, plain.release.policy);
    expect(card).toContain(
      'Steady-state pair sampling (code plane): the runtime cannot tell its code canary, so it writes 1,232,055 pair-only sample lines a month',
    );
    expect(card).toContain(`(${MEASURED_BYTES.pairOnlySampleLine} B each measured`);
    expect(card).toContain('**2.48 USD / month**');
    expect(card).toContain("configCanary: 'assigned'");
  });

  test('the example as shipped (assigned config canary with the regression gate): announced, only the 60 s slack after each shift remains', () => {
    const assigned = new ExampleStack(testApp(), 'Assigned');
    const a = assigned.release.facts.releaseCost!.steadyPairSampling!;
    expect(a.codePairs).toBe('announced');
    expect(a.linesPerMonth).toBeCloseTo(20 * 60 * 5 * (0.1 - 0.005), 9);
    expect(a.totalUsd).toBeLessThan(0.01);
    expect(renderCanaryCard(assigned.release.facts, assigned.release.policy)).toContain('Steady-state pair sampling (code plane): none');
  });
});
