/**
 * The engine rows of test/canary-plan.test.ts at full seed counts (h11-simplan cut the test's seeds; this prints what
 * the test's bound is checked against): per row the closed form, the simulated power on the test's own seeds with the
 * test's slack, and on `seeds` seeds (default 1,000) from the test's first seed. `npx tsx bench/canary-plan-test-rows.ts [seeds]`.
 */
import { codeSteps, type MinimumRegressions, type PlanStep, type PlanTraffic, planCanary, schedulePower } from '../lib/rollout/canary-plan';
import { type PlanScenario, SeedMemo } from '../test/canary-plan-sim';

const seeds = Number(process.argv[2] ?? 1000);
const say = (s: string) => process.stdout.write(`${s}\n`);
const memo = new SeedMemo();
const naive = planCanary({ requestsPerSecond: 5, meanConversationTurns: 1 }, { minRegressions: { errorRatio: 3, p50Increase: 0.2 } }).config;
// [name, scenario, traffic for the closed form, minimum regressions, steps, plane, test seeds, first seed, slack points]
const rows: [string, PlanScenario, PlanTraffic, MinimumRegressions, readonly PlanStep[], 'code' | 'config', number, number, number][] = [
  [
    'p50 +20 %, canary 10 % 5 min',
    { rps: 5, latencyFactor: 1.2 },
    { requestsPerSecond: 5 },
    { p50Increase: 0.2 },
    codeSteps('canary', 10, 5),
    'code',
    30,
    101,
    0.03,
  ],
  [
    'p50 +20 %, 50 % 10 min',
    { rps: 5, latencyFactor: 1.2 },
    { requestsPerSecond: 5 },
    { p50Increase: 0.2 },
    [{ share: 0.5, minutes: 10 }],
    'code',
    30,
    101,
    0.03,
  ],
  [
    'quality -0.05, linear 10 % / 1 min',
    { rps: 5, qualityDrop: 0.05 },
    { requestsPerSecond: 5 },
    { qualityDrop: 0.05 },
    codeSteps('linear', 10, 1),
    'code',
    30,
    101,
    0.03,
  ],
  ['errors x3, 50 % 10 min', { rps: 5, errorFactor: 3 }, { requestsPerSecond: 5 }, { errorRatio: 3 }, [{ share: 0.5, minutes: 10 }], 'code', 30, 101, 0.03],
  [
    'errors x3, clusters of 3, canary 50 % 10 min',
    { rps: 5, errorFactor: 3, clusterSize: 3 },
    { requestsPerSecond: 5, errorRate: 0.03, meanClusterSize: 3 },
    { errorRatio: 3 },
    codeSteps('canary', 50, 10),
    'code',
    50,
    301,
    0.03,
  ],
  [
    'p50 +20 %, 4 turns, naive config plan',
    { rps: 5, conversationTurns: 4, latencyFactor: 1.2 },
    { requestsPerSecond: 5, meanConversationTurns: 4 },
    { p50Increase: 0.2 },
    naive.steps,
    'config',
    30,
    11,
    0.05,
  ],
  [
    'errors x3, 4 turns, naive config plan',
    { rps: 5, conversationTurns: 4, errorFactor: 3 },
    { requestsPerSecond: 5, meanConversationTurns: 4 },
    { errorRatio: 3 },
    naive.steps,
    'config',
    30,
    11,
    0.05,
  ],
  [
    'p50 +20 %, 8 turns, naive config plan',
    { rps: 5, conversationTurns: 8, latencyFactor: 1.2 },
    { requestsPerSecond: 5, meanConversationTurns: 8 },
    { p50Increase: 0.2 },
    naive.steps,
    'config',
    30,
    11,
    0.05,
  ],
];
say(`| row | closed form | test: simulated (seeds) | test slack | simulated (${seeds} seeds) | closed − simulated | seconds |`);
say('|---|---|---|---|---|---|---|');
for (const [name, sc, traffic, min, steps, plane, n, first, extra] of rows) {
  const t = Date.now();
  const cf = schedulePower(steps, traffic, { minRegressions: min }, plane).power;
  const test = memo.power(n, first, sc, steps);
  const slack = 2.6 * Math.sqrt(Math.max(test * (1 - test), 0.01) / n) + extra;
  const full = memo.power(seeds, first, sc, steps);
  const p = (x: number) => `${(x * 100).toFixed(1)} %`;
  say(`| ${name} | ${p(cf)} | ${p(test)} (${n}) | ±${p(slack)} | ${p(full)} | ${((cf - full) * 100).toFixed(1)} | ${((Date.now() - t) / 1000).toFixed(0)} |`);
}
