/**
 * The planner's paired preference against the real wiring (issues 16 D, 17 Tests): for each row, the closed form of
 * lib/rollout/canary-plan.ts (schedulePower's `pairedPreference`) beside the share of simulated releases whose paired
 * test fired before full rollout (lib/drill/evaluation-world.ts: result lines, judgeEvaluations' reads after the
 * settle time, the real engine at α = 0.01 with groundedness, relevance and paired judged). 5 requests/s, the canary
 * loses 60 % of decided pairs, scores unchanged.
 *
 *   npx tsx bench/canary-plan-paired.ts [seeds=200]
 */
import { runEvalWorld } from '../lib/drill/evaluation-world';
import { codeSteps, type PlanStep, schedulePower } from '../lib/rollout/canary-plan';

const SEEDS = Number(process.argv[2] ?? 200);
const say = (s: string) => process.stdout.write(`${s}\n`);
const criteria = ['groundedness', 'relevance'];

const rows: [string, 'code' | 'config', PlanStep[], number, number][] = [
  ['code linear(5, 3 min) (planned)', 'code', codeSteps('linear', 5, 3), 0.05, 0],
  ['code linear(5, 3 min) (planned)', 'code', codeSteps('linear', 5, 3), 0.1, 0],
  ['code linear(5, 3 min) (planned)', 'code', codeSteps('linear', 5, 3), 0.3, 0.7],
  ['code linear(10, 3 min)', 'code', codeSteps('linear', 10, 3), 0.1, 0],
  ['code linear(10, 3 min)', 'code', codeSteps('linear', 10, 3), 0.5, 0.7],
  ['code canary 25 % for 20 min', 'code', codeSteps('canary', 25, 20), 0.2, 0],
  ['code canary 10 % for 5 min (example)', 'code', codeSteps('canary', 10, 5), 1, 0],
  [
    'config 10 % 5 min, 50 % 55 min (planned)',
    'config',
    [
      { share: 0.1, minutes: 5 },
      { share: 0.5, minutes: 55 },
    ],
    0.05,
    0,
  ],
  [
    'config 10 % 5 min, 50 % 55 min (planned)',
    'config',
    [
      { share: 0.1, minutes: 5 },
      { share: 0.5, minutes: 55 },
    ],
    0.3,
    0.7,
  ],
  [
    'config 10 % 5 min, 50 % 20 min',
    'config',
    [
      { share: 0.1, minutes: 5 },
      { share: 0.5, minutes: 20 },
    ],
    0.1,
    0,
  ],
  ['config 20 % for 30 min', 'config', [{ share: 0.2, minutes: 30 }], 0.1, 0],
];

async function main() {
  say(`# planner's paired preference vs simulation — ${new Date().toISOString()} — ${SEEDS} seeds per row, 5 requests/s, loses 60 %`);
  say('| schedule | sampling | first-position bias | closed form | simulated before full | difference (points) | s |');
  say('|---|---|---|---|---|---|---|');
  for (const [name, plane, steps, samplingRate, positionBias] of rows) {
    const t = Date.now();
    let caught = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const out = await runEvalWorld({
        seed,
        rps: 5,
        steps,
        plane,
        samplingRate,
        pairedLoss: 0.6,
        scoreDrop: 0,
        positionBias,
        afterMinutes: 1,
        alpha: 0.01,
        criteria,
      });
      if (out.beforeFull) caught++;
    }
    const sim = caught / SEEDS;
    const p = schedulePower(steps, { requestsPerSecond: 5, evaluation: { samplingRate, decidedPairShare: 1 - positionBias, criteria } }, {}, plane);
    const closed = p.byRegression.find((r) => r.regression === 'pairedPreference')?.power ?? Number.NaN;
    say(
      `| ${name} | ${samplingRate * 100} % | ${positionBias * 100} % | ${(closed * 100).toFixed(1)} % | ${(sim * 100).toFixed(1)} % | ${((closed - sim) * 100).toFixed(1)} | ${((Date.now() - t) / 1000).toFixed(0)} |`,
    );
  }
}

void main();
