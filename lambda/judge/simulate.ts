/**
 * Simulated releases for the canary judge, on traffic as production has it: a pure, seeded generator and a driver that
 * feeds the engine (lambda/judge/judge.ts) once a minute the way the wiring does (observed share per batch). Used by
 * the simulation suite (test/judge-sim*.test.ts, small seed counts), bench/judge.ts (1,000 seeds) and the planner
 * (`simulateSchedule`: the power of a schedule by simulation, not closed form). No SDK, no Node-only API.
 *
 * The traffic model, per request (all optional, each from the issue 16 table):
 * - Poisson arrivals at `rps` × a piecewise-linear load curve (`load`: traffic ramps, "traffic doubles");
 * - a stable error rate `baseErrorRate`, growing with load (`errorLoadExponent`: rate × load^k);
 * - shared disturbances hitting both versions alike over a window (`disturbances`: an error-rate floor and a latency
 *   factor, e.g. a dependency at 5 % errors for 2 minutes, or ×1.3 slower);
 * - callers that retry a failing request (`retries`): a retry is a new request with the same input (the runtime's case
 *   id), so failures of a persistently failing input (`poisonShare` of the failures) arrive together;
 * - execution environments (`environments`): each version's requests land on one of its N environments, each a little
 *   different (error and latency factors drawn once per run); `shared: true` models the config plane with
 *   per-conversation assignment, where both configs run in the same environments;
 * - conversations (`conversations`): a request continues a recent conversation or starts one; a conversation has its
 *   own error factor (hard conversations fail more), and with `assignment: 'conversation'` its version is drawn once, at
 *   its first request, with the share of that time (the runtime's keyed hash, h-assign16), and never changes;
 * - a drifting request mix (`mix`): a request type with its own error rate whose share of traffic moves linearly from
 *   `from` to `to` over the run.
 * Latency is log-normal (median 1,200 ms, σ 0.5) times the shared and environment factors; cost log-normal; quality
 * normal (0.8, 0.1) clipped to [0, 1]. A bad release multiplies the canary's error probability (`errorFactor`) and
 * median latency (`latencyFactor`).
 */
import { binomialUpper } from './stats';
import { concludeJudge, newJudgeState, updateJudge, type JudgeObservation, type JudgeOptions, type JudgeState } from './judge';

export interface Disturbance {
  /** Minutes since the deployment started, [from, to). */
  readonly fromMinute: number;
  readonly toMinute: number;
  /** Both versions' error rate is at least this meanwhile. @default no change */
  readonly errorRate?: number;
  /** Both versions' latency is multiplied by this meanwhile. @default 1 */
  readonly latencyFactor?: number;
}

export interface TrafficModel {
  /** Requests per second at load factor 1. */
  readonly rps: number;
  /** Stable error probability per request. @default 0.01 */
  readonly baseErrorRate?: number;
  /** σ of log latency. @default 0.5 */
  readonly latencySigma?: number;
  /** Load factor over time: [minute, factor] points, linear between them, flat outside. @default constant 1 */
  readonly load?: readonly (readonly [number, number])[];
  /** The error rate grows as load^k. @default 0 */
  readonly errorLoadExponent?: number;
  readonly disturbances?: readonly Disturbance[];
  /** A failing request is retried by its caller up to this many times (same input: same cluster). @default 0 */
  readonly retries?: number;
  /** With retries: the share of the base error rate that is a persistently failing input (fails on every attempt). @default 0.5 */
  readonly poisonShare?: number;
  readonly environments?: {
    readonly perVersion: number;
    /** σ of the log error factor and log latency factor of an environment. */
    readonly errorSpread: number;
    readonly latencySpread: number;
    /** Both versions run in the same environments (config plane, per-conversation assignment). @default false */
    readonly shared?: boolean;
  };
  readonly conversations?: {
    /** Mean requests per conversation. */
    readonly meanTurns: number;
    /** σ of a conversation's log error factor. @default 0 */
    readonly errorSpread?: number;
    /** σ of a conversation's log latency factor (long documents, long answers). @default 0 */
    readonly latencySpread?: number;
  };
  /**
   * Who is randomized: each request (the code plane's weighted alias), each conversation (config plane, assigned in the
   * runtime), or each execution environment (config plane through AppConfig's rollout: an environment switches when
   * its draw falls under the share, and stays switched; needs `environments` with `shared: true`). @default 'request'
   */
  readonly assignment?: 'request' | 'conversation' | 'environment';
  readonly mix?: { readonly errorRate: number; readonly from: number; readonly to: number };
}

/** A traffic schedule: from each step's minute on, the canary takes `share` (0 < share ≤ 1), until `endMinute`. */
export interface Schedule {
  readonly steps: readonly { readonly atMinute: number; readonly share: number }[];
  readonly endMinute: number;
}

export interface Regression {
  /** The canary's error probability × this. @default 1 */
  readonly errorFactor?: number;
  /** The canary's median latency × this. @default 1 */
  readonly latencyFactor?: number;
}

export interface SimulationOptions {
  readonly judge?: Partial<JudgeOptions>;
  /** Minutes of stable-only traffic fed before the deployment (the wiring's baseline). @default 0 */
  readonly baselineMinutes?: number;
  /** Which key the observations carry as `cluster`: none, the input (case id), or the conversation. @default 'case' */
  readonly clusterBy?: 'none' | 'case' | 'conversation';
}

export interface ReleaseOutcome {
  /** The judge called a regression while the stable version still served a share. */
  readonly beforeFull: boolean;
  /** ...at any time up to the schedule's end. */
  readonly byEnd: boolean;
  /** The minute (since the deployment started) of the update that called it. */
  readonly minute?: number;
  readonly metric?: string;
  readonly conclusion: 'regression' | 'no-regression-shown' | 'inconclusive';
}

export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box–Muller). */
export function normal(rand: () => number): number {
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** The canary's share at `minute` (0 before the first step). */
export function shareAt(schedule: Schedule, minute: number): number {
  let s = 0;
  for (const step of schedule.steps) if (minute >= step.atMinute) s = step.share;
  return s;
}

/** The first minute at which the canary takes all traffic (the schedule's end when it never does). */
export function fullTrafficMinute(schedule: Schedule): number {
  for (const step of schedule.steps) if (step.share >= 1) return step.atMinute;
  return schedule.endMinute;
}

function interpolate(points: readonly (readonly [number, number])[] | undefined, minute: number): number {
  if (!points || points.length === 0) return 1;
  if (minute <= points[0][0]) return points[0][1];
  for (let i = 1; i < points.length; i++) {
    const [m1, f1] = points[i];
    if (minute <= m1) {
      const [m0, f0] = points[i - 1];
      return m1 === m0 ? f1 : f0 + ((f1 - f0) * (minute - m0)) / (m1 - m0);
    }
  }
  return points[points.length - 1][1];
}

interface Env {
  readonly err: number;
  readonly lat: number;
  /** AppConfig-style assignment: the environment serves the new config once the share exceeds this. */
  readonly u: number;
}

interface Conversation {
  readonly id: number;
  readonly errorFactor: number;
  readonly latencyFactor: number;
  /** Set at its first request under per-conversation assignment. */
  canary?: boolean;
  share?: number;
}

interface PendingRetry {
  readonly at: number /* seconds since the deployment started */;
  readonly input: number;
  readonly poison: boolean;
  readonly attempt: number;
  readonly conversation?: Conversation;
}

/**
 * The generator's state across minutes: environments, conversations, pending retries. One per simulated release.
 */
export class TrafficGenerator {
  private readonly rand: () => number;
  private readonly envs: { canary: Env[]; stable: Env[] };
  private readonly recent: Conversation[] = [];
  private retries: PendingRetry[] = [];
  private nextInput = 1;
  private nextConversation = 1;

  constructor(
    seed: number,
    private readonly model: TrafficModel,
    private readonly regression: Regression = {},
    private readonly endMinute = 60,
  ) {
    this.rand = mulberry32(seed * 2654435761 + 1);
    const e = model.environments;
    const draw = () =>
      e
        ? Array.from({ length: e.perVersion }, () => ({
            err: Math.exp(e.errorSpread * normal(this.rand)),
            lat: Math.exp(e.latencySpread * normal(this.rand)),
            u: this.rand(),
          }))
        : [{ err: 1, lat: 1, u: this.rand() }];
    if (model.assignment === 'environment' && !e?.shared) throw new Error("assignment 'environment' needs environments with shared: true");
    const stable = draw();
    this.envs = { stable, canary: e?.shared ? stable : draw() };
  }

  /** The requests of [minute, minute + 1) with the canary at `share`, sorted by time. */
  minute(minute: number, share: number, clusterBy: SimulationOptions['clusterBy'] = 'case'): JudgeObservation[] {
    const m = this.model;
    const rand = this.rand;
    const base = m.baseErrorRate ?? 0.01;
    const sigma = m.latencySigma ?? 0.5;
    const t0 = minute * 60;
    const out: JudgeObservation[] = [];
    const mid = minute + 0.5;
    const load = interpolate(m.load, mid);
    const rps = m.rps * load;
    let errRate = base * load ** (m.errorLoadExponent ?? 0);
    let sharedLatency = 1;
    for (const d of m.disturbances ?? []) {
      if (mid >= d.fromMinute && mid < d.toMinute) {
        if (d.errorRate !== undefined) errRate = Math.max(errRate, d.errorRate);
        sharedLatency *= d.latencyFactor ?? 1;
      }
    }
    const mixShare = m.mix ? m.mix.from + (m.mix.to - m.mix.from) * Math.min(1, Math.max(0, minute / Math.max(1, this.endMinute))) : 0;
    const retries = m.retries ?? 0;
    const poisonShare = retries > 0 ? (m.poisonShare ?? 0.5) : 0;
    const byConversation = m.assignment === 'conversation';
    // Fresh arrivals (Poisson), merged with the retries due in this minute.
    const arrivals: PendingRetry[] = [];
    for (let t = t0 - Math.log(1 - rand()) / rps; t < t0 + 60; t += -Math.log(1 - rand()) / rps) {
      arrivals.push({ at: t, input: 0, poison: false, attempt: 0 });
    }
    const due = this.retries.filter((r) => r.at < t0 + 60);
    this.retries = this.retries.filter((r) => r.at >= t0 + 60);
    const all = [...arrivals, ...due].sort((a, b) => a.at - b.at);
    for (const r of all) {
      let input = r.input;
      let poison = r.poison;
      let conv = r.conversation;
      if (r.attempt === 0) {
        input = this.nextInput++;
        poison = rand() < base * poisonShare;
        if (m.conversations) conv = this.conversationFor(rand);
      }
      // Which version serves it.
      let canary: boolean;
      let obsShare: number | undefined;
      if (byConversation && conv) {
        if (conv.canary === undefined) {
          conv.canary = share >= 1 || rand() < share;
          conv.share = share;
        }
        canary = conv.canary;
        obsShare = conv.share;
      } else canary = share >= 1 || (share > 0 && rand() < share);
      let env: Env;
      if (m.assignment === 'environment') {
        env = this.envs.stable[Math.floor(rand() * this.envs.stable.length)];
        canary = share >= 1 || env.u < share;
      } else {
        const envs = canary ? this.envs.canary : this.envs.stable;
        env = envs[Math.floor(rand() * envs.length)];
      }
      const typeA = m.mix !== undefined && rand() < mixShare;
      let p = typeA && m.mix ? m.mix.errorRate : errRate * (1 - poisonShare);
      p *= env.err * (conv?.errorFactor ?? 1);
      if (canary) p *= this.regression.errorFactor ?? 1;
      const error = poison || rand() < Math.min(1, p);
      const latencyMs =
        1200 * sharedLatency * env.lat * (conv?.latencyFactor ?? 1) * (canary ? (this.regression.latencyFactor ?? 1) : 1) * Math.exp(sigma * normal(rand));
      const cluster = clusterBy === 'conversation' && conv ? `c${conv.id}` : clusterBy === 'case' ? `i${input}` : undefined;
      const o: { -readonly [K in keyof JudgeObservation]: JudgeObservation[K] } = {
        version: canary ? 'canary' : 'stable',
        at: Math.floor(r.at * 1000),
        error,
        safety: rand() < 0.001,
        contract: rand() < 0.005,
        latencyMs,
        costUsd: 0.002 * Math.exp(0.3 * normal(rand)),
        quality: Math.min(1, Math.max(0, 0.8 + 0.1 * normal(rand))),
      };
      if (cluster !== undefined) o.cluster = cluster;
      if (obsShare !== undefined) o.share = obsShare;
      out.push(o);
      if (error && r.attempt < retries) this.retries.push({ at: r.at + 1 + 2 * rand(), input, poison, attempt: r.attempt + 1, conversation: conv });
    }
    return out;
  }

  private conversationFor(rand: () => number): Conversation {
    const c = this.model.conversations;
    if (!c) throw new Error('no conversations in this traffic model');
    if (this.recent.length > 0 && rand() >= 1 / c.meanTurns) return this.recent[Math.floor(rand() * this.recent.length)];
    const conv: Conversation = {
      id: this.nextConversation++,
      errorFactor: Math.exp((c.errorSpread ?? 0) * normal(rand)),
      latencyFactor: Math.exp((c.latencySpread ?? 0) * normal(rand)),
    };
    this.recent.push(conv);
    // A conversation stays active for about 50 of the conversations started after it.
    if (this.recent.length > 50) this.recent.shift();
    return conv;
  }
}

/** The canary's share of a batch's requests, as the wiring computes it (lambda/canary-judge/samples.ts observedShare). */
function observedShare(obs: readonly JudgeObservation[]): number {
  if (obs.length === 0) return 0;
  let c = 0;
  for (const o of obs) if (o.version === 'canary') c++;
  return c / obs.length;
}

/** The simulation keeps no old state, so the engine updates its state in place (same outputs, no copies). */
const IN_PLACE = { inPlace: true } as const;

/** One simulated release: the judge updated once a minute on that minute's requests. */
export function simulateRelease(
  seed: number,
  schedule: Schedule,
  traffic: TrafficModel,
  regression: Regression = {},
  options: SimulationOptions = {},
): ReleaseOutcome {
  validateSchedule(schedule);
  const gen = new TrafficGenerator(seed, traffic, regression, schedule.endMinute);
  let state: JudgeState = newJudgeState(options.judge);
  const clusterBy = options.clusterBy ?? 'case';
  for (let minute = -(options.baselineMinutes ?? 0); minute < 0; minute++) {
    state = updateJudge(state, { canaryShare: 0, observations: gen.minute(minute, 0, clusterBy) }, IN_PLACE).state;
  }
  for (let minute = 0; minute < schedule.endMinute; minute++) {
    const nominal = shareAt(schedule, minute);
    const obs = gen.minute(minute, nominal, clusterBy);
    if (obs.length === 0) continue;
    const r = updateJudge(state, { canaryShare: observedShare(obs), observations: obs }, IN_PLACE);
    state = r.state;
    if (r.decision === 'regression') {
      const metric = r.evidence.find((e) => e.eValue >= e.threshold)?.metric;
      return { beforeFull: nominal < 1, byEnd: true, minute, ...(metric ? { metric } : {}), conclusion: 'regression' };
    }
  }
  return { beforeFull: false, byEnd: false, conclusion: concludeJudge(state) };
}

export interface ScheduleSimulation {
  readonly runs: number;
  /** Releases the judge called a regression on while stable still served a share / by the schedule's end. */
  readonly beforeFull: number;
  readonly byEnd: number;
  readonly rateBeforeFull: number;
  readonly rateByEnd: number;
  /** One-sided 95 % Clopper-Pearson bounds: upper on the by-end rate (false rollbacks), lower on the before-full rate (power). */
  readonly upperByEnd: number;
  readonly lowerBeforeFull: number;
  readonly byMetric: Readonly<Record<string, number>>;
  readonly noRegressionShown: number;
}

/**
 * The planner's entry point: how often the judge calls a regression under `schedule` on `traffic` when the release is
 * `regression` (its power; with no regression, its false-rollback rate), over `seeds` seeded runs (seeds 1..n after
 * `firstSeed`). Deterministic.
 */
export function simulateSchedule(
  schedule: Schedule,
  traffic: TrafficModel,
  regression: Regression,
  seeds: number,
  options: SimulationOptions & { readonly firstSeed?: number } = {},
): ScheduleSimulation {
  if (!(Number.isInteger(seeds) && seeds > 0)) throw new Error(`seeds must be a positive whole number, got ${seeds}`);
  let beforeFull = 0;
  let byEnd = 0;
  let noRegressionShown = 0;
  const byMetric: Record<string, number> = {};
  const first = options.firstSeed ?? 1;
  for (let i = 0; i < seeds; i++) {
    const o = simulateRelease(first + i, schedule, traffic, regression, options);
    if (o.beforeFull) beforeFull++;
    if (o.byEnd) byEnd++;
    if (o.conclusion === 'no-regression-shown') noRegressionShown++;
    if (o.metric) byMetric[o.metric] = (byMetric[o.metric] ?? 0) + 1;
  }
  return {
    runs: seeds,
    beforeFull,
    byEnd,
    rateBeforeFull: beforeFull / seeds,
    rateByEnd: byEnd / seeds,
    upperByEnd: binomialUpper(byEnd, seeds, 0.05),
    lowerBeforeFull: beforeFull === 0 ? 0 : 1 - binomialUpper(seeds - beforeFull, seeds, 0.05),
    byMetric,
    noRegressionShown,
  };
}

function validateSchedule(s: Schedule): void {
  if (s.steps.length === 0) throw new Error('schedule.steps is empty: give at least one step, e.g. [{ atMinute: 0, share: 0.1 }, { atMinute: 5, share: 1 }]');
  let last = -1;
  for (const step of s.steps) {
    if (!(step.share > 0 && step.share <= 1)) throw new Error(`schedule step at minute ${step.atMinute} has share ${step.share}: a share is in (0, 1]`);
    if (!(step.atMinute > last)) throw new Error(`schedule steps must be in increasing minutes, got ${step.atMinute} after ${last}`);
    last = step.atMinute;
  }
  if (!(s.endMinute > last)) throw new Error(`schedule.endMinute ${s.endMinute} must be after the last step (minute ${last})`);
}

/**
 * A schedule from CodeDeploy's steps as `TrafficShift.steps` gives them ([minute, percent on the new version]), with
 * `afterMinutes` of full traffic after the last step (the after-traffic bound). TimeBasedCanary shifts in two
 * increments (the canary percent, then the rest after the interval); TimeBasedLinear in equal increments with equal
 * minutes between them (CodeDeploy API reference: TimeBasedCanary, TimeBasedLinear).
 */
export function scheduleFromSteps(steps: readonly (readonly [number, number])[], afterMinutes = 10): Schedule {
  const out = steps.map(([atMinute, percent]) => ({ atMinute, share: percent / 100 }));
  const last = out.length > 0 ? out[out.length - 1].atMinute : 0;
  const schedule = { steps: out, endMinute: last + afterMinutes };
  validateSchedule(schedule);
  return schedule;
}

/**
 * The judged steps of a schedule: those where the stable version still serves a share (0 < share < 1), with their
 * length in minutes. Only these give concurrent evidence; after them only the gross rule can roll back.
 */
export function judgedSteps(schedule: Schedule): { readonly share: number; readonly fromMinute: number; readonly minutes: number }[] {
  const out: { share: number; fromMinute: number; minutes: number }[] = [];
  schedule.steps.forEach((step, i) => {
    const end = i + 1 < schedule.steps.length ? schedule.steps[i + 1].atMinute : schedule.endMinute;
    if (step.share > 0 && step.share < 1) out.push({ share: step.share, fromMinute: step.atMinute, minutes: end - step.atMinute });
  });
  return out;
}
