/**
 * Drill benchmark (issue: operator CLI, drill). Target: 1,000 Monte Carlo runs of one scenario in <= 10 s.
 *
 *   npx tsx bench/drill.ts [runs] [rate]     (DRILL_ALARM_LAYOUT=perMetric: one alarm per guardrail;
 *                                              DRILL_CODE_SHIFT=canary:10:5 or linear:5:3: the example's code schedule,
 *                                              TrafficShift.canary / .linear(percent, minutes);
 *                                              DRILL_CODE_WINDOW=3:3 / DRILL_CONFIG_WINDOW=30:3:3: a plane's M:N
 *                                              (config: period:M:N); DRILL_ONLY=config: the config plane only)
 *
 * Synthesizes the example stack (bundling skipped), reads its template, captures the runtime's outcomes for the
 * default scenario (20 % of the new version's requests fail), then times the Monte Carlo, a good release's false
 * rollbacks, the SAM reference, and one run with every request through the runtime. Prints figures and ratios.
 */
import * as os from 'node:os';
import { App, Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ExampleStack, type ExampleStackProps } from '../bin/example-stack';
import { TrafficShift } from '../lib';
import { DEFAULT_SHARE_SCHEDULE, formatSchedule } from '../lambda/share-controller/controller';
import {
  captureOutcomes,
  compareRollbackPaths,
  DEFAULT_PROPAGATION,
  type DrillScenario,
  monteCarlo,
  type PathTiming,
  readDrillModel,
  referenceTemplate,
  runThroughRuntime,
  type SimulationSetup,
} from '../lib/drill';

const runs = Number(process.argv[2] ?? 1000);
const rate = Number(process.argv[3] ?? 5);
const say = (line: string) => process.stdout.write(`${line}\n`);
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

async function main() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  // DRILL_ALARM_LAYOUT=perMetric drills the example with one alarm per guardrail (alarms.layout) for comparison.
  const layout = process.env.DRILL_ALARM_LAYOUT as 'combined' | 'perMetric' | undefined;
  const codeWindow = process.env.DRILL_CODE_WINDOW?.split(':').map(Number);
  const configWindow = process.env.DRILL_CONFIG_WINDOW?.split(':').map(Number);
  const props: ExampleStackProps = {
    ...(layout ? { alarmLayout: layout } : {}),
    ...codeShift(process.env.DRILL_CODE_SHIFT),
    ...(codeWindow ? { codeAlarmWindow: { datapointsToAlarm: codeWindow[0], evaluationPeriods: codeWindow[1] } } : {}),
    ...(configWindow
      ? { configAlarmWindow: { period: Duration.seconds(configWindow[0]), datapointsToAlarm: configWindow[1], evaluationPeriods: configWindow[2] } }
      : {}),
  };
  const stack = new ExampleStack(app, 'BenchDrill', props);
  say(
    `code schedule: ${stack.release.trafficShift.describe()}; alarm windows: ${(['code', 'config'] as const).map((p) => `${p} ${stack.release.alarms.windows[p].period.toSeconds()} s ${stack.release.alarms.windows[p].datapointsToAlarm} of ${stack.release.alarms.windows[p].evaluationPeriods}`).join(', ')}; worst case code ${stack.release.worstCase.code.seconds} s, config ${stack.release.worstCase.config.seconds} s`,
  );
  const model = readDrillModel(Template.fromStack(stack).toJSON());
  const scenario: DrillScenario = {
    name: 'default',
    plane: 'code',
    ratePerSecond: rate,
    fault: { kind: 'error-spike', size: 0.2, startSeconds: 0 },
    baseline: { errorRate: 0.005 },
  };
  const setup: SimulationSetup = { model, scenario };

  let t = Date.now();
  if (process.env.DRILL_ONLY !== 'config') await codePlane();
  async function codePlane() {
    const captured = await captureOutcomes(setup, 1000);
    const captureMs = Date.now() - t;

    const mc = monteCarlo(setup, captured, runs);
    const good = monteCarlo(
      { ...setup, scenario: { ...scenario, fault: { kind: 'none', size: 0, startSeconds: 0 } } },
      { ...captured, faultyNew: captured.healthyNew },
      runs,
    );
    const refSetup: SimulationSetup = { model: readDrillModel(referenceTemplate(model)), scenario };
    const ref = monteCarlo(refSetup, captured, runs);
    const refGood = monteCarlo(
      { ...refSetup, scenario: { ...scenario, fault: { kind: 'none', size: 0, startSeconds: 0 } } },
      { ...captured, faultyNew: captured.healthyNew },
      runs,
    );

    t = Date.now();
    const single = await runThroughRuntime(setup);
    const singleMs = Date.now() - t;

    const requestsPerRun = single.totalServed;
    say(`template: example stack, ${model.alarms.length} alarms (${model.codeDeploy?.alarms.length} on the CodeDeploy group), ${model.codeDeploy?.describe}`);
    say(`scenario: 20 % errors on the new version from its first request, ${rate} req/s, base error rate 0.5 %; ~${requestsPerRun} requests per run`);
    say(`capture: 3 x 1000 requests through the runtime in ${(captureMs / 1000).toFixed(2)} s`);
    say(
      `Monte Carlo, ${runs} runs: ${(mc.elapsedMs / 1000).toFixed(2)} s (target <= 10 s, ratio ${(mc.elapsedMs / 10000).toFixed(2)}); ${Math.round((runs * requestsPerRun) / (mc.elapsedMs / 1000)).toLocaleString('en')} simulated requests/s`,
    );
    say(
      `  caught before 100 %: ${pct(mc.pCaughtBeforeFull)} [${pct(mc.ci95[0])}–${pct(mc.ci95[1])}]; detect median ${mc.detectMedian} s, p90 ${mc.detectP90} s; rollback start median ${mc.rollbackMedian} s; bad answers mean ${mc.badServedMean.toFixed(1)}, p90 ${mc.badServedP90}`,
    );
    say(`  good release rolled back: ${pct(good.caught / runs)} (${good.caught}/${runs}) in ${(good.elapsedMs / 1000).toFixed(2)} s`);
    say(
      `SAM reference (AWS/Lambda Errors > 0, 60 s x 2): caught before 100 % ${pct(ref.pCaughtBeforeFull)}, detect median ${ref.detectMedian} s; good release rolled back ${pct(refGood.caught / runs)}; ${(ref.elapsedMs / 1000).toFixed(2)} s`,
    );
    const refUseless = refGood.caught / runs >= 0.5;
    say(
      `  ratio detect median ref / ours: ${refUseless ? `n/a (the reference rolls back ${pct(refGood.caught / runs)} of good releases: it is firing before the fault)` : ref.detectMedian !== undefined && mc.detectMedian ? (ref.detectMedian / mc.detectMedian).toFixed(2) : 'n/a'}; false rollbacks ref / ours: ${good.caught ? `${(refGood.caught / good.caught).toFixed(1)}x` : 'n/a'}`,
    );
    say(
      `one run through the runtime (every request): ${(singleMs / 1000).toFixed(2)} s, ${single.totalServed} requests; ALARM at ${single.detectedAt} s, rollback at ${single.rollbackAt} s, ${single.badServed} bad answers`,
    );
    say(mc.elapsedMs <= 10_000 ? 'PASS' : 'FAIL: over 10 s');
  }
  // Config plane: time to rollback, today's AppConfig rollback against the assigned canary's share-0 rollback.
  const configScenario: DrillScenario = { ...scenario, name: 'config-default', plane: 'config' };
  const configSetup: SimulationSetup = { model, scenario: configScenario };
  t = Date.now();
  const configCaptured = await captureOutcomes(configSetup, 1000);
  const cmp = compareRollbackPaths(configSetup, configCaptured, runs, DEFAULT_PROPAGATION, {}, DEFAULT_SHARE_SCHEDULE);
  const cmpMs = Date.now() - t;
  const fmt = (p: PathTiming) =>
    `${p.rolledBack}/${runs} rolled back; first bad request → every environment on the previous config: median ${p.median?.toFixed(1)} s, p90 ${p.p90?.toFixed(1)} s, max ${p.max?.toFixed(1)} s; after detection: median ${p.afterDetectionMedian?.toFixed(1)} s`;
  say(
    `config rollback, ${runs} runs (${(cmpMs / 1000).toFixed(1)} s), ${cmp.propagation.environments} environments, extension poll ${cmp.propagation.pollIntervalSeconds} s, TTL ${cmp.propagation.ttlSeconds} s:`,
  );
  say(`  AppConfig rollback (monitor, reaction ${cmp.reaction.appConfigReactionSeconds} s assumed): ${fmt(cmp.appconfig)}`);
  say(`  AppConfig's rollout: ${model.appConfig?.describe}`);
  say(`  share-0 rollback, same traffic (EventBridge → controller → instant deployment, ${cmp.reaction.shareReactionSeconds} s assumed): ${fmt(cmp.share)}`);
  if (cmp.assigned) say(`  share-0 rollback, assigned schedule ${formatSchedule(DEFAULT_SHARE_SCHEDULE)} (exact shares): ${fmt(cmp.assigned)}`);
  if (cmp.appconfig.median !== undefined && cmp.share.median !== undefined)
    say(
      `  ratio AppConfig / share-0 (median, from the first bad request): same traffic ${(cmp.appconfig.median / cmp.share.median).toFixed(2)}${cmp.assigned?.median ? `, assigned schedule ${(cmp.appconfig.median / cmp.assigned.median).toFixed(2)}` : ''}`,
    );
  say(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model.trim()}, Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)}`);
}

/** `canary:10:5` / `linear:5:3` -> the example's trafficShift prop (unset: the example's own). */
function codeShift(spec: string | undefined): Pick<ExampleStackProps, 'trafficShift'> {
  if (!spec) return {};
  const [kind, percent, minutes] = spec.split(':');
  if ((kind !== 'canary' && kind !== 'linear') || !(Number(percent) > 0) || !(Number(minutes) > 0))
    throw new Error(`DRILL_CODE_SHIFT must be canary:<percent>:<minutes> or linear:<percent>:<minutes>, got ${spec}`);
  return { trafficShift: TrafficShift[kind](Number(percent), Duration.minutes(Number(minutes))) };
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
  process.exit(1);
});
