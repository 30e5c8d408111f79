/**
 * The canary judge with the evaluation metrics (issue 17 Tests): simulated releases at 5 requests/s judged through the
 * real wiring and engine (lib/drill/evaluation-world.ts: the evaluator's result lines, the judge's Logs Insights reads by
 * sample time after the settle time, once a minute, the engine at α = 0.01 with the evaluation metrics as the 7th
 * share).
 *
 *   npx tsx bench/evaluation-judge.ts [goodSeeds=1000] [badSeeds=200]
 *
 * 1. Good releases: how often they are rolled back, with an evaluator biased to the first position 70 % of the time,
 *    under the disturbances that matter here (a drifting mix, a shared slowdown, clustered retries), on both planes'
 *    planned schedules (planCanary at 5 rps: code linear(5, 3 min); config 10 % for 5 min, then 50 % for 55 min).
 * 2. Bad releases whose answers lose 60 % of pairs: caught before full rollout, by sampling rate, with an unbiased
 *    evaluator and with the 70 % biased one; and the example's configured TrafficShift.CANARY_10_PERCENT_5_MINUTES.
 * Only the evaluation metrics are simulated (the runtime's own metrics are bench/judge-world.ts's; their α share
 * shrinks from 1/6 to 1/7 of α with evaluation on, so their false rollbacks can only become rarer).
 */
import { codeSteps } from '../lib/rollout/canary-plan';
import { type EvalWorldOptions, runEvalWorld } from '../lib/drill/evaluation-world';
import { binomialUpper } from '../lambda/judge/stats';

const GOOD = Number(process.argv[2] ?? 1000);
const BAD = Number(process.argv[3] ?? 200);
const say = (s: string) => process.stdout.write(`${s}\n`);

const PLANNED_CODE = codeSteps('linear', 5, 3);
const PLANNED_CONFIG = [
  { share: 0.1, minutes: 5 },
  { share: 0.5, minutes: 55 },
];
const EXAMPLE_CODE = codeSteps('canary', 10, 5);

/** The exact one-sided 95 % upper bound of a binomial rate (Clopper-Pearson; the judge's own). */
const upper95 = (k: number, n: number): number => binomialUpper(k, n, 0.05);

const minutesOf = (steps: readonly { readonly minutes: number }[]): number => steps.reduce<number>((n, x) => n + x.minutes, 0);

async function row(name: string, o: Omit<EvalWorldOptions, 'seed'>, seeds: number) {
  const t = Date.now();
  let fired = 0;
  let before = 0;
  const minutes: number[] = [];
  let pairs = 0;
  let samples = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const out = await runEvalWorld({ ...o, seed });
    pairs += out.pairs;
    samples += out.samples;
    if (out.caughtAtMinute !== undefined) {
      fired++;
      minutes.push(out.caughtAtMinute);
    }
    if (out.beforeFull) before++;
  }
  minutes.sort((a, b) => a - b);
  const median = minutes.length > 0 ? minutes[Math.floor(minutes.length / 2)] : undefined;
  return { name, seeds, fired, before, median, pairs: pairs / seeds, samples: samples / seeds, s: (Date.now() - t) / 1000 };
}

async function main() {
  say(`# canary judge with evaluation metrics — ${new Date().toISOString()} — good ${GOOD} seeds, bad ${BAD} seeds per row`);
  say('');
  say('## Good releases (α = 0.01; evaluator prefers the first position 70 % of the time; both orders combined)');
  say('| row | seeds | rolled back | 95 % upper | samples/release | canary pairs/release | s |');
  say('|---|---|---|---|---|---|---|');
  const base = { rps: 5, pairedLoss: 0.5, scoreDrop: 0, positionBias: 0.7, alpha: 0.01 } as const;
  const goodRows: [string, Omit<EvalWorldOptions, 'seed'>][] = [
    ['code, planned linear(5, 3 min), sampling 10 %, no disturbance', { ...base, samplingRate: 0.1, plane: 'code', steps: PLANNED_CODE }],
    ['code, planned, 10 %, drifting mix (harder)', { ...base, samplingRate: 0.1, plane: 'code', steps: PLANNED_CODE, disturbance: 'drifting-mix' }],
    ['code, planned, 10 %, shared slowdown (10 min)', { ...base, samplingRate: 0.1, plane: 'code', steps: PLANNED_CODE, disturbance: 'shared-latency' }],
    ['code, planned, 10 %, clustered retries (20 %)', { ...base, samplingRate: 0.1, plane: 'code', steps: PLANNED_CODE, disturbance: 'retries' }],
    [
      'config, planned 10 % → 50 %, 10 %, oversampled, drifting mix (easier)',
      { ...base, samplingRate: 0.1, plane: 'config', steps: PLANNED_CONFIG, disturbance: 'drifting-mix', driftSign: -1 },
    ],
    [
      'config, 20 % for 30 min, 10 %, oversampled, drifting mix (harder)',
      { ...base, samplingRate: 0.1, plane: 'config', steps: [{ share: 0.2, minutes: 30 }], disturbance: 'drifting-mix' },
    ],
    ['code, example canary 10 % 5 min, sampling 2 %', { ...base, samplingRate: 0.02, plane: 'code', steps: EXAMPLE_CODE }],
  ];
  for (const [name, o] of goodRows) {
    const r = await row(name, o, GOOD);
    say(
      `| ${name} | ${r.seeds} | ${r.fired} (${((100 * r.fired) / r.seeds).toFixed(1)} %) | ${(100 * upper95(r.fired, r.seeds)).toFixed(2)} % | ${r.samples.toFixed(0)} | ${r.pairs.toFixed(0)} | ${r.s.toFixed(0)} |`,
    );
  }
  say('');
  say('## Bad releases: the canary loses 60 % of pairs (honest preference), scores unchanged — caught before full rollout');
  say('| schedule | sampling | evaluator | caught before full | caught at all | median minute caught | full at | canary pairs/release | s |');
  say('|---|---|---|---|---|---|---|---|---|');
  const bad = { rps: 5, pairedLoss: 0.6, scoreDrop: 0, alpha: 0.01 } as const;
  for (const [label, plane, steps] of [
    ['code planned linear(5, 3 min)', 'code', PLANNED_CODE],
    ['config planned 10 % → 50 %', 'config', PLANNED_CONFIG],
  ] as const)
    for (const rate of [0.02, 0.05, 0.1, 0.2, 0.3, 0.5])
      for (const bias of [0, 0.7]) {
        const r = await row(label, { ...bad, plane, steps, samplingRate: rate, positionBias: bias }, BAD);
        say(
          `| ${label} | ${rate * 100} % | ${bias ? 'first position 70 %' : 'unbiased'} | ${((100 * r.before) / r.seeds).toFixed(1)} % | ${((100 * r.fired) / r.seeds).toFixed(1)} % | ${r.median ?? '—'} | ${minutesOf(steps)} | ${r.pairs.toFixed(0)} | ${r.s.toFixed(0)} |`,
        );
      }
  for (const rate of [0.02, 1]) {
    const r = await row('example canary 10 % 5 min', { ...bad, plane: 'code', steps: EXAMPLE_CODE, samplingRate: rate, positionBias: 0 }, BAD);
    say(
      `| example TrafficShift.CANARY_10_PERCENT_5_MINUTES | ${rate * 100} % | unbiased | ${((100 * r.before) / r.seeds).toFixed(1)} % | ${((100 * r.fired) / r.seeds).toFixed(1)} % | ${r.median ?? '—'} | 5 | ${r.pairs.toFixed(0)} | ${r.s.toFixed(0)} |`,
    );
  }
}

void main();
