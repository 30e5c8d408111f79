/**
 * Time to rollback on the config plane, two ways (issue 16 C): today's AppConfig rollback (the live environment's
 * monitor sees the alarm, AppConfig rolls the deployment back, each client reads the previous version at its next
 * poll) against the assigned canary's share-0 rollback (the alarm's state change reaches the share controller through
 * EventBridge, which deploys `share: 0` to the share environment instantly, each client reads it at its next poll).
 *
 * Detection comes from the drill's own simulation of the synthesized alarms (the same traffic for both paths, so the
 * comparison isolates the rollback mechanics). What follows detection is modelled here: the reaction delay of each
 * path and the propagation to every execution environment (extension poll with a random phase, then the runtime's
 * TTL). Pure: a seeded random source, no I/O.
 */
import { DEFAULT_TIMING } from '../rollout/worst-case';
import { type CapturedOutcomes, runResampled, type SimulationSetup } from './simulate';
import { alarmCoverage } from './simulate';
import { rng } from './traffic';

/** How a deployed config reaches the functions. */
export interface PropagationModel {
  /** The AppConfig extension's poll interval (AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS; AiServiceConfig.bind: 15). */
  readonly pollIntervalSeconds: number;
  /** The runtime's config TTL (AI_RELEASE_CONFIG_TTL_SECONDS; bind: 5). */
  readonly ttlSeconds: number;
  /** Warm execution environments serving the service, each polling on its own phase. */
  readonly environments: number;
}

export const DEFAULT_PROPAGATION: PropagationModel = { pollIntervalSeconds: 15, ttlSeconds: 5, environments: 10 };

export interface RollbackReaction {
  /** From a monitor alarm in ALARM to AppConfig starting the rollback. @default DEFAULT_TIMING.appConfigReactionSeconds (30, an assumption) */
  readonly appConfigReactionSeconds?: number;
  /**
   * From a safety-net alarm in ALARM to the share-0 deployment started: EventBridge delivery of the state change,
   * one controller invocation, CreateHostedConfigurationVersion + StartDeployment. @default 5 (an assumption: no AWS
   * figure is published for EventBridge delivery; the minute schedule bounds it at 60 s should the event be late)
   */
  readonly shareReactionSeconds?: number;
  /**
   * The runtime's own TTL on the share document on the share path, seconds. The runtime reads the document through
   * while a release runs (lambda/runtime/share-reader.ts): a share-0 rollback waits for the extension's poll only.
   * AppConfig's path keeps the propagation model's TTL (the release config is cached for it). @default 0
   */
  readonly shareReadTtlSeconds?: number;
}

/**
 * What one execution environment serves at time t, given the deployments made so far: the value deployed as of its
 * extension's last poll (polls at phase + k·interval), as the runtime last read it (every `ttl`, from its own phase).
 * `deployments` ascending by time; undefined before the first.
 */
export function servedAt<T>(
  deployments: readonly { readonly at: number; readonly value: T }[],
  t: number,
  env: { readonly pollPhase: number; readonly ttlPhase: number },
  m: PropagationModel,
): T | undefined {
  // The runtime last refreshed at the latest ttlPhase + j·ttl ≤ t (TTL 0: at t).
  const readAt = m.ttlSeconds > 0 ? t - ((((t - env.ttlPhase) % m.ttlSeconds) + m.ttlSeconds) % m.ttlSeconds) : t;
  // The extension had last polled at the latest pollPhase + k·interval ≤ readAt.
  const polledAt = readAt - ((((readAt - env.pollPhase) % m.pollIntervalSeconds) + m.pollIntervalSeconds) % m.pollIntervalSeconds);
  let v: T | undefined;
  for (const d of deployments) if (d.at <= polledAt) v = d.value;
  return v;
}

/** Seconds from a deployment until the last of `m.environments` serves it (random phases). */
export function propagationSeconds(m: PropagationModel, random: () => number): number {
  let worst = 0;
  for (let i = 0; i < m.environments; i++) {
    // Next poll after the deployment, then the runtime's next refresh after that poll.
    const poll = random() * m.pollIntervalSeconds;
    const ttl = random() * m.ttlSeconds;
    worst = Math.max(worst, poll + ttl);
  }
  return worst;
}

export interface PathTiming {
  /** Runs in which this path rolled back at all. */
  readonly rolledBack: number;
  /** Seconds from the first bad request until every environment serves the previous config (median, p90, max). */
  readonly median?: number;
  readonly p90?: number;
  readonly max?: number;
  /** Seconds from detection (first alarm) to everyone back on the previous config. */
  readonly afterDetectionMedian?: number;
}

export interface RollbackComparison {
  readonly runs: number;
  readonly propagation: PropagationModel;
  readonly reaction: Required<RollbackReaction>;
  readonly appconfig: PathTiming;
  /** Share-0 rollback on the same traffic as AppConfig's rollout: the rollback mechanics alone. */
  readonly share: PathTiming;
  /** Share-0 rollback with the share schedule's own traffic (exact shares), when a schedule was given. */
  readonly assigned?: PathTiming;
}

/** The share schedule as the drill's traffic steps: [second, percent], held to the end (promotion is not drilled). */
export function scheduleSteps(schedule: readonly { readonly percent: number; readonly holdSeconds: number }[]): {
  steps: [number, number][];
  endSeconds: number;
} {
  const steps: [number, number][] = [];
  let at = 0;
  for (const s of schedule) {
    steps.push([at, s.percent]);
    at += s.holdSeconds;
  }
  return { steps, endSeconds: at };
}

function quantile(xs: number[], p: number): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

function summary(total: number[], afterDetection: number[]): PathTiming {
  return {
    rolledBack: total.length,
    median: quantile(total, 0.5),
    p90: quantile(total, 0.9),
    max: total.length ? Math.max(...total) : undefined,
    afterDetectionMedian: quantile(afterDetection, 0.5),
  };
}

/**
 * Both paths over `runs` seeded runs of the config-plane scenario (resampled from the runtime's captured outcomes).
 * AppConfig path: the simulation's own rollback start (monitor in ALARM or INSUFFICIENT_DATA, plus AppConfig's
 * reaction, only while the deployment or its bake runs), then propagation. Share path: the first trigger alarm in
 * ALARM (INSUFFICIENT_DATA does not roll back), the share reaction, then propagation; the controller watches for the
 * whole ramp, so it also acts after AppConfig's deployment window would have closed.
 */
export function compareRollbackPaths(
  setup: SimulationSetup,
  captured: CapturedOutcomes,
  runs: number,
  propagation: PropagationModel = DEFAULT_PROPAGATION,
  reaction: RollbackReaction = {},
  shareSchedule?: readonly { readonly percent: number; readonly holdSeconds: number }[],
): RollbackComparison {
  if (setup.scenario.plane !== 'config') throw new Error('compareRollbackPaths drills the config plane: give a scenario with plane "config"');
  const r: Required<RollbackReaction> = {
    appConfigReactionSeconds: reaction.appConfigReactionSeconds ?? setup.timing?.appConfigReactionSeconds ?? DEFAULT_TIMING.appConfigReactionSeconds,
    shareReactionSeconds: reaction.shareReactionSeconds ?? 5,
    shareReadTtlSeconds: reaction.shareReadTtlSeconds ?? 0,
  };
  const sharePropagation: PropagationModel = { ...propagation, ttlSeconds: r.shareReadTtlSeconds };
  const timing = { ...setup.timing, appConfigReactionSeconds: r.appConfigReactionSeconds };
  const trigger = new Set(alarmCoverage(setup.model, 'config').trigger);
  const app: number[] = [];
  const appAfter: number[] = [];
  const share: number[] = [];
  const shareAfter: number[] = [];
  for (let i = 1; i <= runs; i++) {
    const run = runResampled({ ...setup, timing }, captured, i, false);
    const random = rng(i * 104729);
    const from = run.firstBadAt ?? setup.scenario.fault.startSeconds;
    if (run.rollbackAt !== undefined && run.detectedAt !== undefined) {
      const done = run.rollbackAt + propagationSeconds(propagation, random);
      app.push(done - from);
      appAfter.push(done - run.detectedAt);
    }
    const alarmAt = run.changes.find((c) => c.to === 'ALARM' && trigger.has(c.alarm))?.t;
    if (alarmAt !== undefined) {
      const done = alarmAt + r.shareReactionSeconds + propagationSeconds(sharePropagation, random);
      share.push(done - from);
      shareAfter.push(done - alarmAt);
    }
  }
  let assigned: PathTiming | undefined;
  if (shareSchedule && setup.model.appConfig) {
    // The same alarms on the schedule's exact shares; the controller watches the whole ramp (no deployment window).
    const { steps, endSeconds } = scheduleSteps(shareSchedule);
    const model = { ...setup.model, appConfig: { ...setup.model.appConfig, steps, fullAtSeconds: endSeconds, endSeconds } };
    const total: number[] = [];
    const after: number[] = [];
    for (let i = 1; i <= runs; i++) {
      const run = runResampled({ ...setup, model, timing }, captured, i, false);
      const random = rng(i * 15485863);
      const from = run.firstBadAt ?? setup.scenario.fault.startSeconds;
      const alarmAt = run.changes.find((c) => c.to === 'ALARM' && trigger.has(c.alarm))?.t;
      if (alarmAt === undefined) continue;
      const done = alarmAt + r.shareReactionSeconds + propagationSeconds(sharePropagation, random);
      total.push(done - from);
      after.push(done - alarmAt);
    }
    assigned = summary(total, after);
  }
  return { runs, propagation, reaction: r, appconfig: summary(app, appAfter), share: summary(share, shareAfter), ...(assigned ? { assigned } : {}) };
}
