/**
 * The good-release rows of test/judge-sim.test.ts at their full seed counts (h11-simjudge moved them there): the suite
 * runs 4 seeds at α = 0.1 (at most 2 rolled back); until h11-simjudge it ran 6 seeds at α = 0.2 (at most 4). This
 * prints both designs' figures on the suite's traffic (5-minute stable baseline, seeds from 7001 / 7501 as the suite),
 * at `seeds` seeds each (default 6, the old count), with the CPU seconds of each row.
 * `npx tsx bench/judge-sim-suite.ts [seeds]`. bench/judge-world.ts runs the same rows at α = 0.01 and 1,000 seeds.
 */
import { simulateSchedule } from '../lambda/judge/simulate';
import { BALANCED_50_20, CANARY_10_5, DURING_STEP, GOOD_WORLD } from '../test/judge-sim';

const seeds = Number(process.argv[2] ?? 6);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

console.log(`${seeds} seeds per row and α; the suite's traffic (5-min stable baseline); "rolled back" = by the schedule's end`);
console.log('row | α = 0.2: rolled back | α = 0.1: rolled back | CPU s');
let total = 0;
for (const sc of GOOD_WORLD.filter((w) => !w.name.includes('invalid design'))) {
  const t = cpu();
  const at = (alpha: number) =>
    simulateSchedule(CANARY_10_5, sc.traffic(CANARY_10_5), {}, seeds, {
      baselineMinutes: 5,
      firstSeed: 7001,
      ...sc.options,
      judge: { alpha, ...sc.options?.judge },
    }).byEnd;
  const a2 = at(0.2);
  const a1 = at(0.1);
  const dt = cpu() - t;
  total += dt;
  console.log(`${sc.name} | ${a2} of ${seeds} | ${a1} of ${seeds} | ${dt.toFixed(1)}`);
}
for (const sc of DURING_STEP) {
  const t = cpu();
  const at = (alpha: number) =>
    simulateSchedule(BALANCED_50_20, sc.traffic(BALANCED_50_20), {}, seeds, { baselineMinutes: 5, firstSeed: 7501, judge: { alpha } }).byEnd;
  const a2 = at(0.2);
  const a1 = at(0.1);
  const dt = cpu() - t;
  total += dt;
  console.log(`${sc.name} (50 % for 20 min) | ${a2} of ${seeds} | ${a1} of ${seeds} | ${dt.toFixed(1)}`);
}
console.log(`total CPU ${total.toFixed(1)} s`);
