import * as fs from 'node:fs';
import * as path from 'node:path';
import { memoOutputs, pinOutputs } from './canary-plan-pin-inputs';

// Speed work on the planner and on the simulation harness (test/canary-plan-sim.ts) must not move a plan or a verdict:
// every plan on 12 inputs and the minute each of 5 seeds is caught in 6 engine scenarios, bit for bit, against the
// fixture taken before that work (h11-simplan, 2026-12-07). A changed figure fails here, naming the input.
test('plans and per-seed verdicts are those of the fixture', () => {
  const want = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'canary-plan-pin.json'), 'utf8')) as ReturnType<typeof pinOutputs>;
  const got = JSON.parse(JSON.stringify(pinOutputs())) as ReturnType<typeof pinOutputs>;
  expect(got.sims).toEqual(want.sims);
  got.plans.forEach((p, i) => expect({ input: i, plan: p }).toEqual({ input: i, plan: want.plans[i] }));
});

test('a seed remembered on a schedule answers for its prefixes and extensions exactly as a direct run does', () => {
  // Longer (15 min) first: the 12-minute prefix is answered from memory (0 runs). Shorter first: the 15-minute schedule
  // reruns only the 4 seeds the prefix did not catch (the fixture catches seeds 1 and 4 at minutes 13 and 12).
  expect(memoOutputs()).toEqual([
    [0.4, 0.4, 5],
    [0.2, 0.2, 0],
    [0.2, 0.2, 5],
    [0.4, 0.4, 4],
  ]);
});
