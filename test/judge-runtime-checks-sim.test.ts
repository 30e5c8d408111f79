/**
 * The runtime's check-result lines in the canary judge (h9-checks): simulated releases at the example's traffic and
 * evaluation rates (5 req/s, scoring 0.5 %, pairs 10 %), the checks computed on every answer and read by the real
 * `judgeEvaluations` from the service's log group (lib/drill/evaluation-world.ts `runtimeChecks`). Few seeds here;
 * 100 bad and 300 good seeds per row are in bench/evaluation-checks.ts (runtime-bad / runtime-good, bench/RESULTS.md).
 */
import { type EvalWorldOptions, runEvalWorld, EXAMPLE_CHECKS as CHECKS } from '../lib/drill/evaluation-world';
import { codeSteps } from '../lib/rollout/canary-plan';

const FALL = { ...CHECKS, 'citation-validity': { pass: 0.95, canaryPass: 0.8 } };
const EXAMPLE = { rps: 5, samplingRate: 0.005, pairSamplingRate: 0.1, alpha: 0.01, pairedLoss: 0.5, scoreDrop: 0 } as const;
const code: Pick<EvalWorldOptions, 'plane' | 'steps'> = { plane: 'code', steps: codeSteps('linear', 5, 3) };

jest.setTimeout(180_000);

test('a 95 % → 80 % citation fall is caught before full rollout at the example rates with the runtime checks, and not without', async () => {
  for (const seed of [50_001, 50_002, 50_003]) {
    const withChecks = await runEvalWorld({ ...EXAMPLE, ...code, seed, checks: FALL, disturbance: 'retries', runtimeChecks: { rate: 1 } });
    expect({ seed, beforeFull: withChecks.beforeFull, fired: withChecks.fired }).toEqual({ seed, beforeFull: true, fired: ['evaluation:citation-validity'] });
    expect(withChecks.checkLines).toBeGreaterThan(5 * 60 * 5);
  }
  // The control: the same world with the checks on the 0.5 % samples only (h8-detjudge) does not catch it.
  const samplesOnly = await runEvalWorld({ ...EXAMPLE, ...code, seed: 50_001, checks: FALL, disturbance: 'retries' });
  expect(samplesOnly.caughtAtMinute).toBeUndefined();
});

test('good releases with the runtime checks are not rolled back (few seeds, both planes, a biased evaluator)', async () => {
  const config: Pick<EvalWorldOptions, 'plane' | 'steps'> = {
    plane: 'config',
    steps: [
      { share: 0.1, minutes: 5 },
      { share: 0.5, minutes: 25 },
    ],
  };
  for (const [seed, where, disturbance] of [
    [61, code, 'drifting-mix'],
    [62, config, 'shared-latency'],
  ] as const) {
    const out = await runEvalWorld({ ...EXAMPLE, ...where, seed, positionBias: 0.7, checks: CHECKS, disturbance, runtimeChecks: { rate: 1 } });
    expect({ seed, caught: out.caughtAtMinute }).toEqual({ seed, caught: undefined });
  }
});
