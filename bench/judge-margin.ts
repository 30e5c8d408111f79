/**
 * The value tests' tolerance (issue 16, h5-margin): false rollbacks of good releases whose versions run on execution
 * environments that differ a little (code plane: environments are nested in versions), and the power left against
 * p50 +20 % at 5 req/s on the planned schedule. `npx tsx bench/judge-margin.ts [seeds]` (default 1,000).
 * BENCH_PART=envs|power|boundary runs one part. Each row prints the count, the rate, and two one-sided 95 % upper
 * bounds (Clopper-Pearson exact, Wilson score) on false rollbacks, or the lower bounds on power.
 */
import { DEFAULT_TOLERANCE } from '../lambda/judge/judge';
import { binomialUpper } from '../lambda/judge/stats';
import { type Schedule, simulateSchedule } from '../lambda/judge/simulate';
import { codeSteps, planCanary } from '../lib/rollout/canary-plan';
import { canarySchedule } from '../test/judge-sim';

const seeds = Number(process.argv[2] ?? 1000);
const part = process.env.BENCH_PART;
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/** One-sided 95 % Wilson score upper bound. */
export function wilsonUpper(k: number, n: number, z = 1.6448536): number {
  const p = k / n;
  const d = 1 + (z * z) / n;
  return Math.min(1, (p + (z * z) / (2 * n) + z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d);
}
const upper = (k: number, n: number) => `${pct(binomialUpper(k, n, 0.05))} | ${pct(wilsonUpper(k, n))}`;
const lower = (k: number, n: number) => `${pct(k === 0 ? 0 : 1 - binomialUpper(n - k, n, 0.05))} | ${pct(1 - wilsonUpper(n - k, n))}`;

/** A schedule from the planner's judged steps, then 10 minutes at 100 %. */
function fromSteps(steps: readonly { share: number; minutes: number }[]): Schedule {
  let at = 0;
  const out = steps.map((s) => {
    const step = { atMinute: at, share: s.share };
    at += s.minutes;
    return step;
  });
  return { steps: [...out, { atMinute: at, share: 1 }], endMinute: at + 10 };
}

console.log(`${seeds} seeds per row; judge once a minute at the observed share, 30 min stable baseline, α = 0.01 over 6 metrics`);
console.log(`default tolerance ${JSON.stringify(DEFAULT_TOLERANCE)}`);

if (!part || part === 'envs') {
  console.log('\ngood releases, code plane, 3 environments per version (log-normal factors drawn once per run), canary 50 % for 20 min then 100 % for 10');
  console.log('σ errors | σ latency | rps | tolerance | rolled back | rate | upper (CP) | upper (Wilson) | by metric | seconds');
  const sched = canarySchedule(50, 20);
  const rows = (process.env.BENCH_ENVS ?? '0.2/0.03/20,0.2/0.05/20,0.2/0.03/5,0.3/0.05/5').split(',').map((x) => x.split('/').map(Number));
  for (const [es, ls, rps] of rows)
    for (const tol of ['default', 'none'] as const) {
      if (tol === 'none' && process.env.BENCH_STRICT === '0') continue;
      const t = performance.now();
      const r = simulateSchedule(sched, { rps, environments: { perVersion: 3, errorSpread: es, latencySpread: ls } }, {}, seeds, {
        baselineMinutes: 30,
        ...(tol === 'none' ? { judge: { tolerance: { latencyMs: 0, costUsd: 0, quality: 0 } } } : {}),
      });
      console.log(
        `${es} | ${ls} | ${rps} | ${tol === 'none' ? '0 (strict)' : 'default'} | ${r.byEnd} | ${pct(r.rateByEnd)} | ${upper(r.byEnd, seeds)} | ${JSON.stringify(r.byMetric)} | ${((performance.now() - t) / 1000).toFixed(1)}`,
      );
    }
}

if (!part || part === 'power') {
  console.log('\nbad release p50 +20 % at 5 rps (i.i.d. traffic, 30 min baseline): caught before full rollout, default tolerance');
  console.log('schedule | judged minutes | caught | rate | lower (CP) | lower (Wilson) | seconds');
  const planDefault = planCanary({ requestsPerSecond: 5 });
  const planX3 = planCanary({ requestsPerSecond: 5 }, { minRegressions: { errorRatio: 3, p50Increase: 0.2 } });
  const planP50 = planCanary({ requestsPerSecond: 5 }, { minRegressions: { p50Increase: 0.2 } });
  const rows: [string, readonly { share: number; minutes: number }[]][] = [
    [`planned, defaults: ${planDefault.code.call}`, planDefault.code.steps],
    [`planned, errors x3 + p50 +20 %: ${planX3.code.call}`, planX3.code.steps],
    [`planned, p50 +20 % only: ${planP50.code.call}`, planP50.code.steps],
    ['canary 50 % 10 min', codeSteps('canary', 50, 10)],
    ['canary 10 % 5 min', codeSteps('canary', 10, 5)],
  ];
  for (const [name, steps] of rows) {
    const t = performance.now();
    const r = simulateSchedule(fromSteps(steps), { rps: 5 }, { latencyFactor: 1.2 }, seeds, { baselineMinutes: 30 });
    const judged = steps.reduce((a, s) => a + s.minutes, 0);
    console.log(
      `${name} | ${judged} | ${r.beforeFull} | ${pct(r.rateBeforeFull)} | ${lower(r.beforeFull, seeds)} | ${((performance.now() - t) / 1000).toFixed(1)}`,
    );
  }
}

if (!part || part === 'boundary') {
  // At the composite null's boundary (the canary exactly 10 % slower, tolerance 10 %) the test's false-fire rate is
  // bounded by the latency metric's share of α (α/6); a little beyond it, it starts to fire.
  console.log('\nlatency at and beyond the tolerance (i.i.d., 20 rps, canary 50 % for 20 min then 100 %), α = 0.01');
  console.log('canary latency × | rolled back | rate | upper (CP) | upper (Wilson) | seconds');
  for (const f of [1.05, 1.1, 1.15, 1.2]) {
    const t = performance.now();
    const r = simulateSchedule(canarySchedule(50, 20), { rps: 20 }, { latencyFactor: f }, seeds, { baselineMinutes: 30 });
    console.log(`${f} | ${r.byEnd} | ${pct(r.rateByEnd)} | ${upper(r.byEnd, seeds)} | ${((performance.now() - t) / 1000).toFixed(1)}`);
  }
}
