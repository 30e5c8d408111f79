/**
 * The canary planner (issue 16 D): its synth-time cost, and its closed-form power next to the power the real engine
 * shows in simulation (test/canary-plan-sim.ts) over `seeds` seeds per row. `npx tsx bench/canary-plan.ts [seeds]`
 * (default 1,000).
 *
 * Targets: planCanary ≤ 50 ms per call at synth (median); the planned schedule catches each minimum regression with
 * the target power (90 %) before full rollout in simulation; a good release is rolled back ≤ 1 % of the time.
 */
import { DEFAULT_TOLERANCE } from '../lambda/judge/judge';
import { codeSteps, planCanary, type MinimumRegressions, type PlanStep, schedulePower } from '../lib/rollout/canary-plan';
import { type PlanScenario, simulatedPower } from '../test/canary-plan-sim';

const seeds = Number(process.argv[2] ?? 1000);
const say = (s: string) => process.stdout.write(`${s}\n`);

// 1. Synth-time cost. (BENCH_CODE=0 skips sections 1 and 2.)
const code = process.env.BENCH_CODE !== '0';
for (const rps of code ? [1, 5, 20, 100] : []) {
  const times: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t = process.hrtime.bigint();
    planCanary({ requestsPerSecond: rps });
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  say(`planCanary at ${rps} rps: median ${times[7].toFixed(1)} ms, max ${times[14].toFixed(1)} ms (15 calls)`);
}

// 2. Closed form vs simulation.
const plan3 = planCanary({ requestsPerSecond: 5 }, { minRegressions: { errorRatio: 3, p50Increase: 0.2 } });
const plan20 = planCanary({ requestsPerSecond: 20 });
say(`planned at 5 rps for errors x3 / p50 +20 %: ${plan3.code.call}; at 20 rps for the defaults: ${plan20.code.call}`);
const rows: [string, PlanScenario, MinimumRegressions, readonly PlanStep[]][] = [];
// The grid (h5-margin): each minimum regression on five CodeDeploy schedules at 5 rps.
const gridRegressions: [string, PlanScenario, MinimumRegressions][] = [
  ['errors x2', { rps: 5, errorFactor: 2 }, { errorRatio: 2 }],
  ['errors x3', { rps: 5, errorFactor: 3 }, { errorRatio: 3 }],
  ['p50 +20 %', { rps: 5, latencyFactor: 1.2 }, { p50Increase: 0.2 }],
  ['quality -0.05', { rps: 5, qualityDrop: 0.05 }, { qualityDrop: 0.05 }],
];
const gridSchedules: [string, readonly PlanStep[]][] = [
  ['canary 10 % 5 min', codeSteps('canary', 10, 5)],
  ['canary 50 % 10 min', codeSteps('canary', 50, 10)],
  ['linear 10 % / 1 min', codeSteps('linear', 10, 1)],
  ['linear 10 % / 3 min', codeSteps('linear', 10, 3)],
  ['canary 25 % 10 min', codeSteps('canary', 25, 10)],
];
if (process.env.BENCH_GRID !== '0')
  for (const [rn, sc, min] of gridRegressions) for (const [sn, steps] of gridSchedules) rows.push([`${rn}, ${sn}, 5 rps`, sc, min, steps]);
// Held out (not looked at when the closed form's chord was chosen): other traffic, effects and schedules.
rows.push(
  ['p50 +20 %, canary 10 % 5 min, 20 rps', { rps: 20, latencyFactor: 1.2 }, { p50Increase: 0.2 }, codeSteps('canary', 10, 5)],
  ['p50 +30 %, canary 50 % 10 min, 1 rps', { rps: 1, latencyFactor: 1.3 }, { p50Increase: 0.3 }, codeSteps('canary', 50, 10)],
  ['quality -0.05, linear 10 % / 3 min, 1 rps', { rps: 1, qualityDrop: 0.05 }, { qualityDrop: 0.05 }, codeSteps('linear', 10, 3)],
  ['errors x3, linear 25 % / 5 min, 5 rps', { rps: 5, errorFactor: 3 }, { errorRatio: 3 }, codeSteps('linear', 25, 5)],
  ['errors x2, canary 20 % 15 min, 20 rps', { rps: 20, errorFactor: 2 }, { errorRatio: 2 }, codeSteps('canary', 20, 15)],
  ['p50 +20 %, linear 20 % / 2 min, 2 rps', { rps: 2, latencyFactor: 1.2 }, { p50Increase: 0.2 }, codeSteps('linear', 20, 2)],
  [`errors x3, planned ${plan3.code.call}, 5 rps`, { rps: 5, errorFactor: 3 }, { errorRatio: 3 }, plan3.code.steps],
  [`p50 +20 %, planned ${plan3.code.call}, 5 rps`, { rps: 5, latencyFactor: 1.2 }, { p50Increase: 0.2 }, plan3.code.steps],
  [`errors x2, planned ${plan20.code.call}, 20 rps`, { rps: 20, errorFactor: 2 }, { errorRatio: 2 }, plan20.code.steps],
  [`good release, planned ${plan3.code.call}, 5 rps`, { rps: 5 }, {}, plan3.code.steps],
);
if (code) {
  say('');
  say(`| scenario | closed form | simulated (${seeds} seeds) | 95 % interval | closed − simulated | seconds |`);
  say('|---|---|---|---|---|---|');
}
for (const [name, sc, min, steps] of code ? rows : []) {
  const t = Date.now();
  // The simulated engine runs with its default tolerance; the closed form is told the same (a plan's own default is
  // half its minimum regression, which for p50 +30 % would be 15 %).
  const cf =
    Object.keys(min).length > 0
      ? schedulePower(steps, { requestsPerSecond: sc.rps }, { minRegressions: min, judge: { tolerance: DEFAULT_TOLERANCE } }).power
      : Number.NaN;
  const p = simulatedPower(seeds, 1, sc, steps);
  const half = 1.96 * Math.sqrt((p * (1 - p) + 1 / seeds) / seeds);
  say(
    `| ${name} | ${Number.isNaN(cf) ? '-' : `${(cf * 100).toFixed(1)} %`} | ${(p * 100).toFixed(1)} % | ${(Math.max(0, p - half) * 100).toFixed(1)}–${(Math.min(1, p + half) * 100).toFixed(1)} % | ${Number.isNaN(cf) ? '-' : ((cf - p) * 100).toFixed(1)} | ${((Date.now() - t) / 1000).toFixed(0)} |`,
  );
}

// 3. The assigned config plane with conversations (h10-convplan): the closed form told the conversation length
// (`meanConversationTurns`) against the engine judging one unit per conversation (unit 'cluster', the engine's own
// conversation generator), on each turns' planned config schedule and on the plan that ignored conversations (the
// "before": every request counted). `BENCH_GRID=0 BENCH_CODE=0 npx tsx bench/canary-plan.ts 300` runs only these rows.
if (process.env.BENCH_CONVERSATIONS !== '0') {
  const min = { errorRatio: 3, p50Increase: 0.2 };
  const convRows: [string, PlanScenario, MinimumRegressions, readonly PlanStep[], number][] = [];
  const describe = (steps: readonly PlanStep[]) => steps.map((s) => `${Math.round(s.share * 100)} % ${s.minutes} min`).join(' + ');
  for (const rps of [1, 5]) {
    const naive = planCanary({ requestsPerSecond: rps, meanConversationTurns: 1 }, { minRegressions: min }).config;
    for (const turns of [1, 4, 8]) {
      const planned = planCanary({ requestsPerSecond: rps, meanConversationTurns: turns }, { minRegressions: min }).config;
      const schedules: [string, readonly PlanStep[]][] = [[`planned for ${turns} turns (${describe(planned.steps)})`, planned.steps]];
      if (turns > 1) schedules.push([`planned ignoring conversations (${describe(naive.steps)})`, naive.steps]);
      for (const [sn, steps] of schedules)
        for (const [rn, sc, m] of [
          ['errors x3', { errorFactor: 3 }, { errorRatio: 3 }],
          ['p50 +20 %', { latencyFactor: 1.2 }, { p50Increase: 0.2 }],
          ['quality -0.05', { qualityDrop: 0.05 }, { qualityDrop: 0.05 }],
        ] as const)
          convRows.push([`${rn}, ${rps} rps, ${turns} turns, ${sn}`, { rps, conversationTurns: turns, ...sc }, m, steps, turns]);
    }
  }
  say('');
  say(
    `| assigned config canary: scenario | closed form (told the turns) | closed form (turns ignored) | simulated (${seeds} seeds) | 95 % interval | closed − simulated | seconds |`,
  );
  say('|---|---|---|---|---|---|---|');
  for (const [name, sc, m, steps, turns] of convRows) {
    const t = Date.now();
    const tol = { judge: { tolerance: DEFAULT_TOLERANCE } };
    const cf = schedulePower(steps, { requestsPerSecond: sc.rps, meanConversationTurns: turns }, { minRegressions: m, ...tol }, 'config').power;
    const cf1 = schedulePower(steps, { requestsPerSecond: sc.rps, meanConversationTurns: 1 }, { minRegressions: m, ...tol }, 'config').power;
    const p = simulatedPower(seeds, 1, sc, steps);
    const half = 1.96 * Math.sqrt((p * (1 - p) + 1 / seeds) / seeds);
    say(
      `| ${name} | ${(cf * 100).toFixed(1)} % | ${(cf1 * 100).toFixed(1)} % | ${(p * 100).toFixed(1)} % | ${(Math.max(0, p - half) * 100).toFixed(1)}–${(Math.min(1, p + half) * 100).toFixed(1)} % | ${((cf - p) * 100).toFixed(1)} | ${((Date.now() - t) / 1000).toFixed(0)} |`,
    );
  }
}
