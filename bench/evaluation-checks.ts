/**
 * The deterministic checks in the canary judge (issue 17 A/E, h8-detjudge): simulated releases at 5 requests/s judged
 * through the real wiring and engine (lib/drill/evaluation-world.ts) with the example's five checks added to its two
 * rubric criteria and the paired test, all in one family (the evaluation share α/7 of α = 0.01, split half to pairs,
 * half over the seven score tests).
 *
 *   npx tsx bench/evaluation-checks.ts [goodSeeds=1000] [badSeeds=200] [part=all|good|bad|runtime-good|runtime-bad] [rows=0,1,..]
 *
 * 1. Good releases with the checks added, under the production-like disturbances (drifting mix, shared slowdown,
 *    clustered retries) on both planes' planned schedules, a first-position-biased evaluator (70 %).
 * 2. A release whose citation validity falls from 95 % to 80 % (nothing else changes): caught before full rollout, by
 *    scoring rate and schedule.
 * 3. (h9-checks, parts runtime-good / runtime-bad) The same with the checks computed by the runtime on every answer
 *    (evaluation.checkSamplingRate 1, or the rates given) and read by the judge from the check-result lines, at the
 *    example's evaluation rates (scoring 0.5 %, pairs 10 % of the canary's answers during a release).
 *    BENCH_SKIP=n (runtime-good): run only seeds n+1..goodSeeds of each row's seed set, to finish a row that an earlier
 *    run stopped at n (the seeds are fixed per row, so the two runs' counts add up to the whole set's).
 */
import { codeSteps } from '../lib/rollout/canary-plan';
import { type EvalWorldOptions, runEvalWorld, EXAMPLE_CHECKS } from '../lib/drill/evaluation-world';
import { binomialUpper } from '../lambda/judge/stats';

const GOOD = Number(process.argv[2] ?? 1000);
const BAD = Number(process.argv[3] ?? 200);
const PART = process.argv[4] ?? 'all';
const ROWS = process.argv[5] ? new Set(process.argv[5].split(',').map(Number)) : undefined;
const say = (s: string) => process.stdout.write(`${s}\n`);

const PLANNED_CODE = codeSteps('linear', 5, 3);
const PLANNED_CONFIG = [
  { share: 0.1, minutes: 5 },
  { share: 0.5, minutes: 55 },
];
const EXAMPLE_CODE = codeSteps('canary', 10, 5);

const CITATIONS_FALL = { ...EXAMPLE_CHECKS, 'citation-validity': { pass: 0.95, canaryPass: 0.8 } };

/** The exact one-sided 95 % upper bound of a binomial rate (Clopper-Pearson; the judge's own). */
const upper95 = (k: number, n: number): number => binomialUpper(k, n, 0.05);

async function row(o: Omit<EvalWorldOptions, 'seed'>, seeds: number, from: number) {
  const t = Date.now();
  let fired = 0;
  let before = 0;
  const minutes: number[] = [];
  const byMetric = new Map<string, number>();
  let samples = 0;
  for (let seed = from; seed < from + seeds; seed++) {
    const out = await runEvalWorld({ ...o, seed });
    samples += out.samples;
    if (out.caughtAtMinute !== undefined) {
      fired++;
      minutes.push(out.caughtAtMinute);
      for (const m of out.fired) byMetric.set(m, (byMetric.get(m) ?? 0) + 1);
    }
    if (out.beforeFull) before++;
  }
  minutes.sort((a, b) => a - b);
  const median = minutes.length > 0 ? minutes[Math.floor(minutes.length / 2)] : undefined;
  const metrics = [...byMetric].map(([m, n]) => `${m.replace('evaluation:', '')} ${n}`).join(', ') || '—';
  return { fired, before, median, metrics, samples: samples / seeds, s: (Date.now() - t) / 1000 };
}

async function main() {
  say(`# canary judge with the deterministic checks — ${new Date().toISOString()} — good ${GOOD} seeds, bad ${BAD} seeds per row`);
  say('');
  say('## Good releases (α = 0.01; 2 rubric criteria + 5 checks + pairs; evaluator first-position bias 70 %)');
  say('| row | seeds | rolled back | 95 % upper | fired metrics | samples/release | s |');
  say('|---|---|---|---|---|---|---|');
  const base = { rps: 5, pairedLoss: 0.5, scoreDrop: 0, positionBias: 0.7, alpha: 0.01, checks: EXAMPLE_CHECKS } as const;
  const goodRows: [string, Omit<EvalWorldOptions, 'seed'>][] = [
    [
      'code, planned linear(5, 3 min), 10 %, drifting mix (harder)',
      { ...base, samplingRate: 0.1, plane: 'code', steps: PLANNED_CODE, disturbance: 'drifting-mix' },
    ],
    ['code, planned, 10 %, shared slowdown (10 min)', { ...base, samplingRate: 0.1, plane: 'code', steps: PLANNED_CODE, disturbance: 'shared-latency' }],
    ['code, planned, 10 %, clustered retries (20 %)', { ...base, samplingRate: 0.1, plane: 'code', steps: PLANNED_CODE, disturbance: 'retries' }],
    [
      'config, planned 10 % → 50 %, 10 %, oversampled, drifting mix (easier)',
      { ...base, samplingRate: 0.1, plane: 'config', steps: PLANNED_CONFIG, disturbance: 'drifting-mix', driftSign: -1 },
    ],
    ['config, planned, 10 %, shared slowdown', { ...base, samplingRate: 0.1, plane: 'config', steps: PLANNED_CONFIG, disturbance: 'shared-latency' }],
    ['config, planned, 10 %, clustered retries', { ...base, samplingRate: 0.1, plane: 'config', steps: PLANNED_CONFIG, disturbance: 'retries' }],
  ];
  const from = 10_001;
  for (const [i, [name, o]] of (PART === 'bad' ? [] : goodRows).entries()) {
    const seedFrom = from + i * GOOD;
    if (ROWS && !ROWS.has(i)) continue;
    const r = await row(o, GOOD, seedFrom);
    say(
      `| ${name} | ${GOOD} | ${r.fired} (${((100 * r.fired) / GOOD).toFixed(1)} %) | ${(100 * upper95(r.fired, GOOD)).toFixed(2)} % | ${r.metrics} | ${r.samples.toFixed(0)} | ${r.s.toFixed(0)} |`,
    );
  }
  say('');
  say('## Bad releases: citation validity 95 % → 80 % on the canary, nothing else changes (unbiased evaluator, pairs 50/50)');
  say('| schedule | scoring rate | caught before full | caught at all | median minute caught | full at | fired metrics | s |');
  say('|---|---|---|---|---|---|---|---|');
  const bad = { rps: 5, pairedLoss: 0.5, scoreDrop: 0, alpha: 0.01, checks: CITATIONS_FALL, disturbance: 'retries' } as const;
  for (const [label, plane, steps] of [
    ['code planned linear(5, 3 min)', 'code', PLANNED_CODE],
    ['config planned 10 % → 50 %', 'config', PLANNED_CONFIG],
    ['example TrafficShift.CANARY_10_PERCENT_5_MINUTES', 'code', EXAMPLE_CODE],
  ] as const)
    for (const rate of PART === 'good' ? [] : [0.005, 0.02, 0.05, 0.1, 0.2]) {
      const r = await row({ ...bad, plane, steps, samplingRate: rate }, BAD, 50_001);
      const full = (steps as readonly { readonly minutes: number }[]).reduce<number>((n, x) => n + x.minutes, 0);
      say(
        `| ${label} | ${rate * 100} % | ${((100 * r.before) / BAD).toFixed(1)} % | ${((100 * r.fired) / BAD).toFixed(1)} % | ${r.median ?? '—'} | ${full} | ${r.metrics} | ${r.s.toFixed(0)} |`,
      );
    }
}

/** h9-checks: the runtime computes the checks (checkSamplingRate), the example's scoring and pairing rates. */
async function runtimeParts() {
  const example = { rps: 5, samplingRate: 0.005, pairSamplingRate: 0.1, alpha: 0.01 } as const;
  if (PART === 'runtime-bad') {
    say(`# runtime checks, bad releases — ${new Date().toISOString()} — ${BAD} seeds per row`);
    say('## citation validity 95 % → 80 % on the canary, nothing else changes (unbiased evaluator, pairs 50/50, 20 % clustered retries)');
    say(
      '| schedule | checkSamplingRate | caught before full | caught at all | median minute caught | full at | fired metrics | check lines/release | judge record KB | s |',
    );
    say('|---|---|---|---|---|---|---|---|---|---|');
    let i = 0;
    for (const [label, plane, steps] of [
      ['code planned linear(5, 3 min)', 'code', PLANNED_CODE],
      ['config planned 10 % → 50 %', 'config', PLANNED_CONFIG],
      ['example TrafficShift.CANARY_10_PERCENT_5_MINUTES', 'code', EXAMPLE_CODE],
    ] as const)
      for (const rate of [1, 0.1, 0.02]) {
        if (ROWS && !ROWS.has(i++)) continue;
        const t = Date.now();
        let before = 0;
        let fired = 0;
        let lines = 0;
        let kb = 0;
        const minutes: number[] = [];
        const byMetric = new Map<string, number>();
        for (let seed = 50_001; seed < 50_001 + BAD; seed++) {
          const out = await runEvalWorld({
            ...example,
            seed,
            plane,
            steps,
            pairedLoss: 0.5,
            scoreDrop: 0,
            checks: CITATIONS_FALL,
            disturbance: 'retries',
            runtimeChecks: { rate },
          });
          lines += out.checkLines;
          kb = Math.max(kb, out.recordBytes / 1024);
          if (out.caughtAtMinute !== undefined) {
            fired++;
            minutes.push(out.caughtAtMinute);
            for (const m of out.fired) byMetric.set(m, (byMetric.get(m) ?? 0) + 1);
          }
          if (out.beforeFull) before++;
        }
        minutes.sort((a, b) => a - b);
        const full = (steps as readonly { readonly minutes: number }[]).reduce<number>((n, x) => n + x.minutes, 0);
        const metrics = [...byMetric].map(([m, n]) => `${m.replace('evaluation:', '')} ${n}`).join(', ') || '—';
        say(
          `| ${label} | ${rate} | ${((100 * before) / BAD).toFixed(1)} % | ${((100 * fired) / BAD).toFixed(1)} % | ${minutes.length ? minutes[Math.floor(minutes.length / 2)] : '—'} | ${full} | ${metrics} | ${(lines / BAD).toFixed(0)} | ${kb.toFixed(0)} | ${((Date.now() - t) / 1000).toFixed(0)} |`,
        );
      }
    return;
  }
  say(`# runtime checks, good releases — ${new Date().toISOString()} — ${GOOD} seeds per row`);
  say('## α = 0.01; 2 rubric criteria + 5 checks (runtime, every answer) + pairs; evaluator first-position bias 70 %; example rates');
  say('| row | seeds | rolled back | 95 % upper | fired metrics | check lines/release | s |');
  say('|---|---|---|---|---|---|---|');
  const base = { ...example, pairedLoss: 0.5, scoreDrop: 0, positionBias: 0.7, checks: EXAMPLE_CHECKS, runtimeChecks: { rate: 1 } } as const;
  const rows: [string, Omit<EvalWorldOptions, 'seed'>][] = [
    ['code, planned linear(5, 3 min), drifting mix (harder)', { ...base, plane: 'code', steps: PLANNED_CODE, disturbance: 'drifting-mix' }],
    ['code, planned, shared slowdown (10 min)', { ...base, plane: 'code', steps: PLANNED_CODE, disturbance: 'shared-latency' }],
    ['code, planned, clustered retries (20 %)', { ...base, plane: 'code', steps: PLANNED_CODE, disturbance: 'retries' }],
    ['config, planned 10 % → 50 %, drifting mix (easier)', { ...base, plane: 'config', steps: PLANNED_CONFIG, disturbance: 'drifting-mix', driftSign: -1 }],
    ['config, planned, shared slowdown', { ...base, plane: 'config', steps: PLANNED_CONFIG, disturbance: 'shared-latency' }],
    ['config, planned, clustered retries', { ...base, plane: 'config', steps: PLANNED_CONFIG, disturbance: 'retries' }],
  ];
  for (const [i, [name, o]] of rows.entries()) {
    if (ROWS && !ROWS.has(i)) continue;
    const t = Date.now();
    let fired = 0;
    let lines = 0;
    const byMetric = new Map<string, number>();
    const skip = Number(process.env.BENCH_SKIP ?? 0);
    for (let seed = 90_001 + i * GOOD + skip; seed < 90_001 + (i + 1) * GOOD; seed++) {
      const out = await runEvalWorld({ ...o, seed });
      lines += out.checkLines;
      if (out.caughtAtMinute !== undefined) {
        fired++;
        for (const m of out.fired) byMetric.set(m, (byMetric.get(m) ?? 0) + 1);
      }
      // Progress on stderr (h10-guard17): a row cut short by a session's end still gives its count so far.
      const done = seed - (90_001 + i * GOOD) + 1;
      if (done % 25 === 0) process.stderr.write(`row ${i}: ${done}/${GOOD} seeds, ${fired} rolled back, ${((Date.now() - t) / 1000).toFixed(0)} s\n`);
    }
    const metrics = [...byMetric].map(([m, n]) => `${m.replace('evaluation:', '')} ${n}`).join(', ') || '—';
    const ran = GOOD - skip;
    say(
      `| ${name}${skip ? ` (seeds ${skip + 1}–${GOOD} of the row's set)` : ''} | ${ran} | ${fired} (${((100 * fired) / ran).toFixed(1)} %) | ${(100 * upper95(fired, ran)).toFixed(2)} % | ${metrics} | ${(lines / ran).toFixed(0)} | ${((Date.now() - t) / 1000).toFixed(0)} |`,
    );
  }
}

if (PART === 'runtime-good' || PART === 'runtime-bad') void runtimeParts();
else void main();
