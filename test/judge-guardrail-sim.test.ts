/**
 * The guardrail's contextual grounding scores in the canary judge's family (h11-eval17, issue 17 E), through the
 * judge's real wiring and engine (lib/drill/evaluation-world.ts `guardrail`), few seeds here; 1,000 good seeds per
 * row and the bad rows are in bench/guardrail-judge.ts (bench/RESULTS.md § h11-eval17).
 */
import { type EvalWorldOptions, runEvalWorld, EXAMPLE_CHECKS as CHECKS } from '../lib/drill/evaluation-world';
import { codeSteps } from '../lib/rollout/canary-plan';

const CODE = codeSteps('linear', 5, 3);
const base: Omit<EvalWorldOptions, 'seed'> = {
  rps: 5,
  samplingRate: 0.1,
  pairSamplingRate: 0.1,
  pairedLoss: 0.5,
  scoreDrop: 0,
  positionBias: 0.7,
  alpha: 0.01,
  checks: CHECKS,
  plane: 'code',
  steps: CODE,
  disturbance: 'retries',
};

describe('guardrail scores in the judge family', () => {
  test('the world with guardrail scores keeps the rest of its random streams: the same samples, pairs and canary samples', async () => {
    for (const seed of [1]) {
      const without = await runEvalWorld({ ...base, seed });
      const withScores = await runEvalWorld({ ...base, seed, guardrail: {} });
      expect([withScores.samples, withScores.pairs, withScores.canarySamples]).toEqual([without.samples, without.pairs, without.canarySamples]);
      // The two keys are judged (evidence per metric), and only when asked.
      expect(Object.keys(withScores.evidence)).toEqual(expect.arrayContaining(['evaluation:guardrail-groundedness', 'evaluation:guardrail-relevance']));
      expect(Object.keys(without.evidence).some((m) => m.startsWith('evaluation:guardrail-'))).toBe(false);
    }
  }, 60_000);

  test('good releases under a drifting mix and clustered retries: no rollback (10 % scoring, 3 seeds each)', async () => {
    for (let seed = 1; seed <= 3; seed++)
      for (const disturbance of ['drifting-mix', 'retries'] as const) {
        const out = await runEvalWorld({ ...base, seed: 700 + seed, disturbance, guardrail: {} });
        expect(out.caughtAtMinute).toBeUndefined();
      }
  }, 120_000);

  test('answers from memory on half the questions (guardrail groundedness about 0.9 → 0.3 on them): the guardrail key catches it before full rollout, without it the judge does not', async () => {
    const bad: Omit<EvalWorldOptions, 'seed'> = {
      ...base,
      positionBias: 0,
      affectedShare: 0.5,
      // Only the guardrail's groundedness moves: the rubric scores and the pairs (50/50) see nothing.
      scoreDrop: { groundedness: 0, relevance: 0 },
    };
    let caughtWith = 0;
    let byGuardrail = 0;
    let caughtWithout = 0;
    for (let seed = 1; seed <= 4; seed++) {
      const on = await runEvalWorld({ ...bad, seed: 900 + seed, guardrail: { canaryDrop: { groundedness: 3 } } });
      if (on.beforeFull) caughtWith++;
      if (on.fired.includes('evaluation:guardrail-groundedness')) byGuardrail++;
      const off = await runEvalWorld({ ...bad, seed: 900 + seed });
      if (off.beforeFull) caughtWithout++;
    }
    // 4 of 4 before full rollout on these seeds (6 of 6 on 901–906) (at 30 % of questions about half: bench/guardrail-judge.ts).
    expect(caughtWith).toBeGreaterThanOrEqual(3);
    expect(byGuardrail).toBeGreaterThanOrEqual(3);
    expect(caughtWithout).toBeLessThanOrEqual(1);
  }, 120_000);
});
