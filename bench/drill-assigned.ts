/**
 * Time to config rollback at 5 req/s: the assigned config canary end to end (the real runtime assignment, canary judge
 * and share controller on one virtual clock, lib/drill/assigned-release.ts) against AppConfig's rollback (the drill's
 * simulation of the synthesized alarms, lib/drill/share-rollback.ts), on the example stack.
 *
 *   npx tsx bench/drill-assigned.ts [runs] [rate] [share TTL s, default 0]
 *
 * Prints the figures and the assumptions they rest on. The judge's update period is the example's alarm period.
 */
import * as os from 'node:os';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ExampleStack } from '../bin/example-stack';
import { DEFAULT_SHARE_SCHEDULE, formatSchedule } from '../lambda/share-controller/controller';
import {
  captureOutcomes,
  compareRollbackPaths,
  DEFAULT_PROPAGATION,
  type DrillScenario,
  monteCarlo,
  type PathTiming,
  readDrillModel,
  type SimulationSetup,
} from '../lib/drill';
import { type AssignedDrillOptions, drillAssignedReleases } from '../lib/drill/assigned-release';

const runs = Number(process.argv[2] ?? 200);
const rate = Number(process.argv[3] ?? 5);
/** The runtime's own TTL on the share document, seconds (0: read through while a release runs; 5: before h10-share). */
const shareTtl = Number(process.argv[4] ?? 0);
const say = (line: string) => process.stdout.write(`${line}\n`);
const s1 = (x: number | undefined) => (x === undefined ? 'n/a' : `${x.toFixed(1)} s`);

async function main() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ExampleStack(app, 'BenchDrillAssigned');
  const periodSeconds = stack.release.alarms.period.toSeconds();
  const model = readDrillModel(Template.fromStack(stack).toJSON());
  // The schedule the example ships (its assigned config canary, h12-assigned); the library's default when the example
  // is built without one.
  const schedule = stack.release.configShare?.schedule ?? DEFAULT_SHARE_SCHEDULE;

  // AppConfig's rollback, as bench/drill.ts measures it (same scenario: 20 % errors on the new config).
  const scenario: DrillScenario = {
    name: 'config',
    plane: 'config',
    ratePerSecond: rate,
    fault: { kind: 'error-spike', size: 0.2, startSeconds: 0 },
    baseline: { errorRate: 0.005 },
  };
  const setup: SimulationSetup = { model, scenario };
  let t = Date.now();
  const captured = await captureOutcomes(setup, 1000);
  const cmp = compareRollbackPaths(setup, captured, runs, DEFAULT_PROPAGATION, { shareReadTtlSeconds: shareTtl }, schedule);
  const cmpMs = Date.now() - t;
  // Bad answers AppConfig's path serves until its rollback starts (the drill's Monte Carlo of the same scenario).
  const mc = monteCarlo(setup, captured, runs);
  const fmt = (p: PathTiming) => `${p.rolledBack}/${runs} rolled back; median ${s1(p.median)}, p90 ${s1(p.p90)}, max ${s1(p.max)}`;

  // The assigned path with the judge, a bad and a good candidate, on production-like traffic.
  const options: AssignedDrillOptions = {
    ratePerSecond: rate,
    schedule,
    baseErrorRate: 0.005,
    candidateErrorRate: 0.2,
    periodSeconds,
    shareReadTtlSeconds: shareTtl,
  };
  t = Date.now();
  const bad = await drillAssignedReleases(options, runs);
  const badMs = Date.now() - t;
  t = Date.now();
  const good = await drillAssignedReleases({ ...options, candidateErrorRate: options.baseErrorRate }, runs, 100_001);
  const goodMs = Date.now() - t;

  say(`config rollback at ${rate} req/s, ${runs} seeded runs each; 20 % errors on the new config vs 0.5 % base`);
  say(
    `propagation: ${DEFAULT_PROPAGATION.environments} environments, extension poll ${DEFAULT_PROPAGATION.pollIntervalSeconds} s (random phase), runtime TTL ${DEFAULT_PROPAGATION.ttlSeconds} s (release config); share document TTL ${shareTtl} s`,
  );
  say(
    `AppConfig rollback (${model.appConfig?.describe}; threshold alarms as synthesized; AppConfig reaction ${cmp.reaction.appConfigReactionSeconds} s assumed):`,
  );
  say(`  first bad request -> every environment on the previous config: ${fmt(cmp.appconfig)}   [${(cmpMs / 1000).toFixed(1)} s wall, both paths]`);
  say(`  bad answers served until the rollback starts (mean): ${mc.badServedMean.toFixed(1)}, p90 ${mc.badServedP90}`);
  say(
    `share 0 on the threshold alarms, assigned schedule ${formatSchedule(schedule)} (EventBridge + controller ${cmp.reaction.shareReactionSeconds} s assumed):`,
  );
  if (cmp.assigned) say(`  first bad request -> every environment on the previous config: ${fmt(cmp.assigned)}`);
  say(
    `assigned, end to end with the canary judge (period ${periodSeconds} s, α 0.01; verdict alarm = period end + 10 s ingestion, then EventBridge + controller 5 s assumed; both minute schedules at random phases):`,
  );
  say(
    `  bad candidate: ${bad.rolledBack}/${runs} rolled back, ${bad.promoted} promoted; first bad request -> last request on the candidate: median ${s1(bad.timeToRollback.median)}, p90 ${s1(bad.timeToRollback.p90)}, max ${s1(bad.timeToRollback.max)}`,
  );
  say(
    `    judge's regression after the first bad request: median ${s1(bad.verdictAfterFirstBad.median)}, p90 ${s1(bad.verdictAfterFirstBad.p90)}; share-0 deployment -> last candidate request: median ${s1(bad.shareZeroToLastCandidate.median)}, max ${s1(bad.shareZeroToLastCandidate.max)}; candidate errors served over the run: mean ${bad.candidateErrorsMean?.toFixed(1)}, median ${bad.candidateErrorsMedian}   [${(badMs / 1000).toFixed(1)} s wall]`,
  );
  say(
    `  good candidate (clustered conversations, a shared x4 disturbance for 90 s, rate drifting 0.7x -> 1.3x): ${good.rolledBack}/${runs} rolled back, ${good.promoted} promoted   [${(goodMs / 1000).toFixed(1)} s wall]`,
  );
  const reasons = new Map<string, number>();
  for (const r of bad.results) reasons.set(r.reason ?? r.outcome, (reasons.get(r.reason ?? r.outcome) ?? 0) + 1);
  say(`  rollback reasons (bad): ${[...reasons].map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  if (cmp.appconfig.median !== undefined && bad.timeToRollback.median !== undefined)
    say(`  ratio AppConfig / assigned with the judge (median): ${(cmp.appconfig.median / bad.timeToRollback.median).toFixed(2)}`);
  say(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model.trim()}, Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)}`);
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
  process.exit(1);
});
