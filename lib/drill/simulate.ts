/**
 * The drill's simulation: traffic through the release's schedule, the EMF it produces aggregated into alarm
 * periods, the alarms evaluated as CloudWatch does (./cloudwatch.ts), and the deployment service's reaction.
 *
 * Time is in whole seconds from the deployment's start (t = 0). Before it, a warm-up runs the stable version alone,
 * so the alarms' evaluation ranges hold real history. Requests arrive as a Poisson process at the stated rate
 * (one draw per second); each goes to the new version (code) or the new config (config) with the schedule's weight.
 */
import { METRIC } from '../../lambda/shared/contract';
import { DEFAULT_TIMING, evaluationCadenceSeconds, type TimingAssumptions } from '../rollout/worst-case';
import { type AlarmState, evaluateAlarm, evaluationRange } from './cloudwatch';
import type { Point } from './expression';
import type { DrillAlarm, DrillMetric, DrillModel, TrafficSteps } from './template';
import { tokenTarget } from './template';
import { type Baseline, DEFAULT_BASELINE, type Fault, type Outcome, planRequest, poisson, rng, RuntimeHarness } from './traffic';

export interface DrillScenario {
  readonly name: string;
  /** `code`: the fault is in the new Lambda version (CodeDeploy); `config`: in the new config (AppConfig). */
  readonly plane: 'code' | 'config';
  /** Requests per second to the service (all versions). */
  readonly ratePerSecond: number;
  readonly fault: Fault;
  readonly baseline?: Partial<Baseline>;
  /** EMF lost during [from, to) seconds (a log-delivery outage, a broken metric filter): requests served, no datapoints. */
  readonly metricsGap?: { readonly fromSeconds: number; readonly toSeconds: number };
  /**
   * `poisson` (default) or `uniform`: exactly the rate each second, split by the weight without randomness (for
   * hand-computed timelines).
   */
  readonly arrivals?: 'poisson' | 'uniform';
  /** Seconds between the deployment's start and the next period boundary of the clock. @default 0 */
  readonly phaseSeconds?: number;
}

export interface StateChange {
  readonly t: number;
  readonly alarm: string;
  readonly from: AlarmState;
  readonly to: AlarmState;
}

export interface RunResult {
  readonly scenario: string;
  /** First second at which an alarm that rolls this plane back is in ALARM (or its monitor, for AppConfig). */
  readonly detectedAt?: number;
  /** The alarm that was first in ALARM. */
  readonly detectedBy?: string;
  readonly rollbackAt?: number;
  /** Rollback started before the new version/config reached 100 %. */
  readonly caughtBeforeFull: boolean;
  /** Rollback started while the deployment (incl. AppConfig's bake) still watched its alarms. */
  readonly caught: boolean;
  /** Bad answers (or failed requests) the fault caused, until rollback or the end of the horizon. */
  readonly badServed: number;
  /** Second of the first request the fault touched (undefined: none). */
  readonly firstBadAt?: number;
  readonly newServed: number;
  readonly totalServed: number;
  readonly fullAt: number;
  readonly endAt: number;
  readonly horizon: number;
  readonly changes: readonly StateChange[];
  /** Per alarm evaluated: its datapoints by period start second (for the timeline). */
  readonly series: Readonly<Record<string, readonly { t: number; v: Point }[]>>;
  /** Traffic share of the new version/config by second, as [t, percent] change points. */
  readonly weight: readonly (readonly [number, number])[];
}

export interface SimulationSetup {
  readonly model: DrillModel;
  readonly scenario: DrillScenario;
  readonly timing?: TimingAssumptions;
  /** Seconds simulated after the deployment ends. @default 300 */
  readonly tailSeconds?: number;
}

/** Why an alarm is not simulated, by logical id; the rest are. */
export interface AlarmCoverage {
  readonly simulated: readonly string[];
  readonly notSimulated: Readonly<Record<string, string>>;
  /** The alarms (logical ids) whose ALARM rolls the scenario's plane back, and through what. */
  readonly trigger: readonly string[];
}

/** The metrics the runtime writes (EMF, namespace AiRelease). */
const RUNTIME_METRICS: ReadonlySet<string> = new Set(Object.values(METRIC));

type Scope = 'all' | 'new';
interface SeriesSpec {
  readonly key: string;
  readonly period: number;
  readonly scope: Scope;
  /** Which value of an outcome: an EMF metric, or a Lambda metric derived from it. */
  readonly pick: (o: Outcome, extraLatency: number) => number | undefined;
  readonly values: boolean;
  /** The value is a latency: latency creep adds to it. */
  readonly latency: boolean;
}

const LAMBDA_PICK: Record<string, (o: Outcome, extra: number) => number | undefined> = {
  Invocations: () => 1,
  Errors: (o) => o.values[METRIC.ERRORS] ?? 0,
  Duration: (o, extra) => (o.values[METRIC.LATENCY] ?? 0) + extra,
};

/** How the drill feeds one metric, or why it cannot. */
function resolveMetric(m: DrillMetric, model: DrillModel): { scope: Scope; pick: SeriesSpec['pick']; name: string } | string {
  const keys = Object.keys(m.dimensions).sort().join(',');
  const isNewVersion = (v: string | undefined) => {
    const t = v === undefined ? undefined : tokenTarget(v);
    return t !== undefined && model.resourceTypes[t.id] === 'AWS::Lambda::Version';
  };
  if (m.namespace === 'AiRelease') {
    if (!RUNTIME_METRICS.has(m.metricName)) return `metric ${m.metricName} is not one the runtime writes (${[...RUNTIME_METRICS].join(', ')})`;
    const name = m.metricName;
    const pick: SeriesSpec['pick'] =
      name === METRIC.LATENCY ? (o, extra) => (o.values[name] === undefined ? undefined : o.values[name] + extra) : (o) => o.values[name];
    if (keys === 'Service') return { scope: 'all', pick, name };
    if (keys === 'Service,Version') {
      if (isNewVersion(m.dimensions.Version)) return { scope: 'new', pick, name };
      return `dimension Version=${m.dimensions.Version} is not the version this template deploys`;
    }
    return `dimensions [${keys}] are not ones the runtime writes ([Service], [Service, Version])`;
  }
  if (m.namespace === 'AWS/Lambda') {
    const pick = LAMBDA_PICK[m.metricName];
    if (!pick) return `AWS/Lambda ${m.metricName} is not simulated (Invocations, Errors, Duration are)`;
    if (!('FunctionName' in m.dimensions)) return `AWS/Lambda ${m.metricName} without a FunctionName dimension is not simulated`;
    if ('ExecutedVersion' in m.dimensions)
      return isNewVersion(m.dimensions.ExecutedVersion)
        ? { scope: 'new', pick, name: `Lambda.${m.metricName}` }
        : `ExecutedVersion=${m.dimensions.ExecutedVersion} is not the version this template deploys`;
    return { scope: 'all', pick, name: `Lambda.${m.metricName}` };
  }
  return `namespace ${m.namespace} is not simulated (the drill feeds AiRelease from the runtime's EMF, and AWS/Lambda Invocations/Errors/Duration)`;
}

/** Which alarms the drill can simulate, and which ones roll the plane back. */
export function alarmCoverage(model: DrillModel, plane: 'code' | 'config'): AlarmCoverage {
  const notSimulated: Record<string, string> = {};
  for (const a of model.alarms) {
    if (a.unsupported) notSimulated[a.logicalId] = a.unsupported;
    else
      for (const q of a.queries) {
        if (!q.metric) continue;
        const r = resolveMetric(q.metric, model);
        if (typeof r === 'string') {
          notSimulated[a.logicalId] = r;
          break;
        }
      }
  }
  const trigger: string[] = [];
  if (plane === 'code') trigger.push(...(model.codeDeploy?.alarms ?? []));
  else {
    const expand = (id: string, seen: Set<string>): void => {
      if (seen.has(id)) return;
      seen.add(id);
      const c = model.composites.find((x) => x.logicalId === id);
      if (c) c.rule.children.forEach((child) => expand(child, seen));
      else trigger.push(id);
    };
    for (const m of model.appConfig?.monitors ?? []) expand(m, new Set());
  }
  return { simulated: model.alarms.filter((a) => !notSimulated[a.logicalId]).map((a) => a.logicalId), notSimulated, trigger: [...new Set(trigger)] };
}

class Stats {
  n = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  vals?: number[];
  add(v: number, keep: boolean) {
    this.n++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (keep) {
      this.vals ??= [];
      this.vals.push(v);
    }
  }
}

/** A statistic over one period, as CloudWatch computes it; undefined when the period has no sample. */
export function statistic(s: Stats | undefined, stat: string): Point {
  if (!s || s.n === 0) return undefined;
  switch (stat) {
    case 'Sum':
      return s.sum;
    case 'Average':
      return s.sum / s.n;
    case 'SampleCount':
      return s.n;
    case 'Minimum':
      return s.min;
    case 'Maximum':
      return s.max;
  }
  const p = /^p(\d+(?:\.\d+)?)$/.exec(stat);
  if (!p) throw new Error(`statistic ${stat} is not simulated`);
  const sorted = [...(s.vals ?? [])].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((Number(p[1]) / 100) * sorted.length) - 1)];
}

function needsValues(stat: string): boolean {
  return /^p\d/.test(stat);
}

/** Where requests' outcomes come from: the runtime itself, or a resampled capture of it. */
export interface OutcomeSource {
  /** Outcomes for the requests of one second, in order. */
  outcomes(requests: readonly { version: string; faulty: boolean; faultAge: number; isNew: boolean }[], random: () => number): Outcome[] | Promise<Outcome[]>;
  /** Latency to add to a resampled outcome (latency creep). */
  readonly extraLatency?: (faulty: boolean, faultAge: number) => number;
}

interface Compiled {
  readonly alarms: readonly DrillAlarm[];
  readonly series: readonly SeriesSpec[];
  /** Per alarm, per query id: the series key. */
  readonly feeds: ReadonlyMap<string, ReadonlyMap<string, string>>;
  readonly coverage: AlarmCoverage;
  readonly steps: TrafficSteps;
  readonly fullAt: number;
  readonly endAt: number;
  readonly reaction: number;
  readonly ingestion: number;
  readonly warmup: number;
  /** Each outcome's value per series (NaN: not written), computed once: pools are resampled many times. */
  readonly vectors: WeakMap<Outcome, Float64Array>;
}

function compile(setup: SimulationSetup): Compiled {
  const { model, scenario } = setup;
  const timing = { ...DEFAULT_TIMING, ...setup.timing };
  const coverage = alarmCoverage(model, scenario.plane);
  const deployment = scenario.plane === 'code' ? model.codeDeploy : model.appConfig;
  if (!deployment)
    throw new Error(
      scenario.plane === 'code'
        ? 'the template has no CodeDeploy deployment group: nothing shifts code traffic (drill the config plane with --plane config)'
        : 'the template has no AppConfig environment with monitors and a deployment strategy: nothing rolls config back',
    );
  // Only the alarms that decide this plane's rollback are evaluated (the others cannot change the outcome).
  const wanted = new Set(coverage.trigger);
  const alarms = model.alarms.filter((a) => wanted.has(a.logicalId) && !coverage.notSimulated[a.logicalId]);
  const series = new Map<string, SeriesSpec>();
  const feeds = new Map<string, Map<string, string>>();
  for (const a of alarms) {
    const f = new Map<string, string>();
    for (const q of a.queries) {
      if (!q.metric) continue;
      const r = resolveMetric(q.metric, model);
      if (typeof r === 'string') continue;
      const key = `${r.name}|${r.scope}|${a.periodSeconds}`;
      const prev = series.get(key);
      series.set(key, {
        key,
        period: a.periodSeconds,
        scope: r.scope,
        pick: r.pick,
        values: (prev?.values ?? false) || needsValues(q.metric.stat),
        latency: r.name === METRIC.LATENCY || r.name === 'Lambda.Duration',
      });
      f.set(q.id, key);
    }
    feeds.set(a.logicalId, f);
  }
  const warmup = Math.max(60, ...alarms.map((a) => a.periodSeconds * evaluationRange(a.evaluationPeriods)));
  const fullAt = deployment.fullAtSeconds;
  const endAt = 'endSeconds' in deployment ? deployment.endSeconds : deployment.fullAtSeconds;
  return {
    alarms,
    series: [...series.values()],
    feeds,
    coverage,
    steps: deployment.steps,
    fullAt,
    endAt,
    reaction: scenario.plane === 'code' ? timing.codeDeployReactionSeconds : timing.appConfigReactionSeconds,
    ingestion: timing.metricIngestionSeconds,
    warmup,
    vectors: new WeakMap(),
  };
}

function weightAt(steps: TrafficSteps, t: number): number {
  if (t < 0) return 0;
  let w = 0;
  for (const [at, pct] of steps) if (t >= at) w = pct;
  return w / 100;
}

/**
 * One run. Generic over where outcomes come from, so a single run can go through the runtime (async) and a Monte
 * Carlo run can resample captured outcomes (sync, fast). Returns a promise only when the source does.
 */
function runOnce(c: Compiled, setup: SimulationSetup, source: OutcomeSource, seed: number, keepSeries: boolean): RunResult | Promise<RunResult> {
  const { scenario } = setup;
  const random = rng(seed);
  const tail = setup.tailSeconds ?? 300;
  const horizon = c.endAt + tail;
  const phase = scenario.phaseSeconds ?? 0;
  // Aggregates: series key -> period index -> stats.
  const agg = new Map<string, Map<number, Stats>>(c.series.map((s) => [s.key, new Map()]));
  const datapoints = new Map<string, Map<number, Point>>(c.alarms.map((a) => [a.logicalId, new Map()]));
  const states = new Map<string, AlarmState>(c.alarms.map((a) => [a.logicalId, 'OK']));
  const changes: StateChange[] = [];
  let detectedAt: number | undefined;
  let detectedBy: string | undefined;
  let rollbackAt: number | undefined;
  let badServed = 0;
  let firstBadAt: number | undefined;
  let newServed = 0;
  let totalServed = 0;
  let carry = 0;
  let carryNew = 0;
  const weights: [number, number][] = [];
  const periodIndex = (t: number, p: number) => Math.floor((t + phase) / p);
  const periodStart = (k: number, p: number) => k * p - phase;

  const datapoint = (a: DrillAlarm, k: number): Point => {
    const cache = datapoints.get(a.logicalId) as Map<number, Point>;
    if (cache.has(k)) return cache.get(k);
    const feed = c.feeds.get(a.logicalId) as ReadonlyMap<string, string>;
    const values: Record<string, Point> = {};
    for (const q of a.queries) if (q.metric) values[q.id] = statistic(agg.get(feed.get(q.id) as string)?.get(k), q.metric.stat);
    // Expressions may read expressions: evaluate until every one has run (listed order first).
    const pending = a.queries.filter((q) => q.expression);
    for (let guard = 0; pending.length > 0 && guard < 10; guard++) {
      for (let i = 0; i < pending.length; i++) {
        const q = pending[i];
        if (q.expression?.ids.every((id) => id in values)) {
          values[q.id] = q.expression.evaluate(values);
          pending.splice(i--, 1);
        }
      }
    }
    const v = values[a.resultId];
    cache.set(k, v);
    return v;
  };

  const evaluate = (t: number) => {
    for (const a of c.alarms) {
      const cadence = evaluationCadenceSeconds(a.periodSeconds);
      if (t % cadence !== 0) continue;
      const P = a.periodSeconds;
      // The newest period whose datapoint is visible: ended, plus the ingestion delay.
      const kmax = Math.floor((t - c.ingestion + phase) / P) - 1;
      const r = evaluationRange(a.evaluationPeriods);
      const range: Point[] = [];
      for (let k = kmax - r + 1; k <= kmax; k++) range.push(periodStart(k, P) < -c.warmup ? undefined : datapoint(a, k));
      const before = states.get(a.logicalId) as AlarmState;
      const after = evaluateAlarm(range, a, before);
      if (after !== before) {
        states.set(a.logicalId, after);
        changes.push({ t, alarm: a.logicalId, from: before, to: after });
      }
    }
    if (rollbackAt !== undefined || t < 0) return;
    // Code: any deployment-group alarm in ALARM. Config: a monitor (composite or metric) in ALARM or INSUFFICIENT_DATA.
    let firing: string | undefined;
    if (scenario.plane === 'code') firing = c.alarms.find((a) => states.get(a.logicalId) === 'ALARM')?.logicalId;
    else {
      for (const m of setup.model.appConfig?.monitors ?? []) {
        const comp = setup.model.composites.find((x) => x.logicalId === m);
        const state = (id: string): AlarmState => states.get(id) ?? 'OK';
        const s = comp ? (comp.rule.test(state) ? 'ALARM' : 'OK') : state(m);
        if (s !== 'OK') {
          firing = comp ? (c.alarms.find((a) => states.get(a.logicalId) === 'ALARM')?.logicalId ?? m) : m;
          break;
        }
      }
    }
    if (firing && detectedAt === undefined) {
      detectedAt = t;
      detectedBy = firing;
      // The deployment service reacts while the deployment still watches its alarms.
      if (t + c.reaction <= c.endAt) rollbackAt = t + c.reaction;
    }
  };

  const finish = (): RunResult => {
    const series: Record<string, { t: number; v: Point }[]> = {};
    if (keepSeries)
      for (const a of c.alarms) {
        const P = a.periodSeconds;
        const list: { t: number; v: Point }[] = [];
        for (let k = periodIndex(-c.warmup, P) + 1; periodStart(k + 1, P) <= horizon; k++) list.push({ t: periodStart(k, P), v: datapoint(a, k) });
        series[a.logicalId] = list;
      }
    return {
      scenario: scenario.name,
      detectedAt,
      detectedBy,
      rollbackAt,
      caughtBeforeFull: rollbackAt !== undefined && rollbackAt <= c.fullAt,
      caught: rollbackAt !== undefined,
      badServed,
      firstBadAt,
      newServed,
      totalServed,
      fullAt: c.fullAt,
      endAt: c.endAt,
      horizon,
      changes,
      series,
      weight: weights,
    };
  };

  const gap = scenario.metricsGap;
  const extra = source.extraLatency;
  const vectorOf = (o: Outcome): Float64Array => {
    let v = c.vectors.get(o);
    if (!v) {
      v = new Float64Array(c.series.length);
      for (let j = 0; j < c.series.length; j++) v[j] = c.series[j].pick(o, 0) ?? Number.NaN;
      c.vectors.set(o, v);
    }
    return v;
  };
  const statsAt = (j: number, t: number): Stats => {
    const s = c.series[j];
    const per = agg.get(s.key) as Map<number, Stats>;
    const k = periodIndex(t, s.period);
    let st = per.get(k);
    if (!st) {
      st = new Stats();
      per.set(k, st);
    }
    return st;
  };
  const record = (t: number, reqs: { faulty: boolean; faultAge: number; isNew: boolean }[], outs: readonly Outcome[]) => {
    const lost = gap !== undefined && t >= gap.fromSeconds && t < gap.toSeconds;
    // One second's requests share their periods: look each series' stats up once.
    const stats: (Stats | undefined)[] = [];
    for (let i = 0; i < outs.length; i++) {
      const o = outs[i];
      const r = reqs[i];
      totalServed++;
      if (r.isNew) newServed++;
      if (o.bad && r.faulty) {
        badServed++;
        firstBadAt ??= t;
      }
      if (lost) continue;
      const x = extra ? extra(r.faulty, r.faultAge) : 0;
      const vec = vectorOf(o);
      const isNew = o.version === 'new';
      for (let j = 0; j < vec.length; j++) {
        const s = c.series[j];
        if (s.scope === 'new' && !isNew) continue;
        let v = vec[j];
        if (Number.isNaN(v)) continue;
        if (x !== 0 && s.latency) v += x;
        let st = stats[j];
        if (!st) {
          st = statsAt(j, t);
          stats[j] = st;
        }
        st.add(v, s.values);
      }
    }
  };

  const arrivals = (t: number) => {
    const w = rollbackAt !== undefined && t >= rollbackAt ? 0 : weightAt(c.steps, t);
    if (weights.length === 0 || weights[weights.length - 1][1] !== w * 100) weights.push([t, w * 100]);
    const reqs: { version: string; faulty: boolean; faultAge: number; isNew: boolean }[] = [];
    const faultAge = t - scenario.fault.startSeconds;
    const faultOn = scenario.fault.kind !== 'none' && faultAge >= 0;
    const add = (isNew: boolean) =>
      reqs.push({
        // The config plane keeps one code version: the new config shows only in the service-wide metrics.
        version: isNew && scenario.plane === 'code' ? 'new' : 'stable',
        faulty: isNew && faultOn,
        faultAge,
        isNew,
      });
    if (scenario.arrivals === 'uniform') {
      carry += scenario.ratePerSecond;
      const n = Math.floor(carry + 1e-9);
      carry -= n;
      for (let i = 0; i < n; i++) {
        carryNew += w;
        const isNew = carryNew >= 1 - 1e-9;
        if (isNew) carryNew -= 1;
        add(isNew);
      }
    } else {
      const n = poisson(scenario.ratePerSecond, random);
      for (let i = 0; i < n; i++) add(w > 0 && random() < w);
    }
    return reqs;
  };

  const start = -c.warmup;
  // Synchronous sources run in one loop; an async one (the runtime) awaits each second.
  let t = start;
  const step = (outs: readonly Outcome[], reqs: { faulty: boolean; faultAge: number; isNew: boolean }[]) => {
    record(t, reqs, outs);
    t++;
    evaluate(t);
  };
  const first = arrivals(t);
  const out = source.outcomes(first, random);
  if (out instanceof Promise) {
    return (async () => {
      let reqs = first;
      let outs = await out;
      for (;;) {
        step(outs, reqs);
        if (t >= horizon) return finish();
        reqs = arrivals(t);
        outs = await source.outcomes(reqs, random);
      }
    })();
  }
  let reqs = first;
  let outs: readonly Outcome[] = out;
  for (;;) {
    step(outs, reqs);
    if (t >= horizon) return finish();
    reqs = arrivals(t);
    outs = source.outcomes(reqs, random) as Outcome[];
  }
}

function baselineOf(s: DrillScenario): Baseline {
  return { ...DEFAULT_BASELINE, ...s.baseline };
}

/** A single run with every request served by the real runtime (its EMF captured from stdout). */
export async function runThroughRuntime(setup: SimulationSetup, seed = 1): Promise<RunResult> {
  const c = compile(setup);
  const harness = new RuntimeHarness(serviceOf(setup.model));
  const base = baselineOf(setup.scenario);
  const fault = setup.scenario.fault;
  const source: OutcomeSource = {
    outcomes: (reqs, random) =>
      harness.serve(reqs.map((r) => ({ version: r.version, plan: planRequest(base, r.faulty ? fault : undefined, r.faultAge, random) }))),
  };
  return runOnce(c, setup, source, seed, true) as Promise<RunResult>;
}

/** The service name the alarms watch (their Service dimension), for the runtime's EMF. */
export function serviceOf(model: DrillModel): string {
  for (const a of model.alarms)
    for (const q of a.queries) if (q.metric?.namespace === 'AiRelease' && q.metric.dimensions.Service) return q.metric.dimensions.Service;
  return 'service';
}

/** Outcomes captured from the runtime once per scenario, resampled per request (Monte Carlo). */
export interface CapturedOutcomes {
  readonly stable: readonly Outcome[];
  readonly healthyNew: readonly Outcome[];
  readonly faultyNew: readonly Outcome[];
}

/**
 * Runs the real runtime `perClass` times for each kind of request (stable, new and healthy, new and faulty) and keeps
 * the outcomes its EMF reports. Latency creep is captured without the creep and added per request at its time.
 */
export async function captureOutcomes(setup: SimulationSetup, perClass = 1000, seed = 7): Promise<CapturedOutcomes> {
  const harness = new RuntimeHarness(serviceOf(setup.model));
  const random = rng(seed);
  const base = baselineOf(setup.scenario);
  const fault = setup.scenario.fault;
  const codeNew = setup.scenario.plane === 'code' ? 'new' : 'stable';
  const batch = (version: string, faulty: boolean) =>
    harness.serve(Array.from({ length: perClass }, () => ({ version, plan: planRequest(base, faulty ? fault : undefined, 0, random) })));
  return {
    stable: await batch('stable', false),
    healthyNew: await batch(codeNew, false),
    faultyNew: fault.kind === 'none' ? await batch(codeNew, false) : await batch(codeNew, true),
  };
}

function resampling(captured: CapturedOutcomes, fault: Fault): OutcomeSource {
  const pick = (pool: readonly Outcome[], random: () => number) => pool[Math.floor(random() * pool.length)];
  return {
    outcomes: (reqs, random) => reqs.map((r) => pick(r.faulty ? captured.faultyNew : r.isNew ? captured.healthyNew : captured.stable, random)),
    extraLatency: fault.kind === 'latency-creep' ? (faulty, age) => (faulty ? (fault.size * age) / 60 : 0) : undefined,
  };
}

/** A single run from captured outcomes (fast; same simulation as the Monte Carlo). */
export function runResampled(setup: SimulationSetup, captured: CapturedOutcomes, seed = 1, keepSeries = true): RunResult {
  return runOnce(compile(setup), setup, resampling(captured, setup.scenario.fault), seed, keepSeries) as RunResult;
}

export interface MonteCarloResult {
  readonly scenario: string;
  readonly runs: number;
  readonly caughtBeforeFull: number;
  readonly caught: number;
  /** Share of runs caught before full rollout, with a 95 % Wilson interval. */
  readonly pCaughtBeforeFull: number;
  readonly ci95: readonly [number, number];
  /** Seconds from the first bad request, over runs with an ALARM / a rollback. */
  readonly detectMedian?: number;
  readonly detectP90?: number;
  readonly rollbackMedian?: number;
  readonly badServedMean: number;
  readonly badServedP90: number;
  readonly elapsedMs: number;
}

/** N seeded runs (seeds 1..N, each with its own period phase) from one capture of the runtime's outcomes. */
export function monteCarlo(setup: SimulationSetup, captured: CapturedOutcomes, runs = 1000): MonteCarloResult {
  const t0 = Date.now();
  const c = compile(setup);
  const source = resampling(captured, setup.scenario.fault);
  const maxPeriod = Math.max(10, ...c.alarms.map((a) => a.periodSeconds));
  let caughtBeforeFull = 0;
  let caught = 0;
  const detect: number[] = [];
  const rollback: number[] = [];
  const bad: number[] = [];
  for (let i = 1; i <= runs; i++) {
    const phase = setup.scenario.phaseSeconds ?? Math.floor(rng(i * 7919)() * maxPeriod);
    const r = runOnce(c, { ...setup, scenario: { ...setup.scenario, phaseSeconds: phase } }, source, i, false) as RunResult;
    if (r.caughtBeforeFull) caughtBeforeFull++;
    if (r.caught) caught++;
    // From the first bad request (from the fault's start when none was served before the alarm).
    const from = r.firstBadAt ?? setup.scenario.fault.startSeconds;
    if (r.detectedAt !== undefined) detect.push(r.detectedAt - from);
    if (r.rollbackAt !== undefined) rollback.push(r.rollbackAt - from);
    bad.push(r.badServed);
  }
  const q = (xs: number[], p: number) => (xs.length === 0 ? undefined : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]);
  return {
    scenario: setup.scenario.name,
    runs,
    caughtBeforeFull,
    caught,
    pCaughtBeforeFull: caughtBeforeFull / runs,
    ci95: wilson(caughtBeforeFull, runs),
    detectMedian: q(detect, 0.5),
    detectP90: q(detect, 0.9),
    rollbackMedian: q(rollback, 0.5),
    badServedMean: bad.reduce((a, b) => a + b, 0) / runs,
    badServedP90: q(bad, 0.9) ?? 0,
    elapsedMs: Date.now() - t0,
  };
}

/** 95 % Wilson score interval of k successes in n trials. */
export function wilson(k: number, n: number): [number, number] {
  if (n === 0) return [0, 1];
  const z = 1.96;
  const p = k / n;
  const d = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / d;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
