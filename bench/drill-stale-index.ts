/**
 * The drill's stale-index scenario (issue 17 G): a retrieval index update serving stale passages for 30 % of the
 * questions; answers fluent, error-free, cited and wrong. At the example's stated traffic (5 requests/s):
 * 1. today's alarms, from the synthesized example template through the drill (lib/drill: the real runtime's EMF, the
 *    alarms as synthesized, CloudWatch's evaluation), on both planes: how often they roll it back, beside a good
 *    release (they should not catch it: nothing they measure changes);
 * 2. the canary judge with the evaluation metrics (lib/drill/stale-index.ts through the judge's real wiring and engine):
 *    by the paired comparison, by the unpaired scores, and by both, on the example's shipped schedules (its assigned
 *    config canary since h12-assigned) and the planner's budget-capped config schedule, at the example's scoring and
 *    pairing rates (and, as a control, pairs only where scoring draws). The alarm rows read the template's AppConfig
 *    rollout: the drill model does not read the share schedule yet.
 *
 *   npx tsx bench/drill-stale-index.ts [runs=200] [alarmRuns=1000]
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ExampleStack } from '../bin/example-stack';
import { binomialUpper } from '../lambda/judge/stats';
import type { EvaluationConfig } from '../lambda/shared/evaluation';
import { captureOutcomes, type DrillScenario, monteCarlo, readDrillModel, type SimulationSetup } from '../lib/drill';
import { DEFAULT_STALE_INDEX, drillStaleIndex, stepsOfModel } from '../lib/drill/stale-index';

const runs = Number(process.argv[2] ?? 200);
const alarmRuns = Number(process.argv[3] ?? 1000);
const say = (line: string) => process.stdout.write(`${line}\n`);
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

async function main() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ExampleStack(app, 'BenchStaleIndex');
  const model = readDrillModel(Template.fromStack(stack).toJSON());
  const evaluation = stack.release.config.config.evaluation as EvaluationConfig;
  const rate = 5;
  say(`# Drill: stale-index — ${new Date().toISOString()} — ${rate} requests/s, example sampling rate ${pct(evaluation.samplingRate)}`);
  say(
    `Effect (assumed): ${pct(DEFAULT_STALE_INDEX.staleShare)} of questions answered from stale passages; relevance −${DEFAULT_STALE_INDEX.relevanceDrop} point on those (1..5), groundedness unchanged; the evaluator prefers the stable answer of an affected pair ${pct(DEFAULT_STALE_INDEX.pairedLoss)} of the time (unaffected pairs 50/50); unbiased evaluator; α = 0.01.`,
  );
  say('');
  say(`## Today's alarms (${alarmRuns} runs per row, the example template)`);
  say('| plane | schedule | stale index rolled back before full | rolled back at all | good release rolled back |');
  say('|---|---|---|---|---|');
  for (const plane of ['code', 'config'] as const) {
    const scenario: DrillScenario = {
      name: 'stale-index',
      plane,
      ratePerSecond: rate,
      fault: { kind: 'stale-index', size: DEFAULT_STALE_INDEX.staleShare, startSeconds: 0 },
      baseline: { errorRate: 0.005 },
    };
    const setup: SimulationSetup = { model, scenario };
    const captured = await captureOutcomes(setup, 1000);
    const bad = monteCarlo(setup, captured, alarmRuns);
    const good = monteCarlo(
      { ...setup, scenario: { ...scenario, fault: { kind: 'none', size: 0, startSeconds: 0 } } },
      { ...captured, faultyNew: captured.healthyNew },
      alarmRuns,
    );
    const describe = (plane === 'code' ? model.codeDeploy : model.appConfig)?.describe ?? '';
    say(`| ${plane} | ${describe} | ${pct(bad.caughtBeforeFull / bad.runs)} | ${pct(bad.caught / bad.runs)} | ${pct(good.caught / good.runs)} |`);
  }
  say('');
  say(`## The canary judge with the evaluation metrics (${runs} runs per row)`);
  say(
    '| plane | schedule | scoring | pairing | by | caught before full (CP 95 % lower) | caught while judged | median minute | full at minute | canary samples/run | s |',
  );
  say('|---|---|---|---|---|---|---|---|---|---|---|');
  // The example as shipped (h12-assigned): config releases are assigned canaries on its share schedule (promotion
  // ends the judging: nothing after it), code releases its linear shift; both at its scoring AND pairing rates.
  const share = stack.release.configShare?.schedule;
  const shipped = share
    ? { steps: share.map((x) => ({ share: x.percent / 100, minutes: x.holdSeconds / 60 })), afterMinutes: 0 }
    : stepsOfModel(model, 'config');
  const shippedName = share
    ? `example (assigned): ${share.map((x) => `${x.percent} % ${x.holdSeconds / 60} min`).join(', ')}`
    : `example: ${model.appConfig?.describe}`;
  const exampleCode = stepsOfModel(model, 'code');
  const pairing = evaluation.paired && typeof evaluation.paired === 'object' ? evaluation.paired.samplingRate : undefined;
  // The config canary's own rate (paired.configSamplingRate, h12-pairplane; default the code plane's).
  const configPairing = evaluation.paired && typeof evaluation.paired === 'object' ? (evaluation.paired.configSamplingRate ?? pairing) : undefined;
  const plannedSteps = stack.release.facts.canaryPlan?.plan.config.steps ?? [];
  const planned = { steps: plannedSteps, afterMinutes: 0 };
  const plannedName = `planned (assigned, the budget's cap): ${plannedSteps.map((x) => `${Math.round(x.share * 100)} % ${x.minutes} min`).join(', ')}`;
  const rows: readonly (readonly [
    'code' | 'config',
    string,
    { steps: readonly { share: number; minutes: number }[]; afterMinutes: number },
    number,
    number | undefined,
  ])[] = [
    ['config', shippedName, shipped, evaluation.samplingRate, configPairing],
    ['code', `example: ${model.codeDeploy?.describe}`, exampleCode, evaluation.samplingRate, pairing],
    ['config', plannedName, planned, evaluation.samplingRate, configPairing],
    ['config', shippedName, shipped, evaluation.samplingRate, undefined],
  ];
  for (const [plane, name, sched, samplingRate, pairSamplingRate] of rows) {
    const t = Date.now();
    const out = await drillStaleIndex({
      ratePerSecond: rate,
      samplingRate,
      ...(pairSamplingRate !== undefined ? { pairSamplingRate } : {}),
      steps: sched.steps,
      afterMinutes: sched.afterMinutes,
      plane,
      runs,
    });
    const s = ((Date.now() - t) / 1000 / out.length).toFixed(0);
    for (const d of out)
      say(
        `| ${plane} | ${name} | ${pct(samplingRate)} | ${pct(pairSamplingRate ?? samplingRate)} | ${d.by} | ${pct(d.beforeFull)} (${pct(d.beforeFull === 0 ? 0 : 1 - binomialUpper(runs - Math.round(d.beforeFull * runs), runs, 0.05))}) | ${pct(d.caught)} | ${d.medianMinutes ?? '—'} | ${d.fullAtMinute.toFixed(1)} | ${d.canarySamples.toFixed(0)} | ${s} |`,
      );
  }
}

void main();
