/**
 * The worst case from a fault's first bad request to the start of the rollback, computed from the alarms actually
 * synthesized. Pure: the constructs pass in what they built.
 *
 * Model, per alarm (period P, M datapoints to alarm):
 *   - the first bad request can land just after a period started and be diluted below the threshold, so the first
 *     fully bad period ends at most 2P later; M breaching periods end at most (M + 1) P after the first bad request;
 *   - the datapoint becomes visible after the metric ingestion delay (EMF is extracted from CloudWatch Logs);
 *   - the alarm is evaluated on its cadence: every 10 s for periods under a minute, every 60 s otherwise;
 *   - the deployment service notices the alarm after its reaction delay.
 * A plane's worst case is its slowest alarm's: a fault that only the slowest alarm sees is caught that late.
 */

export interface AlarmTiming {
  readonly name: string;
  readonly periodSeconds: number;
  readonly datapointsToAlarm: number;
  readonly evaluationPeriods: number;
}

/**
 * Delays the model assumes. Only the evaluation cadence is documented by AWS (CloudWatch); the others are
 * assumptions, overridable, to be replaced by figures a rollback drill measures.
 */
export interface TimingAssumptions {
  /** From a request to its EMF datapoint being visible to alarms. @default 10 */
  readonly metricIngestionSeconds?: number;
  /** From an alarm going to ALARM to CodeDeploy starting the rollback. @default 30 */
  readonly codeDeployReactionSeconds?: number;
  /** From an alarm going to ALARM to AppConfig starting the rollback. @default 30 */
  readonly appConfigReactionSeconds?: number;
}

export const DEFAULT_TIMING: Required<TimingAssumptions> = {
  metricIngestionSeconds: 10,
  codeDeployReactionSeconds: 30,
  appConfigReactionSeconds: 30,
};

export interface AlarmWorstCase {
  readonly name: string;
  readonly periodSeconds: number;
  readonly datapointsToAlarm: number;
  /** Seconds, by stage. */
  readonly datapoints: number;
  readonly ingestion: number;
  readonly evaluation: number;
  readonly reaction: number;
  readonly total: number;
}

export interface PlaneWorstCase {
  readonly plane: 'code' | 'config';
  /** Seconds from the first bad request to rollback start, for the slowest alarm. */
  readonly seconds: number;
  readonly slowestAlarm: string;
  readonly alarms: readonly AlarmWorstCase[];
}

/** CloudWatch evaluates high-resolution alarms (period < 60 s) every 10 s, others every minute. */
export function evaluationCadenceSeconds(periodSeconds: number): number {
  return periodSeconds < 60 ? 10 : 60;
}

export function alarmWorstCase(a: AlarmTiming, reactionSeconds: number, ingestionSeconds: number): AlarmWorstCase {
  if (a.datapointsToAlarm < 1 || a.datapointsToAlarm > a.evaluationPeriods) {
    throw new Error(`alarm ${a.name}: datapointsToAlarm ${a.datapointsToAlarm} must be between 1 and evaluationPeriods ${a.evaluationPeriods}`);
  }
  if (![10, 30].includes(a.periodSeconds) && a.periodSeconds % 60 !== 0) {
    throw new Error(`alarm ${a.name}: period ${a.periodSeconds} s is not one CloudWatch alarms accept (10, 30 or a multiple of 60)`);
  }
  const datapoints = (a.datapointsToAlarm + 1) * a.periodSeconds;
  const evaluation = evaluationCadenceSeconds(a.periodSeconds);
  return {
    name: a.name,
    periodSeconds: a.periodSeconds,
    datapointsToAlarm: a.datapointsToAlarm,
    datapoints,
    ingestion: ingestionSeconds,
    evaluation,
    reaction: reactionSeconds,
    total: datapoints + ingestionSeconds + evaluation + reactionSeconds,
  };
}

export function planeWorstCase(plane: 'code' | 'config', alarms: readonly AlarmTiming[], assumptions: TimingAssumptions = {}): PlaneWorstCase {
  if (alarms.length === 0) throw new Error(`the ${plane} plane has no alarms: nothing would roll it back`);
  const t = { ...DEFAULT_TIMING, ...assumptions };
  const reaction = plane === 'code' ? t.codeDeployReactionSeconds : t.appConfigReactionSeconds;
  const each = alarms.map((a) => alarmWorstCase(a, reaction, t.metricIngestionSeconds));
  const slowest = each.reduce((a, b) => (b.total > a.total ? b : a));
  return { plane, seconds: slowest.total, slowestAlarm: slowest.name, alarms: each };
}

/** The periods CloudWatch alarms accept, shortest first, up to `maxSeconds`: 10, 30, then whole minutes. */
export function alarmPeriods(maxSeconds: number): number[] {
  const out = [10, 30].filter((p) => p <= maxSeconds);
  for (let p = 60; p <= maxSeconds; p += 60) out.push(p);
  return out;
}

/** `1 min 20 s`. */
export function formatSeconds(s: number): string {
  const m = Math.floor(s / 60);
  const r = Math.round(s - m * 60);
  return m === 0 ? `${r} s` : r === 0 ? `${m} min` : `${m} min ${r} s`;
}
