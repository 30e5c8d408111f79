/**
 * Issue 16-F and the table row "config plane: 3 execution environments that differ a little, share observed": config
 * releases through AppConfig's default exponential rollout (configCanary 'appconfig'), judged by the real wiring
 * (runSchedule, a minute at a time) and the real engine. Model: test/config-rollout-sim.ts.
 * `npx tsx bench/judge-config-rollout.ts [goodSeeds] [badSeeds]` (default 1,000 and 500). BENCH_ROWS=<regex> filters.
 */
import { binomialUpper } from '../lambda/judge/stats';
import { type ConfigRolloutWorld, tallyConfigRollouts } from '../test/config-rollout-sim';

const good = Number(process.argv[2] ?? 1000);
const bad = Number(process.argv[3] ?? 500);
const only = process.env.BENCH_ROWS ? new RegExp(process.env.BENCH_ROWS) : undefined;
const pct = (k: number, n: number) => `${((100 * k) / n).toFixed(1)} %`;
const upper = (k: number, n: number) => `${(100 * binomialUpper(k, n, 0.05)).toFixed(2)} %`;

const rows: [string, ConfigRolloutWorld, number][] = [
  ['good, 1 rps, 3 environments', { rps: 1, environments: 3 }, good],
  ['good, 1 rps, 3 environments that differ (σ errors 0.2, latency 0.03)', { rps: 1, environments: 3, errorSpread: 0.2, latencySpread: 0.03 }, good],
  ['good, 5 rps, 3 environments', { rps: 5, environments: 3 }, good],
  ['good, 5 rps, 3 environments that differ (σ errors 0.2, latency 0.03)', { rps: 5, environments: 3, errorSpread: 0.2, latencySpread: 0.03 }, good],
  ['good, 5 rps, 3 environments that differ more (σ errors 0.3, latency 0.05)', { rps: 5, environments: 3, errorSpread: 0.3, latencySpread: 0.05 }, good],
  ['good, 5 rps, 3 environments that differ a lot (σ errors 0.5, latency 0.15)', { rps: 5, environments: 3, errorSpread: 0.5, latencySpread: 0.15 }, good],
  [
    'good, 5 rps, 3 environments that differ a lot, judged per request (the design before h10-envcluster)',
    { rps: 5, environments: 3, errorSpread: 0.5, latencySpread: 0.15, configUnit: 'request' },
    good,
  ],
  ['good, 5 rps, 10 environments that differ a lot (σ errors 0.5, latency 0.15)', { rps: 5, environments: 10, errorSpread: 0.5, latencySpread: 0.15 }, good],
  ['good, 5 rps, 10 environments that differ (σ errors 0.2, latency 0.03)', { rps: 5, environments: 10, errorSpread: 0.2, latencySpread: 0.03 }, good],
  // Busy environments show their switch sooner; with errors growing with traffic that is the one way switch times can
  // track outcomes under the null (the exchangeability lambda/judge/environments.ts assumes).
  ['good, 5 rps, 10 environments, uneven traffic (σ 1.5), errors ∝ traffic', { rps: 5, environments: 10, trafficSpread: 1.5, errorTrafficExponent: 1 }, good],
  ['good, 5 rps, 50 environments, uneven traffic (σ 1.5), errors ∝ traffic', { rps: 5, environments: 50, trafficSpread: 1.5, errorTrafficExponent: 1 }, good],
  [
    'bad 20 % errors (x20), 5 rps, 50 environments, uneven traffic (σ 1.5), errors ∝ traffic',
    { rps: 5, environments: 50, errorFactor: 20, trafficSpread: 1.5, errorTrafficExponent: 1 },
    bad,
  ],
  ['bad errors x3, 5 rps, 10 environments', { rps: 5, environments: 10, errorFactor: 3 }, bad],
  ['bad 20 % errors (x20), 5 rps, 10 environments', { rps: 5, environments: 10, errorFactor: 20 }, bad],
  ['bad 20 % errors (x20), 1 rps, 3 environments', { rps: 1, environments: 3, errorFactor: 20 }, bad],
  ['bad 20 % errors (x20), 5 rps, 3 environments', { rps: 5, environments: 3, errorFactor: 20 }, bad],
  ['bad 20 % errors (x20), 5 rps, 10 environments, judged per request', { rps: 5, environments: 10, errorFactor: 20, configUnit: 'request' }, bad],
  ['bad errors x3, 5 rps, 10 environments, judged per request', { rps: 5, environments: 10, errorFactor: 3, configUnit: 'request' }, bad],
];

console.log('unit: environment (the switch bets, lambda/judge/environments.ts) unless the row says per request');
console.log('config releases through ConfigRollout.DEFAULT (10 % doubling every 36 s, 180 s, bake 120 s), extension poll 15 s, judge period 10 s, α 0.01');
console.log(
  'row | runs | rolled back | rate | upper (CP 95 %) | releases with a failed minute | share-1 batches | engine throws | releases with cannot-judge | releases judged at all | releases with a one-sided window | samples judged / set aside | switch bets settled | seconds',
);
(async () => {
  for (const [name, w, n] of rows) {
    if (only && !only.test(name)) continue;
    const t = performance.now();
    const r = await tallyConfigRollouts(n, w);
    console.log(
      `${name} | ${r.runs} | ${r.rolledBack} | ${pct(r.rolledBack, r.runs)} | ${upper(r.rolledBack, r.runs)} | ${r.withFailedMinute} | ${r.shareOneBatches} | ${r.engineThrows} | ${r.withCannotJudge} | ${r.judgedAtAll} | ${r.withOneSidedWindow} | ${r.judged} / ${r.setAside} | ${r.switchBets} | ${((performance.now() - t) / 1000).toFixed(1)}`,
    );
  }
})();
