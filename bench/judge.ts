/**
 * The canary judge: update cost, and its false-rollback and detection figures over seeded simulated streams
 * (test/judge-sim.ts). `npx tsx bench/judge.ts [seeds]` (default 1,000).
 *
 * Targets: one update over 10,000 new samples per version ≤ 50 ms; a good release rolled back ≤ 1 % of the time at
 * 1, 5, 20 and 100 requests/s. The detection figures are printed next to the best any test could do at α = 0.01 (the
 * "oracle": a single fixed-sample test that knows the stable rate or the latency spread and looks once), which shows
 * where a target is beyond what the data can support.
 */
import { newJudgeState, updateJudge, type JudgeObservation } from '../lambda/judge/judge';
import { binomialCdf, lgamma } from '../lambda/judge/stats';
import { minuteOfTraffic, mulberry32, tally, type Scenario } from '../test/judge-sim';

const seeds = Number(process.argv[2] ?? 1000);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// 1. Update cost: 10,000 new samples per version at a 50 % share, into a state that has seen earlier batches.
{
  const rand = mulberry32(42);
  const batch = (n: number, share: number): JudgeObservation[] => {
    const out: JudgeObservation[] = [];
    while (out.length < 2 * n) out.push(...minuteOfTraffic(rand, { rps: 400 }, share, 0));
    const canary = out.filter((o) => o.version === 'canary').slice(0, n);
    const stable = out.filter((o) => o.version === 'stable').slice(0, n);
    return [...canary, ...stable];
  };
  let state = newJudgeState();
  for (let i = 0; i < 3; i++) state = updateJudge(state, { canaryShare: 0.5, observations: batch(10_000, 0.5) }).state;
  const timings: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < 25; i++) {
    const obs = batch(10_000, 0.5);
    const t = performance.now();
    const c = process.cpuUsage();
    updateJudge(state, { canaryShare: 0.5, observations: obs });
    const d = process.cpuUsage(c);
    timings.push(performance.now() - t);
    cpu.push((d.user + d.system) / 1000);
  }
  const after: number[] = [];
  const full = updateJudge(state, { canaryShare: 1, observations: [] }).state;
  for (let i = 0; i < 15; i++) {
    const obs = batch(10_000, 1).map((o) => ({ ...o, version: 'canary' as const }));
    const t = performance.now();
    updateJudge(full, { canaryShare: 1, observations: obs });
    after.push(performance.now() - t);
  }
  const m = median(timings);
  console.log(
    `update, 10,000 canary + 10,000 stable samples, all six metrics: median ${m.toFixed(1)} ms wall, ${median(cpu).toFixed(1)} ms CPU, max ${Math.max(...timings).toFixed(1)} ms wall (target ≤ 50 ms, ratio ${(m / 50).toFixed(2)} wall) ${m <= 50 ? 'PASS' : 'FAIL'}`,
  );
  console.log(`update after full traffic, 20,000 canary samples: median ${median(after).toFixed(1)} ms`);
  console.log(`state JSON: ${(JSON.stringify(state).length / 1024).toFixed(0)} KB`);
}

// 2. Oracle figures: one fixed-sample test at α = 0.01 that knows what the judge must estimate.
/** Most powerful one-sided binomial test of rate p0 vs p1 with n trials at level α: its power. */
function binomialOraclePower(n: number, p0: number, p1: number, alpha = 0.01): number {
  let c = 0;
  while (1 - binomialCdf(c - 1, n, p0) > alpha) c++;
  return 1 - binomialCdf(c - 1, n, p1);
}
const logBinomial = (k: number, n: number, p: number) => lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p);
/**
 * Power of the fixed-sample two-sample test that does not know the stable rate (what the judge faces): ns stable
 * requests at p0, nc canary at p1; conditional on the pooled events, reject when the canary's count is in the upper
 * α tail of Binomial(k, nc / (nc + ns)).
 */
function twoSampleOraclePower(ns: number, nc: number, p0: number, p1: number, alpha = 0.01): number {
  const pi = nc / (nc + ns);
  const maxS = Math.min(ns, Math.ceil(ns * p0 + 10 * Math.sqrt(ns * p0) + 10));
  const maxC = Math.min(nc, Math.ceil(nc * p1 + 10 * Math.sqrt(nc * p1) + 10));
  let power = 0;
  for (let xs = 0; xs <= maxS; xs++) {
    const ps = Math.exp(logBinomial(xs, ns, p0));
    for (let xc = 1; xc <= maxC; xc++) if (1 - binomialCdf(xc - 1, xs + xc, pi) <= alpha) power += ps * Math.exp(logBinomial(xc, nc, p1));
  }
  return power;
}
function normalCdf(z: number): number {
  // Abramowitz-Stegun 7.1.26 via erf.
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
/** z-test on log latency with σ known, nC canary vs nS stable (Infinity: stable mean known). */
function latencyOraclePower(nC: number, nS: number, shift = Math.log(1.2), sigma = 0.5): number {
  const se = sigma * Math.sqrt(1 / nC + (Number.isFinite(nS) ? 1 / nS : 0));
  return normalCdf(shift / se - 2.3263);
}

interface Row {
  name: string;
  sc: Scenario;
  /** The oracle's power before full rollout and by the bound. */
  oracle?: [number, number];
  /** Counts: the two-sample oracle (stable rate unknown), before full rollout and by the bound. */
  twoSample?: [number, number];
}
const rows: Row[] = [];
for (const rps of [1, 5, 20, 100]) rows.push({ name: `good release, ${rps} rps`, sc: { rps } });
rows.push({ name: 'good release, 5 rps, 30 min stable baseline', sc: { rps: 5, baselineMinutes: 30 } });
for (const rps of [5, 1]) {
  const nC = rps * 300 * 0.1;
  const nS = rps * 300 * 0.9;
  const nAfter = rps * 600;
  for (const baselineMinutes of [0, 30]) {
    const base = rps * 60 * baselineMinutes + nS;
    rows.push({
      name: `error rate ×3, ${rps} rps${baselineMinutes ? `, ${baselineMinutes} min stable baseline` : ''}`,
      sc: { rps, errorFactor: 3, baselineMinutes },
      // Oracle: knows the stable rate exactly (so needs no baseline).
      oracle: [binomialOraclePower(Math.round(nC), 0.01, 0.03), binomialOraclePower(Math.round(nC + nAfter), 0.01, 0.03)],
      twoSample: [
        twoSampleOraclePower(Math.round(base), Math.round(nC), 0.01, 0.03),
        twoSampleOraclePower(Math.round(base), Math.round(nC + nAfter), 0.01, 0.03),
      ],
    });
    rows.push({
      name: `p50 latency +20 %, ${rps} rps${baselineMinutes ? `, ${baselineMinutes} min stable baseline` : ''}`,
      sc: { rps, latencyFactor: 1.2, baselineMinutes },
      // Oracle: knows σ; compares with the stable requests it has (the canary phase's, plus the baseline).
      oracle: [latencyOraclePower(nC, nS), latencyOraclePower(nC + nAfter, base)],
    });
  }
}

const pct = (k: number, n: number) => `${((100 * k) / n).toFixed(1)} %`;
console.log(
  `\n${seeds} seeds per row; Poisson traffic, 10 % canary for 5 min, then 100 % for the 10-min after-traffic bound; judge once a minute; α = 0.01 over 6 metrics`,
);
console.log(
  'scenario | rolled back before full rollout | by the after-traffic bound | no regression shown | oracle (before / by bound) | two-sample oracle, stable rate unknown (before / by bound) | seconds',
);
// BENCH_ROWS=<regex> runs only the matching rows (e.g. to run the slow good-release rows in a second process).
const only = process.env.BENCH_ROWS ? new RegExp(process.env.BENCH_ROWS) : undefined;
for (const row of rows) {
  if (only && !only.test(row.name)) continue;
  const t = performance.now();
  const r = tally(seeds, 1, row.sc);
  const secs = ((performance.now() - t) / 1000).toFixed(1);
  const oracle = row.oracle ? `${pct(row.oracle[0] * 1000, 1000)} / ${pct(row.oracle[1] * 1000, 1000)}` : '-';
  const two = row.twoSample ? `${pct(row.twoSample[0] * 1000, 1000)} / ${pct(row.twoSample[1] * 1000, 1000)}` : '-';
  console.log(`${row.name} | ${pct(r.beforeFull, r.runs)} | ${pct(r.byBound, r.runs)} | ${pct(r.noRegressionShown, r.runs)} | ${oracle} | ${two} | ${secs}`);
}
