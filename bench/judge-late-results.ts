/**
 * Late evaluation results (h7-judgeev, issue 17 A/E): the judge waits for each sample window's own results (the
 * runtime's sample lines say which were taken) up to a bound derived from the delays it measured, instead of reading
 * each window once 120 s after it ends. Simulated good releases at 5 requests/s through the real wiring and engine
 * (lib/drill/evaluation-world.ts), α = 0.01, an evaluator that picks the first position 70 % of the time, 10 %
 * sampling, with ANSWER-DEPENDENT delays: an answer of length z ~ N(0, 1) scores 1.5 z higher and its result arrives
 * 150 s × max(0, z) later, on both versions alike (a canary's pair adds its own delay).
 *
 *   npx tsx bench/judge-late-results.ts [seeds=1000] [settleSeeds=200]
 *
 * Rows as the existing evaluation rows: planned code linear(5, 3 min) with no disturbance, a drifting mix, a 10-minute
 * shared slowdown, clustered retries; the config plane oversampled under a drifting mix. Prints false rollbacks with a
 * 95 % upper bound, and per release: samples, results judged, late (canary / stable), windows closed at the bound.
 */
import { codeSteps } from '../lib/rollout/canary-plan';
import { type EvalWorldOptions, runEvalWorld } from '../lib/drill/evaluation-world';
import { binomialUpper } from '../lambda/judge/stats';

const SEEDS = Number(process.argv[2] ?? 1000);
const SETTLE_SEEDS = Number(process.argv[3] ?? 200);
const say = (s: string) => process.stdout.write(`${s}\n`);

const PLANNED_CODE = codeSteps('linear', 5, 3);
const PLANNED_CONFIG = [
  { share: 0.1, minutes: 5 },
  { share: 0.5, minutes: 55 },
];

/** The exact one-sided 95 % upper bound of a binomial rate (Clopper-Pearson; the judge's own). */
const upper95 = (k: number, n: number): number => binomialUpper(k, n, 0.05);

async function row(o: Omit<EvalWorldOptions, 'seed'>, seeds: number) {
  const t = Date.now();
  let fired = 0;
  let samples = 0;
  let judged = 0;
  let lateC = 0;
  let lateS = 0;
  let atBound = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const out = await runEvalWorld({ ...o, seed });
    if (out.caughtAtMinute !== undefined) fired++;
    samples += out.samples;
    judged += out.judged;
    lateC += out.late.canary;
    lateS += out.late.stable;
    atBound += out.windowsAtBound;
  }
  const per = (x: number) => (x / seeds).toFixed(1);
  return `${fired} (${((100 * fired) / seeds).toFixed(1)} %) | ${(100 * upper95(fired, seeds)).toFixed(2)} % | ${per(samples)} | ${per(judged)} | ${per(lateC)} / ${per(lateS)} (${((100 * (lateC + lateS)) / samples).toFixed(1)} %) | ${per(atBound)} | ${((Date.now() - t) / 1000).toFixed(0)}`;
}

async function main() {
  say(`# late evaluation results — ${new Date().toISOString()} — ${SEEDS} seeds per row (the old 120 s cut: ${SETTLE_SEEDS})`);
  say('');
  say('| row | judge | seeds | rolled back | 95 % upper | samples | judged | late canary / stable | windows at bound | s |');
  say('|---|---|---|---|---|---|---|---|---|---|');
  const base = {
    rps: 5,
    pairedLoss: 0.5,
    scoreDrop: 0,
    positionBias: 0.7,
    alpha: 0.01,
    samplingRate: 0.1,
    lengthEffect: { delayMs: 150_000, scoreLift: 1.5 },
  } as const;
  const rows: [string, Omit<EvalWorldOptions, 'seed'>][] = [
    ['code, planned linear(5, 3 min), no disturbance', { ...base, plane: 'code', steps: PLANNED_CODE }],
    ['code, planned, drifting mix (harder)', { ...base, plane: 'code', steps: PLANNED_CODE, disturbance: 'drifting-mix' }],
    ['code, planned, shared slowdown (10 min)', { ...base, plane: 'code', steps: PLANNED_CODE, disturbance: 'shared-latency' }],
    ['code, planned, clustered retries (20 %)', { ...base, plane: 'code', steps: PLANNED_CODE, disturbance: 'retries' }],
    [
      'config, planned 10 % → 50 %, oversampled, drifting mix (easier)',
      { ...base, plane: 'config', steps: PLANNED_CONFIG, disturbance: 'drifting-mix', driftSign: -1 },
    ],
  ];
  for (const [name, o] of rows) {
    say(`| ${name} | waits (h7-judgeev) | ${SEEDS} | ${await row(o, SEEDS)} |`);
    if (SETTLE_SEEDS > 0) say(`| ${name} | 120 s cut (before) | ${SETTLE_SEEDS} | ${await row({ ...o, reader: 'settle' }, SETTLE_SEEDS)} |`);
  }
}

void main();
