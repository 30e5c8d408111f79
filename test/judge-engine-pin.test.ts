/**
 * The engine's outputs are pinned (h11-simjudge): the fixture was taken from the engine BEFORE the speed-ups of
 * h11-simjudge (commit 334f4b0), so every speed-up since must reproduce each case's per-minute evidence and final
 * state bit for bit (test/judge-engine-pin.ts says what each case covers). A change that is meant to change outputs
 * regenerates it with UPDATE_JUDGE_PIN=1 and says so.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PIN_IN_PLACE, type PinResult, pinResults } from './judge-engine-pin';

const FIXTURE = join(__dirname, 'fixtures', 'judge-engine-pin.json');

test('the judge engine reproduces its fixed-seed outputs bit for bit (evidence per minute and the whole state)', async () => {
  const got = await pinResults();
  if (process.env.UPDATE_JUDGE_PIN === '1') writeFileSync(FIXTURE, `${JSON.stringify(got, null, 2)}\n`);
  const want = JSON.parse(readFileSync(FIXTURE, 'utf8')) as PinResult[];
  expect(got.map((r) => r.name)).toEqual(want.map((r) => r.name));
  // Summaries first: a mismatch there says what changed in words.
  expect(got.map((r) => `${r.name}: ${r.summary}`)).toEqual(want.map((r) => `${r.name}: ${r.summary}`));
  expect(got).toEqual(want);
  // The cases exercise both outcomes (a pin of only quiet releases would miss the firing path).
  expect(got.some((r) => r.summary.startsWith('regression'))).toBe(true);
  expect(got.some((r) => r.summary.startsWith('no regression'))).toBe(true);
}, 60_000);

test('updating on copies (as the wiring does) gives the same outputs as in place (as the simulations do)', async () => {
  const want = JSON.parse(readFileSync(FIXTURE, 'utf8')) as PinResult[];
  PIN_IN_PLACE.value = false;
  try {
    // The first five simulated cases: counts with case and conversation clusters, both value bets, environments.
    const got = await pinResults({ simulatedOnly: true, first: 5 });
    expect(got).toEqual(want.slice(0, 5));
  } finally {
    PIN_IN_PLACE.value = true;
  }
}, 60_000);
