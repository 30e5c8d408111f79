/**
 * The canary judge's wiring: when to judge, which samples, where the evidence lives, and what each caller is told.
 * The statistics are the engine's (engine-port.ts); every AWS call is behind a port, so this module imports no SDK.
 *
 * Three entry points, one per-release record (judge/<service>/<releaseKey>.json) that accumulates the evidence:
 * - `runSchedule`: a rate(1 minute) rule; exits at once when neither a code deployment of the group nor a config
 *   rollout on the live environment is in progress, otherwise judges every alarm period until the end of its minute,
 *   stores each verdict in the release's record and publishes the verdict metric (a release alarm watches it).
 * - `runAfterTrafficHook`: CodeDeploy's AfterAllowTraffic hook; judges at 100 % until the test is conclusive or the
 *   bound passes, then answers Succeeded or Failed (regression). It always answers, before its own timeout.
 * - `runConfigTick` (tick.ts): AppConfig's AT_DEPLOYMENT_TICK; reads the rollout's stored verdict (one S3 read, no query) and
 *   answers ROLL_BACK on a regression, CONTINUE otherwise, within a strict budget.
 */
import {
  configJudgeReleaseKey,
  type JudgeBaseline,
  type JudgeFailures,
  type JudgeClusters,
  type JudgeRecord,
  type JudgeUnused,
  type JudgeVerdict,
  JUDGE_ENV,
  type JudgeTolerance,
  judgeKey,
  type ReleasePlane,
} from '../shared/contract';
import { isRollbackCreator } from '../shared/deployment-creator';
import type { JudgeBatch, JudgeEngine } from './engine-port';
import { judgesChecks } from './check-lines';
import { evaluationPending, judgedMetrics, judgeEvaluations } from './evaluations';
import { baselineQuery, INGESTION_LAG_MS, observedShare, type QueryRow, type Sides, samplesQuery, type WindowSamples, windowSamples } from './samples';

export interface LogsPort {
  /** Runs one Logs Insights query over [startSec, endSec] (inclusive, epoch seconds) and returns its rows; gives up at `deadline`. */
  query(queryString: string, startSec: number, endSec: number, deadline: number): Promise<readonly QueryRow[]>;
}

export interface StatePort {
  load(key: string): Promise<JudgeRecord | undefined>;
  save(key: string, record: JudgeRecord): Promise<void>;
}

export interface CodeDeploymentInfo {
  readonly id: string;
  /** The version `live` pointed at (stable) and the one it moves to (canary). */
  readonly current: string;
  readonly target: string;
  /** Epoch ms the deployment was created. */
  readonly createdAt?: number;
  /**
   * Epoch ms its AllowTraffic lifecycle event started: the first request the canary served. Before it, the new
   * version only ran the BeforeAllowTraffic hook's replays of known-failing cases (the regression gate), which must
   * never count as canary traffic. Undefined while BeforeAllowTraffic runs.
   */
  readonly trafficStartedAt?: number;
  /** Set when this is CodeDeploy's automatic rollback of another deployment: nothing new to judge. */
  readonly rollbackOf?: string;
  /** GetDeployment's `creator` (`CloudFormationRollback` / `codeDeployRollback` for rollbacks: never judged). */
  readonly creator?: string;
  /**
   * Epoch ms its AllowTraffic lifecycle event ended Succeeded: from then on every request of the alias is on the new
   * version (the after-traffic phase). Undefined while the traffic still shifts.
   */
  readonly trafficCompleteAt?: number;
}

/** A deployment that moves traffic back (CodeDeploy's or CloudFormation's rollback): nothing new to judge. */
export function isRollback(d: CodeDeploymentInfo): boolean {
  return d.rollbackOf !== undefined || isRollbackCreator(d.creator);
}

export interface DeploymentsPort {
  /** Ids of the group's deployments in progress. */
  inProgress(): Promise<readonly string[]>;
  describe(deploymentId: string): Promise<CodeDeploymentInfo>;
  answerHook(deploymentId: string, executionId: string, status: 'Succeeded' | 'Failed'): Promise<void>;
}

export interface ConfigVersionsPort {
  /** The version label of a hosted configuration version (the runtime stamps it as `config` on every line). */
  label(profileId: string, version: string): Promise<string>;
}

/** One AppConfig deployment in progress on the live environment (ListDeployments + GetDeployment). */
export interface ConfigDeploymentInfo {
  readonly environmentId: string;
  readonly deploymentNumber: number;
  readonly profileId: string;
  /** The configuration version being rolled out, and its label when GetDeployment reports one. */
  readonly version: string;
  readonly label?: string;
  /** Epoch ms the deployment started. */
  readonly startedAt?: number;
  /** GetDeployment's PercentageComplete: the share of clients told to take the new config. */
  readonly percentageComplete?: number;
  /**
   * Epoch ms from which every client was told to take the new config (the bake's start, BAKE_TIME_STARTED in the
   * deployment's event log): the after-traffic phase. Undefined while the rollout still grows.
   */
  readonly fullAt?: number;
}

export interface ConfigDeploymentsPort {
  /** The live environment's deployments of the release-config profile in state DEPLOYING or BAKING. */
  inProgress(): Promise<readonly ConfigDeploymentInfo[]>;
}

/**
 * An assigned config canary on traffic (the share controller's record says `ramping`, issue 16 C): the runtime assigns
 * conversations to the candidate by share, so the judge compares the candidate's label with the live one. Its phase
 * comes from the release's state: only `ramping` is judged, always as the canary phase (the share never reaches 100 %;
 * promotion is decided by then).
 */
export interface AssignedConfigRelease {
  /** The controller's release key: the judge's record is judge/<service>/<releaseKey>.json, read by the controller. */
  readonly releaseKey: string;
  /** The candidate's config label (the `config` the runtime stamps on the candidate arm's lines). */
  readonly candidateLabel: string;
  /** Epoch ms the first share was deployed: samples from then on, the baseline before. */
  readonly startedAt: number;
}

export interface AssignedReleasesPort {
  /** The release on traffic, or undefined when none is ramping. */
  current(): Promise<AssignedConfigRelease | undefined>;
}

export interface VerdictPort {
  /** The verdict metric: 1 = regression shown, 0 = not (yet). */
  publish(plane: ReleasePlane, value: 0 | 1): Promise<void>;
  /** The cannot-judge metric (JUDGE_METRIC.CANNOT_JUDGE): 1 when an update of the plane's release could not judge. */
  cannotJudge?(plane: ReleasePlane, value: 0 | 1): Promise<void>;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface JudgePorts {
  readonly logs: LogsPort;
  readonly state: StatePort;
  readonly deployments: DeploymentsPort;
  readonly configVersions: ConfigVersionsPort;
  readonly configDeployments: ConfigDeploymentsPort;
  /** The assigned config canary's record, when the service's config canary is assigned. @default none */
  readonly assigned?: AssignedReleasesPort;
  readonly verdict: VerdictPort;
  readonly clock: Clock;
  readonly engine: JudgeEngine;
  /** Logs Insights on the platform evaluator's log group (its evaluation-result lines); absent: none are judged. */
  readonly evaluationLogs?: LogsPort;
  /** One structured log line. */
  readonly log: (message: string, extra?: Record<string, unknown>) => void;
}

/**
 * The judge function's JUDGE_ENV.TOLERANCE (JSON of a JudgeTolerance, set by CanaryJudge); absent or empty: the
 * engine's defaults. Throws, naming the variable, on anything else (the engine checks the ranges).
 */
export function parseTolerance(text: string | undefined): JudgeTolerance | undefined {
  if (text === undefined || text === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`environment variable ${JUDGE_ENV.TOLERANCE} must be JSON like {"latencyMs":0.1,"costUsd":0.1,"quality":0.025}, got "${text}"`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new Error(`environment variable ${JUDGE_ENV.TOLERANCE} must be a JSON object like {"latencyMs":0.1}, got "${text}"`);
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k !== 'latencyMs' && k !== 'costUsd' && k !== 'quality')
      throw new Error(`environment variable ${JUDGE_ENV.TOLERANCE} names "${k}"; use latencyMs, costUsd or quality`);
    if (typeof x !== 'number' || !Number.isFinite(x))
      throw new Error(`environment variable ${JUDGE_ENV.TOLERANCE}: ${k} must be a number, got ${JSON.stringify(x)}`);
    out[k] = x;
  }
  return out;
}

export interface JudgeSettings {
  readonly service: string;
  /** False-rollback bound. */
  readonly alpha: number;
  /**
   * The config plane's randomization unit: `cluster` under per-conversation assignment, `environment` under
   * AppConfig's own rollout (it tells execution environments). @default 'request'
   */
  readonly configUnit?: 'request' | 'cluster' | 'environment';
  /** The value tests' tolerance (JUDGE_ENV.TOLERANCE). @default the engine's (half the planner's minimum regressions) */
  readonly tolerance?: JudgeTolerance;
  /** Time between updates: the release alarms' period. */
  readonly periodMs: number;
  /** How long the AfterAllowTraffic hook keeps judging at 100 %. */
  readonly afterTrafficBoundMs: number;
  /** How much stable traffic before a release the first update reads as the baseline; 0 or absent: none. */
  readonly baselineWindowMs?: number;
  /**
   * The evaluation metrics judged in the family (lambda/judge/scores.ts), read through `evaluationLogs`. Absent, or
   * without that port: none. A release whose record was started without them is judged without them to its end.
   */
  readonly evaluation?: {
    readonly criteria: readonly string[];
    readonly paired: boolean;
    readonly minScores?: number;
    /** The longest a sample window waits for its outstanding results (ms). @default DEFAULT_EVALUATION_MAX_WAIT_MS */
    readonly maxWaitMs?: number;
  };
}

/**
 * The most time the baseline read may take, once per release: it runs in the first update (a schedule minute of
 * 50 s, or the AfterAllowTraffic hook), so the canary's own window and the hook's answer keep most of their time. A
 * read that runs out judges with the part it got (oldest first) and says so in the record.
 */
export const BASELINE_BUDGET_MS = 20_000;

interface Release {
  readonly plane: ReleasePlane;
  readonly releaseKey: string;
  readonly sides: Sides;
  readonly phase: 'canary' | 'after-traffic';
  /** Where the first window starts (epoch ms). */
  readonly startAt: number;
  /** Where the stable baseline window ends (epoch ms): the release's start. Undefined: no baseline. */
  readonly baselineEnd?: number;
  /**
   * From the deployment's state: epoch ms from which all traffic is on the new side. Undefined while it still shifts;
   * samples before it are judged as the canary phase, samples after it as full traffic.
   */
  readonly fullTrafficAt?: number;
  /** An assigned config canary (the runtime assigns conversations), not AppConfig's own rollout. */
  readonly assigned?: boolean;
}

/**
 * A canary-phase window with no stable sample (observed share 1: a tiny first window, the one-row remainder of a
 * window cut at the row limit, a config window of switched clients only) says nothing concurrent: it is held back and
 * read again with the next window, at most this long; after that its samples are set aside, and the record says so.
 */
export const MERGE_MAX_MS = 120_000;

export interface StepResult {
  readonly record: JudgeRecord;
  /** True when this step judged new samples. */
  readonly updated: boolean;
  /** True when the hook owns the release and the schedule stepped aside. */
  readonly skipped?: boolean;
  /** Set when this step read samples it could not judge and judged none: why. */
  readonly cannotJudge?: string;
}

function freshRecord(ports: JudgePorts, s: JudgeSettings, r: Release): JudgeRecord {
  const evaluation = s.evaluation && ports.evaluationLogs && ports.engine.updateEvaluation ? s.evaluation : undefined;
  return {
    schemaVersion: 1,
    service: s.service,
    plane: r.plane,
    releaseKey: r.releaseKey,
    canary: r.sides.canary,
    ...(r.sides.stable !== undefined ? { stable: r.sides.stable } : {}),
    phase: r.phase,
    until: r.startAt,
    updates: 0,
    samples: { canary: 0, stable: 0 },
    verdict: 'continue',
    evidence: [],
    engine: ports.engine.newJudgeState({
      alpha: s.alpha,
      ...(r.plane === 'config' && s.configUnit === 'cluster' ? { unit: 'cluster' as const } : {}),
      // AppConfig's own rollout tells execution environments: they are the unit (lambda/judge/environments.ts).
      ...(r.plane === 'config' && s.configUnit === 'environment' && !r.assigned ? { unit: 'environment' as const } : {}),
      ...(evaluation ? { evaluation } : {}),
      ...(s.tolerance ? { tolerance: s.tolerance } : {}),
    }),
    ...(evaluation ? { evaluation: { judged: judgedMetrics(evaluation), until: r.startAt, results: 0, scores: 0, pairs: 0, unmatched: 0 } } : {}),
  };
}

/**
 * One judge update of a release: the samples since the last update (up to the ingestion lag), fed to the engine,
 * the record saved. A window cut at the Logs Insights row limit continues at once, until `deadline`. A regression is
 * final: later steps return it without querying.
 */
export async function judgeStep(ports: JudgePorts, s: JudgeSettings, r: Release, deadline: number): Promise<StepResult> {
  const key = judgeKey(s.service, r.releaseKey);
  const stored = await ports.state.load(key);
  let record = stored ?? freshRecord(ports, s, r);
  // The first update of a release (no record yet): the stable baseline goes in before any canary batch.
  if (!stored && r.baselineEnd !== undefined && (s.baselineWindowMs ?? 0) > 0) record = await feedBaseline(ports, s, r, record, r.baselineEnd, deadline);
  if (record.phase === 'after-traffic' && r.phase === 'canary') return { record, updated: false, skipped: true };
  if (record.verdict === 'regression') return { record, updated: false };
  let updated = false;
  let setAside = 0;
  for (;;) {
    const to = ports.clock.now() - INGESTION_LAG_MS;
    if (to <= record.until || ports.clock.now() >= deadline) break;
    const rows = await ports.logs.query(samplesQuery(s.service), Math.floor(record.until / 1000), Math.ceil(to / 1000), deadline);
    const w = windowSamples(rows, record.until, to, r.sides);
    const plan = planWindow(w, record, r.fullTrafficAt, to, r.plane);
    if (plan.hold) break;
    for (const batch of plan.batches) {
      const u = ports.engine.updateJudge(record.engine, batch);
      const canary = batch.observations.filter((o) => o.version === 'canary').length;
      record = {
        ...record,
        updates: record.updates + 1,
        samples: { canary: record.samples.canary + canary, stable: record.samples.stable + batch.observations.length - canary },
        verdict: u.decision === 'regression' ? 'regression' : record.verdict,
        evidence: u.evidence,
        engine: u.state,
        ...clustersOf(ports, u.state, batch.observations, record.clusters),
        ...(batch.canaryShare === 1 && record.fullTrafficAt === undefined ? { fullTrafficAt: r.fullTrafficAt } : {}),
      };
      updated = true;
    }
    record = { ...record, until: w.until };
    if (plan.unused.length > 0) {
      setAside += plan.unused.filter((x) => x.trouble).reduce((n, x) => n + x.samples, 0);
      record = { ...record, unused: addUnused(record.unused, plan.unused) };
    }
    if (!w.truncated || record.verdict === 'regression') break;
  }
  // The evaluator's results of sample windows that have settled (a record started without them stays without).
  if (record.evaluation && s.evaluation && ports.evaluationLogs && record.verdict !== 'regression') {
    const e = await judgeEvaluations(
      // The service's own log group holds the runtime's sample lines: which results each window waits for.
      // It holds the runtime's check-result lines too (h9-checks), read when a deterministic check is judged.
      {
        logs: ports.evaluationLogs,
        samples: ports.logs,
        ...(judgesChecks(s.evaluation.criteria) ? { checks: ports.logs } : {}),
        engine: ports.engine,
        now: () => ports.clock.now(),
      },
      s.service,
      s.evaluation,
      r.sides,
      r.startAt,
      record,
      deadline,
    );
    record = e.record;
    if (e.updated) updated = true;
  }
  record = { ...record, phase: r.phase === 'after-traffic' ? 'after-traffic' : record.phase };
  await ports.state.save(key, record);
  return {
    record,
    updated,
    ...(setAside > 0 && !updated ? { cannotJudge: `${setAside} samples could not be judged: ${record.unused?.reasons.join('; ')}` } : {}),
  };
}

interface WindowPlan {
  /** True: judge nothing now, keep `until`, read this window again with the next one (tiny windows merge). */
  readonly hold: boolean;
  readonly batches: readonly JudgeBatch[];
  /** Samples set aside; `trouble`: the judge wanted to judge them and could not (the cannot-judge metric says so). */
  readonly unused: readonly { readonly samples: number; readonly reason: string; readonly trouble: boolean }[];
}

const REASON = {
  oneSided: 'a window during the traffic shift with no stable sample (nothing concurrent to compare it with)',
  straggler: 'stable samples after full traffic (a caller or client not yet on the new side)',
  late: 'samples from before full traffic read after the full-traffic phase began',
  configFull: 'config windows with one config only once the rollout reached 100 % (the config plane is judged only while both configs serve)',
} as const;

/**
 * What one window feeds the engine. The phase comes from the deployment's state (`fullTrafficAt`), never from the
 * batch: samples before it are the canary phase (judged at their observed share; a one-sided window is held back
 * and merged with the next one, up to MERGE_MAX_MS, then set aside), samples from it on are full traffic (code plane:
 * the canary's at share 1, stable stragglers set aside). So the engine never sees share 1 during the shift, nor a
 * share below 1 after it, and no single batch can switch its phase.
 *
 * The config plane has no after-traffic phase (it never had one but by the accident of a one-sided batch): once the
 * rollout is at 100 %, windows where clients not yet switched still serve the old config are judged at their observed
 * share as before, and windows of the new config alone are set aside (not a failure: nothing concurrent is left).
 * A before/after comparison never decides a config rollback (DESIGN: only concurrent comparisons roll back).
 */
export function planWindow(w: WindowSamples, record: JudgeRecord, fullTrafficAt: number | undefined, to: number, plane: ReleasePlane = 'code'): WindowPlan {
  if (plane === 'config') {
    const share = observedShare(w.observations);
    if (share === undefined) return { hold: false, batches: [], unused: [] };
    if (share < 1) return { hold: false, batches: [{ canaryShare: share, observations: w.observations }], unused: [] };
    if (fullTrafficAt !== undefined)
      return { hold: false, batches: [], unused: [{ samples: w.observations.length, reason: REASON.configFull, trouble: false }] };
    if (!w.truncated && to - record.until < MERGE_MAX_MS) return { hold: true, batches: [], unused: [] };
    return { hold: false, batches: [], unused: [{ samples: w.observations.length, reason: REASON.oneSided, trouble: true }] };
  }
  const pre = fullTrafficAt === undefined ? w.observations : w.observations.filter((o) => o.at < fullTrafficAt);
  const post = fullTrafficAt === undefined ? [] : w.observations.filter((o) => o.at >= fullTrafficAt);
  const batches: JudgeBatch[] = [];
  const unused: { samples: number; reason: string; trouble: boolean }[] = [];
  const share = observedShare(pre);
  if (share !== undefined) {
    if (record.fullTrafficAt !== undefined) unused.push({ samples: pre.length, reason: REASON.late, trouble: true });
    else if (share < 1) batches.push({ canaryShare: share, observations: pre });
    else if (fullTrafficAt === undefined && !w.truncated && to - record.until < MERGE_MAX_MS) return { hold: true, batches: [], unused: [] };
    else unused.push({ samples: pre.length, reason: REASON.oneSided, trouble: fullTrafficAt === undefined });
  }
  const canary = post.filter((o) => o.version === 'canary');
  if (canary.length > 0) batches.push({ canaryShare: 1, observations: canary });
  if (post.length > canary.length) unused.push({ samples: post.length - canary.length, reason: REASON.straggler, trouble: false });
  return { hold: false, batches, unused };
}

function addUnused(prev: JudgeUnused | undefined, add: readonly { samples: number; reason: string; trouble: boolean }[]): JudgeUnused {
  const reasons = [...(prev?.reasons ?? [])];
  for (const a of add) if (!reasons.includes(a.reason)) reasons.push(a.reason);
  return { samples: (prev?.samples ?? 0) + add.reduce((n, a) => n + a.samples, 0), reasons };
}

/** Adds a failed update to the release's record (best effort: the store may be what failed). */
async function recordFailure(ports: JudgePorts, s: JudgeSettings, r: Release, error: string): Promise<void> {
  const key = judgeKey(s.service, r.releaseKey);
  try {
    const record = (await ports.state.load(key)) ?? freshRecord(ports, s, r);
    const failures: JudgeFailures = { count: (record.failures?.count ?? 0) + 1, last: error.slice(0, 500), at: new Date(ports.clock.now()).toISOString() };
    await ports.state.save(key, { ...record, failures });
  } catch (e) {
    ports.log('canary judge: could not record the failed update', { release: r.releaseKey, error: String(e) });
  }
}

/** The cannot-judge metric, best effort: a failed publish must not hide the failure it reports. */
async function cannotJudge(ports: JudgePorts, plane: ReleasePlane): Promise<void> {
  try {
    await ports.verdict.cannotJudge?.(plane, 1);
  } catch (e) {
    ports.log('canary judge: could not publish the cannot-judge metric', { plane, error: String(e) });
  }
}

/**
 * Reads the stable side's samples in [end - baselineWindowMs, end) in 10,000-row slices, oldest first, and feeds each
 * slice to the engine as a `canaryShare: 0` batch (stable-only traffic: it only adds to the baseline the after-traffic
 * tests compare against). Bounded by BASELINE_BUDGET_MS and `deadline`; a failure or a timeout is never a reason to
 * fail the release: the judge goes on with what was fed and the record says why the baseline is short.
 */
async function feedBaseline(ports: JudgePorts, s: JudgeSettings, r: Release, record: JudgeRecord, end: number, deadline: number): Promise<JudgeRecord> {
  const from = end - (s.baselineWindowMs ?? 0);
  const stop = Math.min(deadline, ports.clock.now() + BASELINE_BUDGET_MS);
  let engine = record.engine;
  let until = from;
  let samples = 0;
  let batches = 0;
  let error: string | undefined;
  try {
    const query = baselineQuery(s.service, r.sides);
    while (until < end) {
      if (ports.clock.now() >= stop) throw new Error(`the baseline read ran out of its time at ${new Date(until).toISOString()}`);
      const rows = await ports.logs.query(query, Math.floor(until / 1000), Math.ceil(end / 1000), stop);
      const w = windowSamples(rows, until, end, r.sides);
      const stable = w.observations.filter((o) => o.version === 'stable');
      if (stable.length > 0) {
        engine = ports.engine.updateJudge(engine, { canaryShare: 0, observations: stable }).state;
        samples += stable.length;
        batches++;
      }
      until = w.until;
      if (!w.truncated) break;
    }
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
    ports.log('canary judge: the stable baseline could not be read in full; judging with what was read', { release: r.releaseKey, samples, error });
  }
  const baseline: JudgeBaseline = { from, to: end, samples, batches, ...(error ? { error } : {}) };
  return { ...record, engine, baseline };
}

/**
 * A code release. `fullFallback`: when full traffic began if the deployment does not say (the hook: its own start,
 * so every sample before it is judged as the canary phase, never the other way round).
 */
const codeRelease = (d: CodeDeploymentInfo, phase: Release['phase'], fallbackStart: number, fullFallback?: number): Release => {
  const full = d.trafficCompleteAt ?? fullFallback;
  return {
    plane: 'code',
    releaseKey: `code-${d.id}`,
    sides: { plane: 'code', canary: d.target, stable: d.current },
    phase,
    startAt: d.trafficStartedAt ?? d.createdAt ?? fallbackStart,
    // The baseline ends where the deployment started: before it, `live` served only the stable version.
    baselineEnd: d.createdAt ?? d.trafficStartedAt,
    ...(full !== undefined ? { fullTrafficAt: full } : {}),
  };
};

const configRelease = (d: ConfigDeploymentInfo, canary: string, now: number): Release => {
  // AppConfig's own state: all clients told once the rollout reaches 100 % (then it bakes).
  const full = d.fullAt ?? ((d.percentageComplete ?? 0) >= 100 ? now : undefined);
  return {
    plane: 'config',
    releaseKey: configJudgeReleaseKey(d.environmentId, d.deploymentNumber),
    sides: { plane: 'config', canary },
    phase: 'canary',
    // From the rollout's start on: lines stamped with the new label before it are the config gate's replays of
    // known-failing cases through the `gate` alias, never canary traffic.
    startAt: d.startedAt ?? now,
    // Before the rollout, every client ran a config other than the new one.
    baselineEnd: d.startedAt,
    ...(full !== undefined ? { fullTrafficAt: full } : {}),
  };
};

/** An assigned config canary as the judge sees it: the canary phase from the share's first deployment on. */
const assignedRelease = (a: AssignedConfigRelease): Release => ({
  plane: 'config',
  releaseKey: a.releaseKey,
  sides: { plane: 'config', canary: a.candidateLabel },
  phase: 'canary',
  startAt: a.startedAt,
  // Before the first share, every conversation ran the live config.
  baselineEnd: a.startedAt,
  assigned: true,
});

export interface ScheduleOutcome {
  /** Code deployments of the group in progress. */
  readonly deployments: number;
  /** Config rollouts in progress on the live environment (only when there are any). */
  readonly configRollouts?: number;
  /** The assigned config canary judged (its release key), when one is ramping. */
  readonly assignedRelease?: string;
  readonly cycles: number;
  /** The last verdict published per plane (1 = regression). */
  readonly verdict?: 0 | 1;
  readonly configVerdict?: 0 | 1;
  readonly error?: string;
}

/**
 * The schedule (rate(1 minute)): nothing in progress on either plane, nothing to do. Otherwise judge every period
 * until `deadline` (the end of this invocation's minute): the code deployments (publishing the code plane's verdict)
 * and the config rollouts (storing each verdict in the rollout's record, where AT_DEPLOYMENT_TICK reads it, and
 * publishing the config plane's verdict).
 */
export async function runSchedule(ports: JudgePorts, s: JudgeSettings, deadline: number): Promise<ScheduleOutcome> {
  let ids: readonly string[] = [];
  let rollouts: readonly ConfigDeploymentInfo[] = [];
  let assigned: AssignedConfigRelease | undefined;
  let cycles = 0;
  let verdict: 0 | 1 | undefined;
  let configVerdict: 0 | 1 | undefined;
  const outcome = (extra: Partial<ScheduleOutcome> = {}): ScheduleOutcome => ({
    deployments: ids.length,
    ...(rollouts.length > 0 ? { configRollouts: rollouts.length } : {}),
    ...(assigned ? { assignedRelease: assigned.releaseKey } : {}),
    cycles,
    ...(verdict !== undefined ? { verdict } : {}),
    ...(configVerdict !== undefined ? { configVerdict } : {}),
    ...extra,
  });
  try {
    [ids, rollouts, assigned] = await Promise.all([
      ports.deployments.inProgress(),
      ports.configDeployments.inProgress(),
      ports.assigned ? ports.assigned.current() : Promise.resolve(undefined),
    ]);
    if (ids.length === 0 && rollouts.length === 0 && !assigned) return outcome();
    const infos = await Promise.all(ids.map((id) => ports.deployments.describe(id)));
    // Not a rollback (CodeDeploy's or CloudFormation's: its target is the old version), not before traffic starts (the
    // gate's replays), and not once AllowTraffic has ended (the AfterAllowTraffic hook owns full traffic).
    const code = infos
      .filter((d) => !isRollback(d) && d.trafficStartedAt !== undefined && d.trafficCompleteAt === undefined)
      .map((d) => codeRelease(d, 'canary', ports.clock.now()));
    const config: Release[] = [];
    for (const d of rollouts) {
      const known = await ports.state.load(judgeKey(s.service, configJudgeReleaseKey(d.environmentId, d.deploymentNumber)));
      const canary = known?.canary ?? d.label ?? (await ports.configVersions.label(d.profileId, d.version));
      config.push(configRelease(d, canary, ports.clock.now()));
    }
    if (assigned) config.push(assignedRelease(assigned));
    if (code.length === 0 && config.length === 0) return outcome();
    while (ports.clock.now() < deadline) {
      const started = ports.clock.now();
      let judgedCode = false;
      let codeRegression = false;
      const failed: string[] = [];
      const troubled = new Set<ReleasePlane>();
      // Each release on its own: one that cannot be judged says so (record, metric) and never stops the others.
      const step = async (r: Release): Promise<StepResult | undefined> => {
        try {
          const out = await judgeStep(ports, s, r, deadline);
          if (out.cannotJudge) {
            troubled.add(r.plane);
            ports.log('canary judge: samples could not be judged', { release: r.releaseKey, why: out.cannotJudge });
          }
          return out;
        } catch (e) {
          const error = e instanceof Error ? e.message : String(e);
          failed.push(error);
          troubled.add(r.plane);
          await recordFailure(ports, s, r, error);
          return undefined;
        }
      };
      for (const r of code) {
        const out = await step(r);
        if (!out || out.skipped) continue;
        judgedCode = true;
        if (out.record.verdict === 'regression') codeRegression = true;
      }
      // Only while the schedule owns a code release: after full traffic the AfterAllowTraffic hook judges and publishes.
      if (judgedCode) {
        verdict = codeRegression ? 1 : 0;
        await ports.verdict.publish('code', verdict);
      }
      let configRegression = false;
      let judgedConfig = false;
      for (const r of config) {
        const out = await step(r);
        if (!out) continue;
        judgedConfig = true;
        if (out.record.verdict === 'regression') configRegression = true;
        else if (out.updated) {
          // The rollout's latest conclusion, so the review can say it even after the rollout ends.
          const conclusion = ports.engine.concludeJudge(out.record.engine);
          await ports.state.save(judgeKey(s.service, r.releaseKey), { ...out.record, verdict: conclusion });
        }
      }
      if (judgedConfig) {
        configVerdict = configRegression ? 1 : 0;
        await ports.verdict.publish('config', configVerdict);
      }
      for (const plane of troubled) await cannotJudge(ports, plane);
      // A failed update ends this minute (the next one starts where the record ends); the outcome carries the error.
      if (failed.length > 0) throw new Error(failed.join('; '));
      if (!judgedCode && config.length === 0) break;
      cycles++;
      if (codeRegression || configRegression)
        ports.log('canary judge: regression shown', {
          releases: [...code, ...config].map((r) => r.releaseKey),
          code: codeRegression,
          config: configRegression,
        });
      const next = started + s.periodMs;
      if (next >= deadline) break;
      await ports.clock.sleep(Math.max(0, next - ports.clock.now()));
    }
  } catch (e) {
    // Never a function error: Lambda would retry the invocation while the next minute's one runs. The next minute
    // starts where the record ends, so nothing is lost; the verdict alarm sees missing data (not breaching), and a
    // tick finds the last stored verdict.
    const error = e instanceof Error ? e.message : String(e);
    ports.log('canary judge: schedule cycle failed; the next minute continues', { error });
    return outcome({ error });
  }
  return outcome();
}

/** The event CodeDeploy sends a lifecycle hook. */
export interface HookEvent {
  readonly DeploymentId: string;
  readonly LifecycleEventHookExecutionId: string;
}

export function isHookEvent(e: unknown): e is HookEvent {
  const x = e as Partial<HookEvent> | null;
  return typeof x?.DeploymentId === 'string' && typeof x.LifecycleEventHookExecutionId === 'string';
}

export interface HookOutcome {
  readonly status: 'Succeeded' | 'Failed';
  readonly verdict: Exclude<JudgeVerdict, 'continue'>;
  readonly error?: string;
  /** False when even the answer could not be delivered (CodeDeploy then fails the hook at its own time limit). */
  readonly answered: boolean;
  /** Set when the deployment is a rollback (its creator): answered Succeeded at once, not judged. */
  readonly rollback?: string;
}

/**
 * AfterAllowTraffic: all traffic is on the new version. Judge every period (observed share 1) until the engine is
 * conclusive, a regression is shown, or the bound passes; then answer: Failed on a regression (CodeDeploy fails the
 * deployment and rolls back), Succeeded otherwise. A crash of the judge is no evidence against the release: it answers
 * Succeeded, recorded as inconclusive with the error, and the fixed-threshold alarms remain the safety net.
 * `deadline` is the last moment to start answering (the function's timeout minus a margin).
 */
export async function runAfterTrafficHook(event: HookEvent, ports: JudgePorts, s: JudgeSettings, deadline: number): Promise<HookOutcome> {
  const start = ports.clock.now();
  const bound = Math.min(start + s.afterTrafficBoundMs, deadline);
  let verdict: HookOutcome['verdict'] = 'inconclusive';
  let error: string | undefined;
  let key: string | undefined;
  let release: Release | undefined;
  try {
    const d = await ports.deployments.describe(event.DeploymentId);
    if (isRollback(d)) {
      // Traffic goes back to the version that was live: nothing new to judge, no verdict to publish, no record.
      const rollback = d.creator ?? `rollback of ${d.rollbackOf}`;
      ports.log('canary judge: rollback deployment, not judged; answering Succeeded', { deploymentId: event.DeploymentId, rollback });
      return { status: 'Succeeded', verdict: 'inconclusive', answered: await answer(ports, event, 'Succeeded'), rollback };
    }
    release = codeRelease(d, 'after-traffic', start - 60_000, start);
    key = judgeKey(s.service, release.releaseKey);
    for (;;) {
      const step = await judgeStep(ports, s, release, bound);
      const regression = step.record.verdict === 'regression';
      await ports.verdict.publish('code', regression ? 1 : 0);
      if (regression) {
        verdict = 'regression';
        break;
      }
      const conclusion = step.record.updates > 0 ? ports.engine.concludeJudge(step.record.engine) : 'inconclusive';
      // Not promoted on a conclusion while evaluation results of samples taken before full traffic are outstanding
      // (their windows close within the wait bound; the hook's own bound still caps it).
      if (conclusion !== 'inconclusive' && !evaluationPending(step.record, start)) {
        verdict = conclusion;
        break;
      }
      if (ports.clock.now() + s.periodMs >= bound) {
        verdict = 'inconclusive';
        break;
      }
      await ports.clock.sleep(s.periodMs);
    }
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
    verdict = 'inconclusive';
    ports.log('canary judge failed in the AfterAllowTraffic hook; answering Succeeded (no evidence of a regression)', { error });
    // Never silently: the cannot-judge alarm pages, and the record (so the review) says the release went unjudged.
    await cannotJudge(ports, 'code');
    if (release) await recordFailure(ports, s, release, error);
  }
  if (key) {
    try {
      const record = await ports.state.load(key);
      if (record) await ports.state.save(key, { ...record, verdict, concludedAt: new Date(ports.clock.now()).toISOString(), ...(error ? { error } : {}) });
    } catch (e) {
      ports.log('could not record the judge verdict', { error: String(e) });
    }
  }
  const status = verdict === 'regression' ? 'Failed' : 'Succeeded';
  const answered = await answer(ports, event, status);
  return { status, verdict, ...(error ? { error } : {}), answered };
}

/** PutLifecycleEventHookExecutionStatus, retried a few times: an unanswered hook stalls the deployment for an hour. */
async function answer(ports: JudgePorts, event: HookEvent, status: 'Succeeded' | 'Failed'): Promise<boolean> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      await ports.deployments.answerHook(event.DeploymentId, event.LifecycleEventHookExecutionId, status);
      return true;
    } catch (e) {
      // An earlier attempt that timed out on our side may have landed: the hook is answered.
      if ((e as { name?: string }).name === 'LifecycleEventAlreadyCompletedException') return true;
      ports.log('PutLifecycleEventHookExecutionStatus failed', { attempt, status, error: String(e) });
      if (attempt < 3) await ports.clock.sleep(1000 * attempt);
    }
  }
  return false;
}

// AT_DEPLOYMENT_TICK lives in its own module, so the tick-only bundle (lambda/canary-judge-tick) loads nothing else.
export { type AppConfigEvent, isAppConfigEvent, isTickEvent, runConfigTick, TICK_BUDGET_MS, type TickEvent, type TickResponse } from './tick';

/**
 * What the record says about clusters: the engine's counts, and which key the observations carried (a conversation
 * under per-conversation assignment, else the runtime's case id of the input; none for lines written before either).
 */
function clustersOf(
  ports: JudgePorts,
  state: unknown,
  observations: readonly { readonly cluster?: string; readonly share?: number; readonly environment?: string }[],
  previous: JudgeRecord['clusters'],
): { clusters?: JudgeClusters } {
  const counts = ports.engine.judgeClusters?.(state as never);
  if (!counts) return {};
  if (counts.unit === 'environment')
    return { clusters: { ...counts, key: observations.some((o) => o.environment !== undefined) ? 'environment' : (previous?.key ?? 'none') } };
  const keyed = observations.some((o) => o.cluster !== undefined);
  const key: JudgeClusters['key'] = !keyed ? (previous?.key ?? 'none') : observations.some((o) => o.share !== undefined) ? 'conversation' : 'case';
  return { clusters: { ...counts, key } };
}
