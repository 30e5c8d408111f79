/**
 * An assigned config canary end to end, on one virtual clock (issue 16 C): conversations arrive at the service, each
 * execution environment serves them the share document it last read (extension poll with its own phase, then the
 * runtime's TTL), the runtime assigns each conversation by its keyed hash (lambda/runtime/assignment.ts) at the share
 * in force when it started, and logs one line per request as the judge reads it. The real canary judge
 * (lambda/canary-judge, real engine) runs on its minute schedule over those lines and stores its verdict; the real
 * share controller (lambda/share-controller) looks every minute and when the verdict alarm goes to ALARM, and moves
 * the share. Measured: from the first bad request to the last request served on the candidate.
 *
 * Traffic as production has it: conversations of several turns with their own error propensity (clustered failures),
 * a shared disturbance that raises errors on both arms for a while, and a rate that drifts over the run. Modelled
 * (stated as assumptions, not measured): the verdict alarm's evaluation (its period, then metric ingestion), the
 * EventBridge delivery plus one controller invocation, and the phases of the two minute schedules.
 *
 * Pure apart from the seeded random source: no I/O.
 */
import { type AssignedReleasesPort, type JudgePorts, type JudgeSettings, runSchedule } from '../../lambda/canary-judge/canary-judge';
import { ENGINE } from '../../lambda/canary-judge/engine';
import type { QueryRow } from '../../lambda/canary-judge/samples';
import { assignedFromRecord } from '../../lambda/canary-judge/assigned-port';
import { assign } from '../../lambda/runtime/assignment';
import { type ControllerPorts, type ControllerSettings, handle as look, type ShareStep } from '../../lambda/share-controller/controller';
import {
  ASSIGNMENT_KEY,
  type CanaryShareDocument,
  DIMENSION,
  type JudgeRecord,
  judgeKey,
  METRIC,
  type ShareControllerRecord,
} from '../../lambda/shared/contract';
import { DEFAULT_PROPAGATION, type PropagationModel, servedAt } from './share-rollback';
import { rng } from './traffic';

export interface AssignedDrillOptions {
  /** Mean requests per second (the rate drifts linearly from `rateDrift[0]` to `rateDrift[1]` times this). */
  readonly ratePerSecond: number;
  readonly schedule: readonly ShareStep[];
  /** Error rate of a request on the live config (the conversation's propensity scales it). */
  readonly baseErrorRate: number;
  /** Error rate of a request on the candidate. Equal to the base: a good release. */
  readonly candidateErrorRate: number;
  /** Turns per conversation, uniform in [1, maxTurns]; seconds between turns, uniform in [10, 60]. @default 8 */
  readonly maxTurns?: number;
  /** σ of the conversation's log-normal error propensity (mean 1). @default 0.8 */
  readonly propensitySigma?: number;
  /** A shared disturbance: both arms' error rates times `factor` in [from, from + seconds). @default ×4 for 90 s from 150 s */
  readonly disturbance?: { readonly fromSeconds: number; readonly seconds: number; readonly factor: number };
  /** The rate's drift over the run, [start, end] multipliers. @default [0.7, 1.3] */
  readonly rateDrift?: readonly [number, number];
  readonly propagation?: PropagationModel;
  /**
   * The runtime's own TTL on the share document, seconds. The runtime reads it through while a release runs
   * (lambda/runtime/share-reader.ts), so a share change waits for the extension's poll only. @default 0
   */
  readonly shareReadTtlSeconds?: number;
  /** The judge: α and its update period (the release alarms' period). @default α 0.01, 60 s */
  readonly alpha?: number;
  readonly periodSeconds?: number;
  /**
   * Assumptions, seconds. verdictAlarm: from the judge publishing 1 until the verdict alarm is in ALARM (the metric's
   * period ends, then ingestion): the period + 10 s. shareReaction: EventBridge delivery of the alarm state change +
   * one controller invocation + CreateHostedConfigurationVersion + StartDeployment (5 s, as share-rollback.ts).
   */
  readonly metricIngestionSeconds?: number;
  readonly shareReactionSeconds?: number;
  readonly clientLagSeconds?: number;
}

export interface AssignedRunResult {
  /** How the release ended: rolled back (by whom) or promoted, or still ramping at the end of the run. */
  readonly outcome: 'rolled-back' | 'promoted' | 'ramping' | 'promoting';
  readonly reason?: string;
  /** Seconds from the release start. */
  readonly firstBadAt?: number;
  readonly verdictAt?: number;
  readonly shareZeroAt?: number;
  /** The last request served on the candidate. */
  readonly lastCandidateAt?: number;
  /** lastCandidateAt − firstBadAt: the candidate's exposure after its first bad answer. */
  readonly timeToRollback?: number;
  readonly requests: number;
  readonly candidateRequests: number;
  readonly candidateErrors: number;
}

interface Env {
  readonly pollPhase: number;
  readonly ttlPhase: number;
}

interface Request {
  readonly at: number;
  readonly conversation: string;
  readonly startedAt: number;
  readonly propensity: number;
  readonly u: number;
  readonly env: number;
}

const LIVE_LABEL = 'cfg-live';
const CANDIDATE_LABEL = 'cfg-candidate';
const SERVICE = 'drill';
const T0 = Date.parse('2026-12-07T00:00:00.000Z');

function normal(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** The conversations' requests over [0, horizon) seconds, independent of the release (arms are decided at serve time). */
function conversations(o: AssignedDrillOptions, horizon: number, random: () => number, environments: number): Request[] {
  const maxTurns = o.maxTurns ?? 8;
  const sigma = o.propensitySigma ?? 0.8;
  const [d0, d1] = o.rateDrift ?? [0.7, 1.3];
  const meanTurns = (maxTurns + 1) / 2;
  const out: Request[] = [];
  let n = 0;
  // Conversations start as a Poisson process whose rate follows the drift; their turns spread over the next minutes.
  for (let t = -600; t < horizon; ) {
    const rate = (o.ratePerSecond / meanTurns) * (d0 + (d1 - d0) * Math.min(1, Math.max(0, t / horizon)));
    t += -Math.log(Math.max(random(), 1e-12)) / rate;
    const id = `conv-${++n}`;
    const turns = 1 + Math.floor(random() * maxTurns);
    const propensity = Math.exp(sigma * normal(random) - (sigma * sigma) / 2);
    let at = t;
    for (let k = 0; k < turns; k++) {
      if (at >= 0 && at < horizon) out.push({ at, conversation: id, startedAt: t, propensity, u: random(), env: Math.floor(random() * environments) });
      at += 10 + random() * 50;
    }
  }
  return out.sort((a, b) => a.at - b.at);
}

/**
 * One assigned release through the runtime's assignment, the judge and the controller. `seed` fixes everything
 * random: conversations, environments' phases, the schedules' phases.
 */
export async function runAssignedRelease(o: AssignedDrillOptions, seed: number): Promise<AssignedRunResult> {
  const random = rng(seed);
  const propagation = o.propagation ?? DEFAULT_PROPAGATION;
  const periodS = o.periodSeconds ?? 60;
  const ingestion = o.metricIngestionSeconds ?? 10;
  const reactionS = o.shareReactionSeconds ?? 5;
  // The share document: the extension's poll, then the runtime's share TTL (0: read through while a release runs).
  const shareRead: PropagationModel = { ...propagation, ttlSeconds: o.shareReadTtlSeconds ?? 0 };
  // Promotion waits for the live environment's clients: they keep the release config for the runtime's config TTL.
  const lag = o.clientLagSeconds ?? propagation.pollIntervalSeconds + propagation.ttlSeconds;
  const disturbance = o.disturbance ?? { fromSeconds: 150, seconds: 90, factor: 4 };
  const holds = o.schedule.reduce((s, x) => s + x.holdSeconds, 0);
  const horizon = holds + 6 * 60;
  const envs: Env[] = Array.from({ length: propagation.environments }, () => ({
    pollPhase: random() * propagation.pollIntervalSeconds,
    ttlPhase: random() * propagation.ttlSeconds,
  }));
  const requests = conversations(o, horizon, random, envs.length);
  const judgePhase = random() * 60;
  const controllerPhase = random() * 60;

  // Seconds on the clock are release seconds; the ports see epoch ms.
  let t = 0;
  const ms = (s: number) => T0 + s * 1000;
  const deployments: { at: number; value: CanaryShareDocument }[] = [{ at: -3600, value: { schemaVersion: 1, releaseKey: '', share: 0 } }];
  let record: ShareControllerRecord | undefined;
  const judgeRecords = new Map<string, JudgeRecord>();
  let verdictAlarmAt: number | undefined;
  let verdictAt: number | undefined;
  let shareZeroAt: number | undefined;

  // The requests served so far, each with its arm and outcome (materialized in time order, as the logs fill).
  const lines: { at: number; arm: 'live' | 'candidate'; error: boolean; unit: string; share: number }[] = [];
  let next = 0;
  const serveUntil = (s: number) => {
    for (; next < requests.length && requests[next].at < s; next++) {
      const r = requests[next];
      const doc = servedAt(deployments, r.at, envs[r.env], shareRead) ?? deployments[0].value;
      const a = assign(doc, { id: r.conversation, kind: 'conversation' }, ms(r.startedAt));
      const disturbed = r.at >= disturbance.fromSeconds && r.at < disturbance.fromSeconds + disturbance.seconds ? disturbance.factor : 1;
      const rate = (a.arm === 'candidate' ? o.candidateErrorRate : o.baseErrorRate) * r.propensity * disturbed;
      lines.push({ at: r.at, arm: a.arm, error: r.u < Math.min(1, rate), unit: a.unit, share: a.share });
    }
  };
  const rowOf = (l: (typeof lines)[number]): QueryRow => [
    { field: '@timestamp', value: new Date(ms(l.at)).toISOString().replace('T', ' ').replace('Z', '') },
    { field: DIMENSION.VERSION, value: '7' },
    { field: 'config', value: l.arm === 'candidate' ? CANDIDATE_LABEL : LIVE_LABEL },
    ...(l.error ? [{ field: METRIC.ERRORS, value: '1' }] : []),
    { field: METRIC.LATENCY, value: '800' },
    ...(l.unit ? [{ field: `${ASSIGNMENT_KEY}Unit`, value: l.unit }] : []),
    { field: `${ASSIGNMENT_KEY}UnitKind`, value: 'conversation' },
    { field: `${ASSIGNMENT_KEY}Share`, value: String(l.share) },
  ];

  const settings: ControllerSettings = { service: SERVICE, schedule: o.schedule, alarmNames: ['verdict'], clientLagSeconds: lag };
  const controller: ControllerPorts = {
    share: {
      async deploy(doc) {
        deployments.push({ at: t, value: doc });
        if (doc.share === 0 && shareZeroAt === undefined && record?.phase === 'ramping') shareZeroAt = t;
      },
    },
    live: {
      async deploy() {
        return 1;
      },
      async state() {
        return 'COMPLETE';
      },
    },
    alarms: async (names) => new Map(names.map((n) => [n, verdictAlarmAt !== undefined && verdictAlarmAt <= t ? 'ALARM' : 'OK'] as const)),
    verdict: async (key) => judgeRecords.get(judgeKey(SERVICE, key))?.verdict,
    load: async () => record,
    save: async (r) => {
      record = r;
    },
    now: () => ms(t),
    log: () => undefined,
  };

  // Timed events besides the judge's run: the controller's minute looks and the verdict alarm's delivery.
  const events: { at: number; run: () => Promise<unknown> }[] = [];
  for (let m = 0; m * 60 + controllerPhase < horizon; m++)
    events.push({ at: m * 60 + controllerPhase, run: () => look({ kind: 'tick' }, controller, settings) });
  const runEventsUntil = async (s: number) => {
    for (;;) {
      events.sort((a, b) => a.at - b.at);
      if (events.length === 0 || events[0].at > s) break;
      const e = events.shift()!;
      t = Math.max(t, e.at);
      serveUntil(t);
      await e.run();
    }
    t = Math.max(t, s);
  };

  const assigned: AssignedReleasesPort = { current: () => assignedFromRecord(record, async () => CANDIDATE_LABEL) };
  const judge: JudgePorts = {
    logs: {
      async query(_q, startSec, endSec) {
        serveUntil(Math.min(t, endSec + 1 - T0 / 1000));
        const from = startSec - T0 / 1000;
        const to = endSec + 1 - T0 / 1000;
        return lines.filter((l) => l.at >= from && l.at < to).map(rowOf);
      },
    },
    state: {
      load: async (key) => judgeRecords.get(key),
      save: async (key, r) => {
        judgeRecords.set(key, r);
        if (r.verdict === 'regression' && verdictAt === undefined) verdictAt = t;
      },
    },
    deployments: {
      inProgress: async () => [],
      describe: async () => Promise.reject(new Error('no code deployment in this drill')),
      answerHook: async () => undefined,
    },
    configVersions: { label: async () => CANDIDATE_LABEL },
    configDeployments: { inProgress: async () => [] },
    assigned,
    verdict: {
      async publish(_plane, value) {
        // The verdict alarm (1 of 1 period at >= 1): ALARM once the period holding this datapoint ends and is ingested;
        // the composite's state change reaches the controller through EventBridge.
        if (value === 1 && verdictAlarmAt === undefined) {
          verdictAlarmAt = Math.ceil((t + 1e-9) / periodS) * periodS + ingestion;
          events.push({ at: verdictAlarmAt + reactionS, run: () => look({ kind: 'tick', reason: 'CloudWatch Alarm State Change' }, controller, settings) });
        }
      },
    },
    clock: {
      now: () => ms(t),
      sleep: async (d) => runEventsUntil(t + d / 1000),
    },
    engine: ENGINE,
    log: () => undefined,
  };
  const js: JudgeSettings = { service: SERVICE, alpha: o.alpha ?? 0.01, periodMs: periodS * 1000, afterTrafficBoundMs: 600_000, configUnit: 'cluster' };

  // The release starts at 0 (the deployer's start request); the judge runs each minute for 50 s.
  await look({ kind: 'ai-release.share-start', candidateVersion: '2', candidateLabel: CANDIDATE_LABEL, candidateContentHash: 'drill' }, controller, settings);
  for (let m = 0; m * 60 + judgePhase < horizon; m++) {
    await runEventsUntil(m * 60 + judgePhase);
    if (!record || (record.phase !== 'ramping' && record.phase !== 'promoting')) continue;
    await runSchedule(judge, js, ms(t + 50));
  }
  await runEventsUntil(horizon);
  serveUntil(horizon);

  const bad = o.candidateErrorRate > o.baseErrorRate;
  const candidate = lines.filter((l) => l.arm === 'candidate');
  const firstBadAt = bad ? candidate.find((l) => l.error)?.at : undefined;
  const lastCandidateAt = candidate.length > 0 ? candidate[candidate.length - 1].at : undefined;
  const ended = record?.phase ?? 'ramping';
  return {
    outcome: ended,
    ...(record?.reason ? { reason: record.reason } : {}),
    ...(firstBadAt !== undefined ? { firstBadAt } : {}),
    ...(verdictAt !== undefined ? { verdictAt } : {}),
    ...(shareZeroAt !== undefined ? { shareZeroAt } : {}),
    ...(lastCandidateAt !== undefined ? { lastCandidateAt } : {}),
    ...(ended === 'rolled-back' && firstBadAt !== undefined && lastCandidateAt !== undefined ? { timeToRollback: lastCandidateAt - firstBadAt } : {}),
    requests: lines.length,
    candidateRequests: candidate.length,
    candidateErrors: candidate.filter((l) => l.error).length,
  };
}

export interface AssignedDrillSummary {
  readonly runs: number;
  readonly rolledBack: number;
  readonly promoted: number;
  /** Rollbacks whose reason was the judge's regression (record or verdict alarm) — all of them here. */
  readonly timeToRollback: { readonly median?: number; readonly p90?: number; readonly max?: number };
  readonly verdictAfterFirstBad: { readonly median?: number; readonly p90?: number };
  readonly shareZeroToLastCandidate: { readonly median?: number; readonly max?: number };
  readonly candidateErrorsMedian?: number;
  /** Errors served on the candidate over the whole run, mean (all of them: the candidate's base errors included). */
  readonly candidateErrorsMean?: number;
}

function quantile(xs: number[], p: number): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

/** `runs` seeded releases (seeds 1..runs), summarized. */
export async function drillAssignedReleases(
  o: AssignedDrillOptions,
  runs: number,
  firstSeed = 1,
): Promise<AssignedDrillSummary & { readonly results: AssignedRunResult[] }> {
  const results: AssignedRunResult[] = [];
  for (let i = 0; i < runs; i++) results.push(await runAssignedRelease(o, firstSeed + i));
  const back = results.filter((r) => r.outcome === 'rolled-back');
  const ttr = back.map((r) => r.timeToRollback).filter((x): x is number => x !== undefined);
  const verdict = back.filter((r) => r.verdictAt !== undefined && r.firstBadAt !== undefined).map((r) => (r.verdictAt as number) - (r.firstBadAt as number));
  const prop = back
    .filter((r) => r.shareZeroAt !== undefined && r.lastCandidateAt !== undefined)
    .map((r) => (r.lastCandidateAt as number) - (r.shareZeroAt as number));
  return {
    runs,
    rolledBack: back.length,
    promoted: results.filter((r) => r.outcome === 'promoted').length,
    timeToRollback: { median: quantile(ttr, 0.5), p90: quantile(ttr, 0.9), max: ttr.length ? Math.max(...ttr) : undefined },
    verdictAfterFirstBad: { median: quantile(verdict, 0.5), p90: quantile(verdict, 0.9) },
    shareZeroToLastCandidate: { median: quantile(prop, 0.5), max: prop.length ? Math.max(...prop) : undefined },
    candidateErrorsMedian: quantile(
      back.map((r) => r.candidateErrors),
      0.5,
    ),
    ...(back.length ? { candidateErrorsMean: back.reduce((a, r) => a + r.candidateErrors, 0) / back.length } : {}),
    results,
  };
}
