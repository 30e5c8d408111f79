/**
 * The planned assigned config canary against bad releases (issue 16 Tests, D): the planner's config schedule for
 * errors ×3 and p50 +20 % at 5 req/s, simulated with per-conversation assignment judged per conversation (unit
 * 'cluster', clusters = conversations), caught before promotion (share 100 % in the simulator). Light conversations
 * (independent turns) and the hard ones of test/judge-sim.ts (log-normal error σ 1.5 and latency σ 0.3 per
 * conversation, 3 shared environments). `npx tsx bench/judge-config-plan.ts [seeds]` (default 1,000).
 */
import { binomialUpper } from '../lambda/judge/stats';
import { type Regression, type Schedule, simulateSchedule, type TrafficModel } from '../lambda/judge/simulate';
import { planCanary } from '../lib/rollout/canary-plan';

const seeds = Number(process.argv[2] ?? 1000);
const plan = planCanary({ requestsPerSecond: 5 }, { minRegressions: { errorRatio: 3, p50Increase: 0.2 } });
let at = 0;
const steps = plan.config.steps.map((s) => {
  const step = { atMinute: at, share: s.share };
  at += s.minutes;
  return step;
});
const schedule: Schedule = { steps: [...steps, { atMinute: at, share: 1 }], endMinute: at + 10 };
const pct = (k: number) => `${((100 * k) / seeds).toFixed(1)} %`;
const lower = (k: number) => `${(100 * (k === 0 ? 0 : 1 - binomialUpper(seeds - k, seeds, 0.05))).toFixed(1)} %`;
console.log(
  `${seeds} seeds; planned config schedule ${plan.config.steps.map((s) => `${Math.round(s.share * 100)} % for ${s.minutes} min`).join(', then ')} (closed form ${(100 * plan.config.power).toFixed(1)} %); 5 req/s, 30-min baseline, α 0.01`,
);
console.log('traffic | regression | caught before promotion | rate | lower (CP 95 %) | seconds');
const worlds: [string, TrafficModel][] = [
  ['light conversations (4 turns, independent)', { rps: 5, assignment: 'conversation', conversations: { meanTurns: 4 } }],
  [
    'hard conversations (σ errors 1.5, latency 0.3; 3 shared environments)',
    {
      rps: 5,
      assignment: 'conversation',
      conversations: { meanTurns: 4, errorSpread: 1.5, latencySpread: 0.3 },
      environments: { perVersion: 3, errorSpread: 0.2, latencySpread: 0.03, shared: true },
    },
  ],
];
const regressions: [string, Regression][] = [
  ['errors x3', { errorFactor: 3 }],
  ['p50 +20 %', { latencyFactor: 1.2 }],
];
for (const [wn, w] of worlds)
  for (const [rn, r] of regressions) {
    const t = performance.now();
    const o = simulateSchedule(schedule, w, r, seeds, { baselineMinutes: 30, clusterBy: 'conversation', judge: { unit: 'cluster' } });
    console.log(`${wn} | ${rn} | ${o.beforeFull} | ${pct(o.beforeFull)} | ${lower(o.beforeFull)} | ${((performance.now() - t) / 1000).toFixed(1)}`);
  }
