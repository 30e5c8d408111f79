/**
 * The canary judge's wiring cost per update: turning Logs Insights result rows into observations (parse, window,
 * classify) for 10,000 new samples per version — the row format GetQueryResults returns. The statistics engine's
 * own update (lambda/judge/) comes on top; the budget for one whole update is 50 ms.
 *
 *   npx tsx bench/canary-judge-samples.ts
 */
import { type QueryRow, windowSamples } from '../lambda/canary-judge/samples';

const T0 = Date.parse('2026-11-27T09:00:00.000Z');
const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const PER_VERSION = 10_000;

function rows(n: number): QueryRow[] {
  const out: QueryRow[] = [];
  for (let i = 0; i < n; i++) {
    const canary = i % 2 === 0;
    out.push([
      { field: '@timestamp', value: time(T0 + i * 5) },
      { field: 'Version', value: canary ? '8' : '7' },
      { field: 'config', value: 'cfg-0123456789ab' },
      ...(i % 97 === 0 ? [{ field: 'Errors', value: '1' }] : []),
      { field: 'Latency', value: String(800 + (i % 400)) },
      { field: 'CostUsd', value: '0.00123' },
      { field: 'QualityScore', value: '0.82' },
    ]);
  }
  return out;
}

// Two queries' worth (Logs Insights returns at most 10,000 rows each), judged as one update.
const all = rows(2 * PER_VERSION);
const slices = [all.slice(0, 10_000), all.slice(10_000)];
const sides = { plane: 'code' as const, canary: '8', stable: '7' };
const run = () => {
  let n = 0;
  for (const s of slices) n += windowSamples(s, T0, T0 + 10 * 60_000, sides).observations.length;
  return n;
};
for (let i = 0; i < 5; i++) run(); // warm up
const times: number[] = [];
const cpu: number[] = [];
let observed = 0;
for (let i = 0; i < 31; i++) {
  const t = process.hrtime.bigint();
  const c = process.cpuUsage();
  observed = run();
  const used = process.cpuUsage(c);
  times.push(Number(process.hrtime.bigint() - t) / 1e6);
  cpu.push((used.user + used.system) / 1000);
}
times.sort((a, b) => a - b);
cpu.sort((a, b) => a - b);
console.log(
  `rows → observations, ${PER_VERSION.toLocaleString('en')} per version (${observed} observations; each 10,000-row slice leaves its last millisecond to the next), 31 runs`,
);
console.log(
  `wall p50 ${times[15].toFixed(2)} ms, p90 ${times[27].toFixed(2)} ms; CPU p50 ${cpu[15].toFixed(2)} ms; share of the 50 ms update budget (CPU p50): ${(cpu[15] / 50).toFixed(2)}`,
);
