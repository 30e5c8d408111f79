/**
 * The deterministic checks in the canary judge (issue 17 A/E, h8-detjudge): each check the section runs is a pass rate,
 * judged canary against stable by the judge's concurrent rank test, in the evaluation share of the family (so the
 * false-rollback bound holds for the family). Simulated releases judged through the real wiring and engine
 * (lib/drill/evaluation-world.ts), few seeds here; 1,000 good seeds per row and the rate sweep are in
 * bench/evaluation-checks.ts (bench/RESULTS.md).
 *
 * Good releases are judged at α = 0.2 (as test/judge-evaluation-sim.test.ts) so an invalid test shows in few seeds: the
 * evaluation share is α/7 ≈ 0.029, so 12 valid releases fire 3 or more times with probability under 0.01. The control
 * shows the check tests could fail: bets at the traffic share instead of the sampled share under oversampling, while
 * the mix drifts (harder inputs fail the checks more on both versions), roll good releases back.
 */
import { type EvalWorldOptions, runEvalWorld, EXAMPLE_CHECKS as CHECKS } from '../lib/drill/evaluation-world';
import { judgedEvaluationMetrics } from '../lib/judge/canary-judge';
import { codeSteps } from '../lib/rollout/canary-plan';
import type { EvaluationConfig } from '../lambda/shared/evaluation';

const PLANNED_CODE = codeSteps('linear', 5, 3);
const PLANNED_CONFIG = [
  { share: 0.1, minutes: 5 },
  { share: 0.5, minutes: 55 },
];

async function fires(o: Omit<EvalWorldOptions, 'seed'>, seeds: number, from: number) {
  let fired = 0;
  let beforeFull = 0;
  const metrics: string[] = [];
  for (let seed = from; seed < from + seeds; seed++) {
    const out = await runEvalWorld({ ...o, seed });
    if (out.caughtAtMinute !== undefined) {
      fired++;
      metrics.push(...out.fired);
    }
    if (out.beforeFull) beforeFull++;
  }
  return { fired, beforeFull, metrics };
}

test("the example's section gives the judge its five checks beside its two criteria", () => {
  const example = {
    rubrics: [
      { criterion: 'groundedness', instructions: 'x' },
      { criterion: 'relevance', instructions: 'x' },
    ],
    deterministic: { citationValidity: true, languageMatch: true, minChars: 1, maxChars: 4000, forbiddenPatterns: ['p'] },
  } as unknown as EvaluationConfig;
  expect(judgedEvaluationMetrics(example).criteria).toEqual(['groundedness', 'relevance', ...Object.keys(CHECKS)]);
});

describe('good releases with the checks added: no false rollback beyond the bound', () => {
  const good = { rps: 5, samplingRate: 0.1, pairedLoss: 0.5, scoreDrop: 0, positionBias: 0.7, alpha: 0.2, checks: CHECKS } as const;
  // 12 valid releases fire 3 or more times with probability about 0.004 (Bin(12, 0.029)); 1,000 per row in the bench.
  test('code and config plane, a biased evaluator, under a drifting mix, a shared slowdown and clustered retries (12 releases)', async () => {
    const rows = await Promise.all([
      fires({ ...good, plane: 'code', steps: PLANNED_CODE, disturbance: 'drifting-mix' }, 3, 1101),
      fires({ ...good, plane: 'config', steps: PLANNED_CONFIG, disturbance: 'drifting-mix', driftSign: -1 }, 3, 1201),
      fires({ ...good, plane: 'config', steps: PLANNED_CONFIG, disturbance: 'shared-latency' }, 3, 1301),
      fires({ ...good, plane: 'code', steps: PLANNED_CODE, disturbance: 'retries' }, 3, 1401),
    ]);
    expect(rows.reduce((n, r) => n + r.fired, 0)).toBeLessThanOrEqual(2);
  }, 120_000);

  test('control: bets at the traffic share under oversampling, with a drifting mix, roll good releases back on the checks', async () => {
    // The canary at 20 % is sampled at r / 0.4 and stable at r / 1.6; inputs get harder, so both fail checks more later.
    // Only the checks are judged (no rubric criteria, no pairs), and they fail more often on harder inputs.
    const drift = {
      rps: 5,
      samplingRate: 0.3,
      pairedLoss: 0.5,
      scoreDrop: 0,
      alpha: 0.2,
      plane: 'config',
      steps: [{ share: 0.2, minutes: 30 }],
      disturbance: 'drifting-mix',
      paired: false,
      criteria: [],
      // Pass rates that move with the mix: 20 points per unit of difficulty, on both versions.
      checks: { 'citation-validity': { pass: 0.7 }, 'refusal-phrase': { pass: 0.7 } },
      checkDrift: 0.2,
    } as const;
    const right = await fires(drift, 4, 1501);
    const naive = await fires({ ...drift, naiveShare: true }, 4, 1501);
    expect(right.fired).toBeLessThanOrEqual(1);
    expect(naive.fired).toBeGreaterThanOrEqual(3);
  }, 120_000);
});

describe('citation validity falling from 95 % to 80 % is caught before full rollout at 5 requests/s', () => {
  const bad = {
    rps: 5,
    pairedLoss: 0.5,
    scoreDrop: 0,
    alpha: 0.01,
    disturbance: 'retries',
    checks: { ...CHECKS, 'citation-validity': { pass: 0.95, canaryPass: 0.8 } },
  } as const;
  test('config plane, planned 10 % → 50 %, scoring 10 % of answers: by the citation check', async () => {
    const r = await fires({ ...bad, plane: 'config', steps: PLANNED_CONFIG, samplingRate: 0.1 }, 4, 1601);
    expect(r.beforeFull).toBeGreaterThanOrEqual(3);
    expect(r.metrics).toContain('evaluation:citation-validity');
  }, 120_000);

  test('code plane, planned linear(5, 3 min), scoring 20 %', async () => {
    const r = await fires({ ...bad, plane: 'code', steps: PLANNED_CODE, samplingRate: 0.2 }, 4, 1701);
    expect(r.beforeFull).toBeGreaterThanOrEqual(3);
  }, 120_000);

  test("at the example's 0.5 % scoring rate it is not (too few scored answers): the bench gives the rate needed", async () => {
    const r = await fires({ ...bad, plane: 'config', steps: PLANNED_CONFIG, samplingRate: 0.005 }, 3, 1801);
    expect(r.beforeFull).toBe(0);
  }, 120_000);
});
