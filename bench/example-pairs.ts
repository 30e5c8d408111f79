/**
 * The example catches "answers lose 60 % of pairs" at 5 requests/s within its budget (issue 17 Tests, h7-pairs): the
 * EXAMPLE's own settings, read from its construct tree (bin/example-stack.ts: the release config's samplingRate and
 * paired.samplingRate, the configured code schedule, and the assigned config schedule it ships, h12-assigned), simulated through the
 * project's evaluation world (lib/drill/evaluation-world.ts: result lines with the world's evaluator delays, the
 * judge's reads after the settle time once a minute, the real engine at α = 0.01 with groundedness, relevance and
 * paired judged). Bad releases: the canary loses 60 % of pairs, scores unchanged. Good releases: pairs 50/50, scores
 * unchanged, an evaluator that picks the first answer shown 70 % of the time, under each disturbance. Cost per
 * release and per day from the card's figures (lib/rollout/evaluation-cost.ts).
 *
 *   npx tsx bench/example-pairs.ts [seeds=1000] [goodSeeds=seeds] [bad|good|good-config|cost|lag|config-rates|all=all]
 */
import { App } from 'aws-cdk-lib';
import { ExampleStack } from '../bin/example-stack';
import { type EvalDisturbance, runEvalWorld } from '../lib/drill/evaluation-world';
import { binomialUpper } from '../lambda/judge/stats';
import { wilson } from '../lib/drill/simulate';
import type { PlanStep } from '../lib/rollout/canary-plan';

const SEEDS = Number(process.argv[2] ?? 1000);
const GOOD_SEEDS = Number(process.argv[3] ?? SEEDS);
const ONLY = process.argv[4] ?? 'all';
const say = (s: string) => process.stdout.write(`${s}\n`);
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
/** Exact one-sided 95 % Clopper–Pearson bounds: the lower bound of a catch rate, the upper of a false-rollback rate. */
const cpLower = (k: number, n: number) => (k === 0 ? 0 : 1 - binomialUpper(n - k, n, 0.05));
const cpUpper = (k: number, n: number) => binomialUpper(k, n, 0.05);

interface Row {
  readonly name: string;
  readonly plane: 'code' | 'config';
  readonly steps: readonly PlanStep[];
  readonly samplingRate: number;
  readonly pairSamplingRate?: number;
  readonly pairedLoss: number;
  readonly positionBias?: number;
  readonly disturbance?: EvalDisturbance;
  readonly driftSign?: 1 | -1;
  readonly pairLagSeconds?: number;
}

async function run(row: Row, seeds: number) {
  const t0 = Date.now();
  let before = 0;
  let atAll = 0;
  let pairs = 0;
  const minutes: number[] = [];
  let full = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const o = await runEvalWorld({
      seed,
      rps: 5,
      steps: row.steps,
      plane: row.plane,
      samplingRate: row.samplingRate,
      ...(row.pairSamplingRate !== undefined ? { pairSamplingRate: row.pairSamplingRate } : {}),
      pairedLoss: row.pairedLoss,
      scoreDrop: 0,
      positionBias: row.positionBias ?? 0,
      disturbance: row.disturbance ?? 'none',
      ...(row.driftSign ? { driftSign: row.driftSign } : {}),
      ...(row.pairLagSeconds ? { pairLagSeconds: row.pairLagSeconds } : {}),
      alpha: 0.01,
      criteria: ['groundedness', 'relevance'],
    });
    if (o.beforeFull) before++;
    if (o.caughtAtMinute !== undefined) {
      atAll++;
      minutes.push(o.caughtAtMinute);
    }
    pairs += o.pairs;
    full = o.fullAtMinute;
  }
  minutes.sort((a, b) => a - b);
  return {
    before,
    atAll,
    pairs: pairs / seeds,
    median: minutes.length ? minutes[Math.floor(minutes.length / 2)] : undefined,
    full,
    s: (Date.now() - t0) / 1000,
  };
}

async function main() {
  // The example as shipped: its code schedule is the canary plan's at 5 requests/s (bin/example-stack.ts).
  const stack = new ExampleStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Example');
  const facts = stack.release.facts;
  const cp = facts.canaryPlan;
  const ev = cp?.traffic.evaluation;
  const cost = facts.releaseCost?.evaluation;
  if (!cp || !ev || !cost) throw new Error('the example has no canary plan with an evaluation');
  const r = ev.samplingRate;
  const p = ev.pairSamplingRate ?? r;
  // The config canary's own pairing rate (paired.configSamplingRate, h12-pairplane; default the code plane's).
  const pc = ev.configPairSamplingRate ?? p;
  const describe = (s: readonly PlanStep[]) => s.map((x) => `${Math.round(x.share * 100)} % ${x.minutes} min`).join(', ');
  const code = cp.current.steps;
  // The config schedule as shipped (the example's assigned canary, h12-assigned); the plan's only when the example
  // is synthesized with `configCanary: 'appconfig'` (then no config pairs are made in production at all).
  const config = cp.configCurrent?.steps ?? cp.plan.config.steps;
  const configName = cp.configCurrent ? `${describe(config)} (assigned, shipped)` : `${describe(config)} (planned; not shipped)`;
  say(`# the example's paired preference — ${new Date().toISOString()} — ${SEEDS} seeds per row, 5 requests/s`);
  say(`example: samplingRate ${r}, paired.samplingRate ${p}, paired.configSamplingRate ${pc}; code ${cp.current.describe}; config ${configName}`);
  const paired = (x: { byRegression: readonly { regression: string; power: number }[] }) =>
    x.byRegression.find((q) => q.regression === 'pairedPreference')?.power ?? 0;
  say(`closed form: code ${pct(paired(cp.current))}, config ${pct(paired(cp.configCurrent ?? cp.plan.config))}`);
  if (ONLY === 'all' || ONLY === 'bad') await badRows(cp, r, p, pc, code, config, configName);
  if (ONLY === 'config-rates') await configRateRows(r, config, configName);
  if (ONLY === 'all' || ONLY === 'good' || ONLY === 'good-config') await goodRows(r, p, pc, code, config, ONLY === 'good-config');
  if (ONLY === 'all' || ONLY === 'cost') costLines(cost, cp);
  if (ONLY === 'all' || ONLY === 'lag') await lagRows(cp, r, p, code);
}

/**
 * h8-codepairs: the code canary draws pair-only samples only once the share document's announcement reaches its
 * environments. Worst case: the hook's announcement wait (5 s) + the client lag (15 s extension poll + 5 s TTL) = 25 s
 * after the first canary request when the gate answers at once; 80 s: the announcement's first attempt lost, the
 * second (at the hook's answer) taken, plus a full minute of slack; 180 s: the whole first step missed.
 */
async function lagRows(cp: { current: { describe: string } }, r: number, p: number, code: readonly PlanStep[]) {
  say('');
  say('## Code canary announced late (h8-codepairs): pair-only draws start L seconds after the first shift; the canary loses 60 % of pairs');
  say('| lag L | caught before full (95 % interval) | caught at all | median minute caught | canary pairs/release | pairs missed/release | s |');
  say('| --- | --- | --- | --- | --- | --- | --- |');
  let base: number | undefined;
  for (const lag of [0, 25, 80, 180]) {
    const o = await run(
      { name: cp.current.describe, plane: 'code', steps: code, samplingRate: r, pairSamplingRate: p, pairedLoss: 0.6, pairLagSeconds: lag },
      SEEDS,
    );
    base ??= o.pairs;
    const [lo, hi] = wilson(o.before, SEEDS);
    say(
      `| ${lag} s | ${pct(o.before / SEEDS)} (${pct(lo)}–${pct(hi)}; ${SEEDS} seeds) | ${pct(o.atAll / SEEDS)} | ${o.median ?? '—'} | ${o.pairs.toFixed(1)} | ${(base - o.pairs).toFixed(1)} | ${o.s.toFixed(0)} |`,
    );
  }
}

async function badRows(
  cp: { current: { describe: string } },
  r: number,
  p: number,
  pc: number,
  code: readonly PlanStep[],
  config: readonly PlanStep[],
  configName: string,
) {
  say('');
  say('## Bad releases: the canary loses 60 % of pairs, scores unchanged, unbiased evaluator');
  say(
    '| plane | schedule | scoring | pairing | caught before full (95 % interval) | one-sided 95 % lower (CP) | caught at all | median minute caught | full at | canary pairs/release | s |',
  );
  say('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const bad: Row[] = [
    { name: cp.current.describe, plane: 'code', steps: code, samplingRate: r, pairSamplingRate: p, pairedLoss: 0.6 },
    { name: configName, plane: 'config', steps: config, samplingRate: r, pairSamplingRate: pc, pairedLoss: 0.6 },
    // Controls: the same schedules with pairs only where scoring draws (paired: true), at the example's scoring rate.
    { name: `${cp.current.describe} (control: paired: true)`, plane: 'code', steps: code, samplingRate: r, pairedLoss: 0.6 },
    { name: `${configName} (control: paired: true)`, plane: 'config', steps: config, samplingRate: r, pairedLoss: 0.6 },
  ];
  for (const row of bad) {
    const seeds = row.name.includes('control') ? Math.min(SEEDS, 200) : SEEDS;
    const o = await run(row, seeds);
    const [lo, hi] = wilson(o.before, seeds);
    say(
      `| ${row.plane} | ${row.name} | ${row.samplingRate} | ${row.pairSamplingRate ?? row.samplingRate} | ${pct(o.before / seeds)} (${pct(lo)}–${pct(hi)}; ${seeds} seeds) | ${pct(cpLower(o.before, seeds))} | ${pct(o.atAll / seeds)} | ${o.median ?? '—'} | ${o.full} | ${Math.round(o.pairs)} | ${o.s.toFixed(0)} |`,
    );
  }
}

/**
 * h12-assigned: the config plane on its shipped schedule at higher pairing rates (what raising paired.samplingRate
 * would buy there; the code plane's cost per release grows with it too).
 */
async function configRateRows(r: number, config: readonly PlanStep[], configName: string) {
  say('');
  say(`## Config plane, shipped schedule ${configName}: the canary loses 60 % of pairs, at other pairing rates`);
  say('| pairing | caught before full (95 % interval) | one-sided 95 % lower (CP) | caught at all | median minute caught | canary pairs/release | s |');
  say('| --- | --- | --- | --- | --- | --- | --- |');
  for (const rate of [0.15, 0.2]) {
    const o = await run({ name: configName, plane: 'config', steps: config, samplingRate: r, pairSamplingRate: rate, pairedLoss: 0.6 }, SEEDS);
    const [lo, hi] = wilson(o.before, SEEDS);
    say(
      `| ${rate} | ${pct(o.before / SEEDS)} (${pct(lo)}–${pct(hi)}; ${SEEDS} seeds) | ${pct(cpLower(o.before, SEEDS))} | ${pct(o.atAll / SEEDS)} | ${o.median ?? '—'} | ${Math.round(o.pairs)} | ${o.s.toFixed(0)} |`,
    );
  }
}

async function goodRows(r: number, p: number, pc: number, code: readonly PlanStep[], config: readonly PlanStep[], configOnly = false) {
  const SEEDS = GOOD_SEEDS;
  say('');
  say('## Good releases: pairs 50/50, scores unchanged, evaluator picking the first answer 70 % of the time (both orders combined)');
  say('| plane | disturbance | rolled back | 95 % upper (Wilson) | one-sided 95 % upper (CP) | canary pairs/release | s |');
  say('| --- | --- | --- | --- | --- | --- | --- |');
  // The mix drifts both ways (inputs harder, then easier, over the release, while the canary's share ramps up): time,
  // share and score move together, the case that fools an unpaired before/after test.
  const disturbances: [EvalDisturbance, (1 | -1)?][] = [['none'], ['drifting-mix', 1], ['drifting-mix', -1], ['shared-latency'], ['retries']];
  const planes = [
    ['code', code],
    ['config', config],
  ] as const;
  for (const [plane, steps] of planes.filter(([pl]) => !configOnly || pl === 'config'))
    for (const [d, sign] of disturbances) {
      const row: Row = {
        name: d,
        plane,
        steps,
        samplingRate: r,
        pairSamplingRate: plane === 'config' ? pc : p,
        pairedLoss: 0.5,
        positionBias: 0.7,
        disturbance: d,
        ...(sign ? { driftSign: sign } : {}),
      };
      const o = await run(row, SEEDS);
      const name = d === 'drifting-mix' ? `drifting mix (${sign === 1 ? 'harder' : 'easier'} over the release)` : d;
      say(
        `| ${plane} | ${name} | ${o.atAll} (${pct(o.atAll / SEEDS)}) | ${pct(wilson(o.atAll, SEEDS)[1])} | ${pct(cpUpper(o.atAll, SEEDS))} | ${Math.round(o.pairs)} | ${o.s.toFixed(0)} |`,
      );
    }
}

function costLines(
  cost: NonNullable<NonNullable<ExampleStack['release']['facts']['releaseCost']>['evaluation']>,
  cp: NonNullable<ExampleStack['release']['facts']['canaryPlan']>,
) {
  say('');
  const steadyPerDay = (cost.steadySamplesPerMonth / 730) * 24 * cost.scoreUsd;
  say('## Cost (the card: lib/rollout/evaluation-cost.ts at 5 requests/s, the configured code schedule)');
  say(
    `per release: ${Math.round(cost.pairsPerRelease)} pairs ${cost.pairsPerReleaseUsd.toFixed(2)} USD + ${Math.round(cost.samplesPerRelease)} scored ${cost.scoringPerReleaseUsd.toFixed(2)} USD = ${cost.perReleaseUsd.toFixed(2)} USD (budget ${cost.budget.perReleaseUsd} USD)`,
  );
  const cfg = cp.plan.evaluation?.reaching?.cost?.config;
  if (cfg)
    say(
      `per config release on the planned assigned schedule: ${Math.round(cfg.pairs)} pairs ${cfg.pairsUsd.toFixed(2)} USD + ${Math.round(cfg.samples)} scored ${cfg.scoringUsd.toFixed(2)} USD = ${cfg.totalUsd.toFixed(2)} USD`,
    );
  const shipped = cost.configRelease;
  if (shipped)
    say(
      `per config release on the shipped assigned schedule (the card, paired.configSamplingRate ${shipped.pairSamplingRate}): ${Math.round(shipped.pairs)} pairs ${shipped.pairsUsd.toFixed(2)} USD + ${Math.round(shipped.samples)} scored ${shipped.scoringUsd.toFixed(2)} USD = ${shipped.perReleaseUsd.toFixed(2)} USD (budget ${cost.budget.perReleaseUsd} USD); a day with one: ${(steadyPerDay + shipped.perReleaseUsd).toFixed(2)} USD (budget ${cost.budget.perDayUsd} USD)`,
    );
  say(
    `per day: steady-state scoring ${steadyPerDay.toFixed(2)} USD (day budget pays for ${cost.dayBudgetHours.toFixed(1)} h); with one release ${(steadyPerDay + cost.perReleaseUsd).toFixed(2)} USD (budget ${cost.budget.perDayUsd} USD); per month ${cost.perMonthUsd.toFixed(2)} USD`,
  );
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
