/**
 * The guardrail's contextual grounding scores in the canary judge's family (h11-eval17, issue 17 E): simulated
 * releases at 5 requests/s judged through the real wiring and engine (lib/drill/evaluation-world.ts, `guardrail`),
 * with the example's family: its two rubric criteria, its five deterministic checks, `guardrail-groundedness` and
 * `guardrail-relevance`, and the paired test (α = 0.01; the evaluation share split half to pairs, half over nine
 * score tests). The checks are scored on the evaluator's samples here (h8-detjudge's path), not on the runtime's
 * check lines (the example's `checkSamplingRate` 0.25): the family and its thresholds are the example's, the checks'
 * data path is not (bench/evaluation-checks.ts runtime-good measures that path).
 *
 *   npx tsx bench/guardrail-judge.ts [goodSeeds=1000] [badSeeds=200] [part=all|good|bad] [rows=0,1,..]
 *
 * 1. Good releases, the example's rates (scoring 0.5 %, pairs 10 % of the canary's answers during a release), an
 *    evaluator that picks the first answer shown 70 % of the time, under the production-like disturbances: a drifting
 *    mix (harder inputs: lower scores and more tool answers on both arms), a shared slowdown (retrieval timeouts: less
 *    grounded answers on both arms for 10 minutes, results later), clustered retries (a retry repeats its input's
 *    scores), and uneven execution environments (each version's three environments with a latent offset σ; on the
 *    code plane they are nested in the version). Also at 10 % scoring, where the guardrail tests see 20× the scores.
 * 2. Bad releases (100 seeds per row): the seed's incident (stale passages for 30 % of questions: relevance −1 point on the rubric, the
 *    evaluator prefers the stable answer of an affected pair 85 % of the time, as lib/drill/stale-index.ts) with the
 *    guardrail's scores moving as stated per row; and a grounding regression the guardrail is built for (a prompt edit
 *    that answers from the model's memory on 30 % of questions: guardrail groundedness latent −3 (about 0.9 → 0.3) or
 *    −1.5 (0.9 → 0.67), the rubric's groundedness −1 point, pairs 50/50). Caught before full rollout, with and without the guardrail keys judged.
 */
import { binomialUpper } from '../lambda/judge/stats';
import { type EvalWorldOptions, type GuardrailWorld, runEvalWorld, EXAMPLE_CHECKS } from '../lib/drill/evaluation-world';
import { codeSteps } from '../lib/rollout/canary-plan';

/**
 * h12-envscore: STAMP=0 writes no environment on the lines (the control: the engine as before, every score its own
 * unit); BAD_ENV=ids|uneven runs the bad rows with 3 environments per version (σ 0, or σ 0.3 on every score).
 */
const STAMP = process.env.STAMP !== '0';
const BAD_ENV = process.env.BAD_ENV ?? 'none';
const GOOD = Number(process.argv[2] ?? 1000);
const BAD = Number(process.argv[3] ?? 100);
const PART = process.argv[4] ?? 'all';
const ROWS = process.argv[5] ? new Set(process.argv[5].split(',').map(Number)) : undefined;
const say = (s: string) => process.stdout.write(`${s}\n`);

const PLANNED_CODE = codeSteps('linear', 5, 3);
const PLANNED_CONFIG = [
  { share: 0.1, minutes: 5 },
  { share: 0.5, minutes: 55 },
];
const GUARDRAIL: GuardrailWorld = {};
const UNEVEN: GuardrailWorld = { environments: { perVersion: 3, spread: 0.3 } };
const UNEVEN_WIDE: GuardrailWorld = { environments: { perVersion: 3, spread: 0.6 } };
/** Environment offsets on every score (h12-envscore): rubric and guardrail latents, and the checks' pass rates. */
const envAll = (sd: number, checks: number): EvalWorldOptions['environments'] => ({ perVersion: 3, rubric: sd, guardrail: sd, checks, stamp: STAMP });
const stamped = (g: GuardrailWorld): Pick<EvalWorldOptions, 'environments'> =>
  g.environments ? { environments: { perVersion: g.environments.perVersion, guardrail: g.environments.spread, stamp: STAMP } } : {};

const upper95 = (k: number, n: number): number => binomialUpper(k, n, 0.05);
const minutesOf = (steps: readonly { readonly minutes: number }[]): number => steps.reduce<number>((n, x) => n + x.minutes, 0);

interface RowOut {
  fired: number;
  before: number;
  median?: number;
  metrics: string;
  guardrailFired: number;
  samples: number;
  s: number;
}

async function row(o: Omit<EvalWorldOptions, 'seed'>, seeds: number, from: number, label: string): Promise<RowOut> {
  const t = Date.now();
  let fired = 0;
  let before = 0;
  let guardrailFired = 0;
  let samples = 0;
  const minutes: number[] = [];
  const byMetric = new Map<string, number>();
  for (let seed = from; seed < from + seeds; seed++) {
    const out = await runEvalWorld({ ...o, seed });
    samples += out.samples;
    if (out.caughtAtMinute !== undefined) {
      fired++;
      minutes.push(out.caughtAtMinute);
      for (const m of out.fired) byMetric.set(m, (byMetric.get(m) ?? 0) + 1);
      if (out.fired.some((m) => m.startsWith('evaluation:guardrail-'))) guardrailFired++;
    }
    if (out.beforeFull) before++;
    const done = seed - from + 1;
    if (done % 100 === 0) process.stderr.write(`${label}: ${done}/${seeds} seeds, ${fired} rolled back, ${((Date.now() - t) / 1000).toFixed(0)} s\n`);
  }
  minutes.sort((a, b) => a - b);
  const metrics = [...byMetric].map(([m, n]) => `${m.replace('evaluation:', '')} ${n}`).join(', ') || '—';
  return {
    fired,
    before,
    ...(minutes.length > 0 ? { median: minutes[Math.floor(minutes.length / 2)] } : {}),
    metrics,
    guardrailFired,
    samples: samples / seeds,
    s: (Date.now() - t) / 1000,
  };
}

async function good() {
  say(
    `# guardrail scores in the judge's family, good releases — ${new Date().toISOString()} — ${GOOD} seeds per row; environments ${STAMP ? 'named on the lines (design effect)' : 'not named (STAMP=0)'}`,
  );
  say('α = 0.01; 2 rubric criteria + 5 checks + 2 guardrail keys + pairs; evaluator first-position bias 70 %');
  say('| row | scoring | seeds | rolled back | 95 % upper | by a guardrail key | fired metrics | samples/release | s |');
  say('|---|---|---|---|---|---|---|---|---|');
  const example = {
    rps: 5,
    samplingRate: 0.005,
    pairSamplingRate: 0.1,
    pairedLoss: 0.5,
    scoreDrop: 0,
    positionBias: 0.7,
    alpha: 0.01,
    checks: EXAMPLE_CHECKS,
  } as const;
  const at10 = { ...example, samplingRate: 0.1, pairSamplingRate: 0.1 } as const;
  const rows: [string, Omit<EvalWorldOptions, 'seed'>][] = [
    [
      'code, planned linear(5, 3 min), drifting mix (harder)',
      { ...example, plane: 'code', steps: PLANNED_CODE, disturbance: 'drifting-mix', guardrail: GUARDRAIL },
    ],
    ['code, planned, shared slowdown (10 min)', { ...example, plane: 'code', steps: PLANNED_CODE, disturbance: 'shared-latency', guardrail: GUARDRAIL }],
    ['code, planned, clustered retries (20 %)', { ...example, plane: 'code', steps: PLANNED_CODE, disturbance: 'retries', guardrail: GUARDRAIL }],
    [
      'code, planned, uneven environments (3 per version, σ 0.3), drifting mix',
      { ...example, plane: 'code', steps: PLANNED_CODE, disturbance: 'drifting-mix', guardrail: UNEVEN },
    ],
    [
      'config, planned 10 % → 50 %, drifting mix (harder)',
      { ...example, plane: 'config', steps: PLANNED_CONFIG, disturbance: 'drifting-mix', guardrail: GUARDRAIL },
    ],
    ['config, planned, shared slowdown', { ...example, plane: 'config', steps: PLANNED_CONFIG, disturbance: 'shared-latency', guardrail: GUARDRAIL }],
    ['config, planned, clustered retries', { ...example, plane: 'config', steps: PLANNED_CONFIG, disturbance: 'retries', guardrail: GUARDRAIL }],
    [
      'config, planned, uneven environments (shared, σ 0.6), retries',
      { ...example, plane: 'config', steps: PLANNED_CONFIG, disturbance: 'retries', guardrail: UNEVEN_WIDE },
    ],
    ['code, planned, drifting mix (harder)', { ...at10, plane: 'code', steps: PLANNED_CODE, disturbance: 'drifting-mix', guardrail: GUARDRAIL }],
    ['code, planned, uneven environments (σ 0.3), retries', { ...at10, plane: 'code', steps: PLANNED_CODE, disturbance: 'retries', guardrail: UNEVEN }],
    ['code, planned, uneven environments (σ 0.6), retries', { ...at10, plane: 'code', steps: PLANNED_CODE, disturbance: 'retries', guardrail: UNEVEN_WIDE }],
    ['config, planned, drifting mix (harder)', { ...at10, plane: 'config', steps: PLANNED_CONFIG, disturbance: 'drifting-mix', guardrail: GUARDRAIL }],
    ['code, planned, uneven environments (σ 0.6), retries', { ...example, plane: 'code', steps: PLANNED_CODE, disturbance: 'retries', guardrail: UNEVEN_WIDE }],
    [
      'code, planned, environments on every score (σ 0.3, checks ±0.02), retries',
      { ...at10, plane: 'code', steps: PLANNED_CODE, disturbance: 'retries', guardrail: GUARDRAIL, environments: envAll(0.3, 0.02) },
    ],
    [
      'code, planned, environments on every score (σ 0.6, checks ±0.04), retries',
      { ...at10, plane: 'code', steps: PLANNED_CODE, disturbance: 'retries', guardrail: GUARDRAIL, environments: envAll(0.6, 0.04) },
    ],
    [
      'config, planned, environments on every score (shared, σ 0.6, checks ±0.04), retries',
      { ...at10, plane: 'config', steps: PLANNED_CONFIG, disturbance: 'retries', guardrail: GUARDRAIL, environments: envAll(0.6, 0.04) },
    ],
    [
      'code, planned, environments on every score (σ 0.6, checks ±0.04), retries',
      { ...example, plane: 'code', steps: PLANNED_CODE, disturbance: 'retries', guardrail: GUARDRAIL, environments: envAll(0.6, 0.04) },
    ],
  ];
  for (const [i, [name, o]] of rows.entries()) {
    if (ROWS && !ROWS.has(i)) continue;
    const r = await row({ ...o, ...(o.guardrail && !o.environments ? stamped(o.guardrail) : {}) }, GOOD, 110_001 + i * 10_000, `good row ${i}`);
    say(
      `| ${i}: ${name} | ${o.samplingRate * 100} % | ${GOOD} | ${r.fired} (${((100 * r.fired) / GOOD).toFixed(1)} %) | ${(100 * upper95(r.fired, GOOD)).toFixed(2)} % | ${r.guardrailFired} | ${r.metrics} | ${r.samples.toFixed(0)} | ${r.s.toFixed(0)} |`,
    );
  }
}

async function bad() {
  say(
    `# guardrail scores in the judge's family, bad releases — ${new Date().toISOString()} — ${BAD} seeds per row; environments ${BAD_ENV}${BAD_ENV === 'none' ? '' : STAMP ? ', named (design effect)' : ', not named (STAMP=0)'}`,
  );
  say(
    'unbiased evaluator; clustered retries (20 %); α = 0.01; "with" judges 2 rubric + 5 checks + 2 guardrail keys + pairs, "without" the same less the guardrail keys',
  );
  say('| regression | schedule | scoring | guardrail keys | caught before full | caught at all | median minute | full at | fired metrics | s |');
  say('|---|---|---|---|---|---|---|---|---|---|');
  const stale = { pairedLoss: 0.85, scoreDrop: { groundedness: 0, relevance: 1 }, affectedShare: 0.3 } as const;
  const memory = { pairedLoss: 0.5, scoreDrop: { groundedness: 1, relevance: 0 }, affectedShare: 0.3 } as const;
  const variants: [string, Pick<EvalWorldOptions, 'pairedLoss' | 'scoreDrop' | 'affectedShare'>, GuardrailWorld | undefined][] = [
    ['stale passages (30 %)', stale, undefined],
    ['stale passages (30 %), guardrail unmoved', stale, {}],
    ['stale passages (30 %), guardrail relevance −0.3', stale, { canaryDrop: { relevance: 0.3 } }],
    ['answers from memory (30 %)', memory, undefined],
    ['answers from memory (30 %), guardrail groundedness −3 (≈ 0.9 → 0.3)', memory, { canaryDrop: { groundedness: 3 } }],
    ['answers from memory (30 %), guardrail groundedness −1.5 (≈ 0.9 → 0.67)', memory, { canaryDrop: { groundedness: 1.5 } }],
  ];
  const schedules = [
    ['code planned linear(5, 3 min)', 'code', PLANNED_CODE],
    ['config planned 10 % → 50 %', 'config', PLANNED_CONFIG],
  ] as const;
  let i = 0;
  for (const [sched, plane, steps] of schedules)
    for (const rate of [0.005, 0.1])
      for (const [label, effect, g] of variants) {
        const idx = i++;
        if (ROWS && !ROWS.has(idx)) continue;
        const o: Omit<EvalWorldOptions, 'seed'> = {
          rps: 5,
          samplingRate: rate,
          pairSamplingRate: 0.1,
          positionBias: 0,
          alpha: 0.01,
          checks: EXAMPLE_CHECKS,
          disturbance: 'retries',
          plane,
          steps,
          ...effect,
          ...(g ? { guardrail: g } : {}),
          ...(BAD_ENV === 'ids' ? { environments: envAll(0, 0) } : BAD_ENV === 'uneven' ? { environments: envAll(0.3, 0.02) } : {}),
        };
        const r = await row(o, BAD, 510_001, `bad row ${idx}`);
        say(
          `| ${idx}: ${label} | ${sched} | ${rate * 100} % | ${g ? 'judged' : 'not judged'} | ${((100 * r.before) / BAD).toFixed(1)} % | ${((100 * r.fired) / BAD).toFixed(1)} % | ${r.median ?? '—'} | ${minutesOf(steps)} | ${r.metrics} | ${r.s.toFixed(0)} |`,
        );
      }
}

async function main() {
  if (PART !== 'bad') await good();
  if (PART !== 'good') await bad();
}

void main();
