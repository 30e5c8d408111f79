import { MEASURED_BYTES } from '../lib/rollout/release-cost';
import { measureCheckLineBytes, measureLogBytes, measurePairOnlySampleBytes } from './log-bytes';

// The card's log-ingestion line prices MEASURED_BYTES. Every field the runtime adds to its log line changes what a
// service pays, so the constant is held to what the runtime writes today (bytes are deterministic for this fixture).
test('MEASURED_BYTES is what the runtime and a Powertools-only handler write per request today', async () => {
  const { runtime, powertools } = await measureLogBytes(5);
  const fix = 're-run `npx tsx bench/release-cost.ts` and update MEASURED_BYTES in lib/rollout/release-cost.ts';
  expect({ runtimePerRequest: Math.max(...runtime), fix }).toEqual({ runtimePerRequest: MEASURED_BYTES.runtimePerRequest, fix });
  expect(Math.min(...runtime)).toBe(Math.max(...runtime));
  expect({ powertoolsPerRequest: Math.max(...powertools), fix }).toEqual({ powertoolsPerRequest: MEASURED_BYTES.powertoolsPerRequest, fix });
});

// The card's steady-state pair-sampling line (h8-codepairs) prices MEASURED_BYTES.pairOnlySampleLine per pair-only
// sample the evaluator drops: held to what the runtime writes for one today (RAG-sized evidence, test/log-bytes.ts).
test('MEASURED_BYTES.pairOnlySampleLine is what one pair-only evaluation sample line costs in log bytes today', async () => {
  const bytes = await measurePairOnlySampleBytes(3);
  const fix = 'update MEASURED_BYTES.pairOnlySampleLine in lib/rollout/release-cost.ts (and the figures in bench/RESULTS.md h8-codepairs)';
  expect({ pairOnlySampleLine: Math.max(...bytes), fix }).toEqual({ pairOnlySampleLine: MEASURED_BYTES.pairOnlySampleLine, fix });
  expect(Math.min(...bytes)).toBe(Math.max(...bytes));
});

// The card's runtime-checks line (h9-checks) prices MEASURED_BYTES.checkResultLine per checked answer: held to what
// the runtime writes for one today (the example's five checks, RAG-sized evidence, test/log-bytes.ts).
test('MEASURED_BYTES.checkResultLine is what one check-result line costs in log bytes today', async () => {
  const bytes = await measureCheckLineBytes(3);
  const fix = 'update MEASURED_BYTES.checkResultLine in lib/rollout/release-cost.ts (and the figures in bench/RESULTS.md h9-checks)';
  expect({ checkResultLine: Math.max(...bytes), fix }).toEqual({ checkResultLine: MEASURED_BYTES.checkResultLine, fix });
  expect(Math.min(...bytes)).toBe(Math.max(...bytes));
});
