/**
 * The canary judge on traffic as production has it (issue 16): false rollbacks of good releases under shared
 * disturbances, ramps, clustered retries, uneven execution environments and a drifting mix; and how often bad releases
 * (errors ×3, p50 +20 %) at 5 req/s are caught before full rollout, per schedule. `npx tsx bench/judge-world.ts [seeds]`
 * (default 1,000). BENCH_ROWS=<regex> runs the matching rows only; BENCH_PART=good|bad|envs one part.
 * BENCH_GOOD_SCHEDULE=linear:<percent>:<minutes> runs the good part on that linear schedule instead of canary 10 % 5 min
 * (the disturbances follow the schedule: "after full traffic" rows move with its full-traffic minute).
 */
import { judgedSteps, simulateSchedule, type Schedule } from '../lambda/judge/simulate';
import { BAD_ERRORS_X3, BAD_P50_20, BALANCED_50_20, CANARY_10_5, DURING_STEP, GOOD_WORLD, canarySchedule, linearSchedule } from '../test/judge-sim';

const seeds = Number(process.argv[2] ?? 1000);
const only = process.env.BENCH_ROWS ? new RegExp(process.env.BENCH_ROWS) : undefined;
const part = process.env.BENCH_PART;
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const describe = (s: Schedule) => `${s.steps.map((st) => `${Math.round(st.share * 100)} %@${st.atMinute}`).join(' → ')} (end ${s.endMinute} min)`;

console.log(`${seeds} seeds per row; judge once a minute on the minute's requests (observed share), 30 min stable baseline, α = 0.01 over 6 metrics`);
if (!part || part === 'good') {
  const linear = process.env.BENCH_GOOD_SCHEDULE?.match(/^linear:(\d+):(\d+)$/);
  const goodSchedule = linear ? linearSchedule(Number(linear[1]), Number(linear[2])) : CANARY_10_5;
  console.log(`\ngood releases, schedule ${linear ? describe(goodSchedule) : 'canary 10 % for 5 min then 100 % for 10 min'}`);
  console.log('scenario | rolled back (any time) | 95 % upper bound | before full rollout | seconds');
  for (const sc of GOOD_WORLD) {
    if (only && !only.test(sc.name)) continue;
    const t = performance.now();
    const r = simulateSchedule(goodSchedule, sc.traffic(goodSchedule), {}, seeds, { baselineMinutes: 30, ...sc.options });
    console.log(`${sc.name} | ${pct(r.rateByEnd)} | ${pct(r.upperByEnd)} | ${pct(r.rateBeforeFull)} | ${((performance.now() - t) / 1000).toFixed(1)}`);
  }
}

if (!part || part === 'during') {
  console.log('\ngood releases, shared disturbances during a balanced step (canary 50 % for 20 min, then 100 % for 10)');
  console.log('scenario | rolled back (any time) | 95 % upper bound | seconds');
  for (const sc of DURING_STEP) {
    const t = performance.now();
    const r = simulateSchedule(BALANCED_50_20, sc.traffic(BALANCED_50_20), {}, seeds, { baselineMinutes: 30 });
    console.log(`${sc.name} | ${pct(r.rateByEnd)} | ${pct(r.upperByEnd)} | ${((performance.now() - t) / 1000).toFixed(1)}`);
  }
}

if (!part || part === 'bad') {
  const schedules: Schedule[] = [
    CANARY_10_5,
    canarySchedule(10, 30),
    ...[10, 20, 30].map((m) => canarySchedule(50, m)),
    ...[1, 3].map((m) => linearSchedule(10, m)),
    linearSchedule(25, 5),
  ];
  console.log('\nbad releases at 5 rps (i.i.d. traffic, 30 min baseline): caught before full rollout');
  console.log('schedule | judged minutes | errors ×3 | p50 +20 % | errors ×3 and p50 +20 % | 95 % lower bound (errors ×3) | seconds');
  for (const sched of schedules) {
    const name = describe(sched);
    if (only && !only.test(name)) continue;
    const t = performance.now();
    const run = (r: typeof BAD_ERRORS_X3) => simulateSchedule(sched, { rps: 5 }, r, seeds, { baselineMinutes: 30 });
    const e = run(BAD_ERRORS_X3);
    const l = run(BAD_P50_20);
    const both = run({ ...BAD_ERRORS_X3, ...BAD_P50_20 });
    const judged = judgedSteps(sched).reduce((a, st) => a + st.minutes, 0);
    console.log(
      `${name} | ${judged} | ${pct(e.rateBeforeFull)} | ${pct(l.rateBeforeFull)} | ${pct(both.rateBeforeFull)} | ${pct(e.lowerBeforeFull)} | ${((performance.now() - t) / 1000).toFixed(1)}`,
    );
  }
}

if (!part || part === 'envs') {
  // Code plane: execution environments are nested in versions, so an environment's own error or latency factor
  // rides on its version's label and no clustering can remove it. How large may it be?
  console.log('\ngood releases, code plane, 3 environments per version, canary 50 % for 20 min then 100 %: false rollbacks by spread');
  console.log('error spread σ | latency spread σ | rps | rolled back | 95 % upper bound | by metric');
  const sched = canarySchedule(50, 20);
  const rows = (process.env.BENCH_ENVS ?? '0.1/0.01/5,0.2/0.03/5,0.3/0.05/5,0.2/0.03/20,0.2/0.05/20').split(',').map((x) => x.split('/').map(Number));
  for (const [es, ls, rps] of rows) {
    const r = simulateSchedule(sched, { rps, environments: { perVersion: 3, errorSpread: es, latencySpread: ls } }, {}, seeds, { baselineMinutes: 30 });
    console.log(`${es} | ${ls} | ${rps} | ${pct(r.rateByEnd)} | ${pct(r.upperByEnd)} | ${JSON.stringify(r.byMetric)}`);
  }
}
