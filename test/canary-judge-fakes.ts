/** Fakes for the canary judge's ports: a virtual clock, a synthetic EMF stream behind a Logs Insights port, a small engine. */
import type {
  ConfigDeploymentInfo,
  ConfigVersionsPort,
  DeploymentsPort,
  JudgePorts,
  LogsPort,
  StatePort,
  VerdictPort,
} from '../lambda/canary-judge/canary-judge';
import type { JudgeBatch, JudgeEngine, JudgeObservation } from '../lambda/canary-judge/engine-port';
import type { QueryRow } from '../lambda/canary-judge/samples';
import type { JudgeRecord, ReleasePlane } from '../lambda/shared/contract';

export const T0 = Date.parse('2026-11-27T09:00:00.000Z');

export class VirtualClock {
  public t = T0;
  now = () => this.t;
  sleep = async (ms: number) => {
    this.t += ms;
  };
}

/** One invocation line of the synthetic stream. */
export interface Line {
  readonly at: number;
  readonly version?: string;
  readonly config?: string;
  readonly error?: boolean;
  readonly latencyMs?: number;
  /** The input's case id (retries of one input share it). */
  readonly caseId?: string;
  /** The execution environment that wrote the line (JUDGE_CLUSTER_FIELD.ENVIRONMENT). */
  readonly environment?: string;
}

/** `2026-11-27 09:00:00.123`, as Logs Insights prints @timestamp. */
export const insightsTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

export function rowOf(l: Line): QueryRow {
  return [
    { field: '@timestamp', value: insightsTime(l.at) },
    ...(l.version !== undefined ? [{ field: 'Version', value: l.version }] : []),
    ...(l.config !== undefined ? [{ field: 'config', value: l.config }] : []),
    ...(l.error ? [{ field: 'Errors', value: '1' }] : []),
    { field: 'Latency', value: String(l.latencyMs ?? 100) },
    { field: 'CostUsd', value: '0.001' },
    ...(l.caseId !== undefined ? [{ field: 'caseId', value: l.caseId }] : []),
    ...(l.environment !== undefined ? [{ field: 'environment', value: l.environment }] : []),
  ];
}

/** A Logs Insights port over a list of lines: inclusive second range, oldest first, row limit, and a call log. */
export class StreamLogs implements LogsPort {
  public readonly calls: { startSec: number; endSec: number; rows: number }[] = [];
  public fail?: Error;
  constructor(
    public lines: Line[],
    private readonly limit = 10_000,
  ) {}
  async query(_q: string, startSec: number, endSec: number): Promise<readonly QueryRow[]> {
    if (this.fail) throw this.fail;
    const rows = this.lines
      .filter((l) => l.at >= startSec * 1000 && l.at < (endSec + 1) * 1000)
      .sort((a, b) => a.at - b.at)
      .slice(0, this.limit)
      .map(rowOf);
    this.calls.push({ startSec, endSec, rows: rows.length });
    return rows;
  }
}

/** Lines at `rps` from `from` to `to`: every `canaryEvery`-th on the canary; errors by a deterministic pattern. */
export function traffic(o: {
  from: number;
  to: number;
  rps: number;
  canary: string;
  stable: string;
  canaryShare: number;
  canaryErrorEvery?: number;
  stableErrorEvery?: number;
  field?: 'version' | 'config';
}): Line[] {
  const out: Line[] = [];
  const step = 1000 / o.rps;
  let c = 0;
  let s = 0;
  let acc = 0;
  for (let t = o.from; t < o.to; t += step) {
    acc += o.canaryShare;
    const onCanary = acc >= 1;
    if (onCanary) acc -= 1;
    const n = onCanary ? ++c : ++s;
    const every = onCanary ? o.canaryErrorEvery : o.stableErrorEvery;
    const label = onCanary ? o.canary : o.stable;
    out.push({ at: Math.floor(t), ...(o.field === 'config' ? { config: label, version: '7' } : { version: label }), error: every ? n % every === 0 : false });
  }
  return out;
}

/**
 * A small, transparent engine for the wiring's tests (the real one is h-stats'): regression once the canary has at
 * least `minErrors` errors and its error rate is over `ratio` times the stable one; no regression shown once each side
 * has `enough` observations without it; inconclusive otherwise. It records every batch it was given.
 */
export function fakeEngine(o: { minErrors?: number; ratio?: number; enough?: number } = {}) {
  const batches: JudgeBatch[] = [];
  type S = { alpha: number; c: { n: number; e: number }; s: { n: number; e: number }; regression: boolean };
  const engine: JudgeEngine = {
    newJudgeState: (opts) => ({ alpha: opts?.alpha ?? 0.01, c: { n: 0, e: 0 }, s: { n: 0, e: 0 }, regression: false }) satisfies S,
    updateJudge(state, batch) {
      batches.push(batch);
      const st = JSON.parse(JSON.stringify(state)) as S;
      for (const ob of batch.observations as JudgeObservation[]) {
        const side = ob.version === 'canary' ? st.c : st.s;
        side.n++;
        if (ob.error) side.e++;
      }
      const rate = (x: { n: number; e: number }) => (x.n === 0 ? 0 : x.e / x.n);
      if (st.c.e >= (o.minErrors ?? 5) && rate(st.c) > (o.ratio ?? 2) * Math.max(rate(st.s), 0.001)) st.regression = true;
      return {
        state: st,
        decision: st.regression ? 'regression' : 'continue',
        evidence: [
          {
            metric: 'errors',
            eValue: st.regression ? 150 : 1,
            threshold: 1 / st.alpha,
            canary: { n: st.c.n, value: rate(st.c) },
            stable: { n: st.s.n, value: rate(st.s) },
          },
        ],
      };
    },
    concludeJudge(state) {
      const st = state as S;
      if (st.regression) return 'regression';
      return st.c.n >= (o.enough ?? Number.POSITIVE_INFINITY) ? 'no-regression-shown' : 'inconclusive';
    },
  };
  return { engine, batches };
}

export class MemoryState implements StatePort {
  public readonly objects = new Map<string, JudgeRecord>();
  public saves = 0;
  async load(key: string) {
    const r = this.objects.get(key);
    return r ? (JSON.parse(JSON.stringify(r)) as JudgeRecord) : undefined;
  }
  async save(key: string, record: JudgeRecord) {
    this.saves++;
    this.objects.set(key, JSON.parse(JSON.stringify(record)));
  }
}

export class FakeDeployments implements DeploymentsPort {
  public readonly answers: { deploymentId: string; executionId: string; status: string; at: number }[] = [];
  public listCalls = 0;
  public failAnswers = 0;
  public failWith?: Error;
  constructor(
    private readonly clock: VirtualClock,
    public deployments: {
      id: string;
      current: string;
      target: string;
      createdAt?: number;
      trafficStartedAt?: number;
      rollbackOf?: string;
      creator?: string;
      trafficCompleteAt?: number;
      inProgress?: boolean;
    }[] = [],
  ) {}
  async inProgress() {
    this.listCalls++;
    return this.deployments.filter((d) => d.inProgress !== false).map((d) => d.id);
  }
  async describe(id: string) {
    const d = this.deployments.find((x) => x.id === id);
    if (!d) throw new Error(`no deployment ${id}`);
    return d;
  }
  async answerHook(deploymentId: string, executionId: string, status: 'Succeeded' | 'Failed') {
    if (this.failAnswers > 0) {
      this.failAnswers--;
      throw this.failWith ?? new Error('ThrottlingException');
    }
    this.answers.push({ deploymentId, executionId, status, at: this.clock.now() });
  }
}

export class FakeVerdicts implements VerdictPort {
  public readonly published: { plane: ReleasePlane; value: 0 | 1; at: number }[] = [];
  /** The cannot-judge metric's datapoints. */
  public readonly health: { plane: ReleasePlane; value: 0 | 1; at: number }[] = [];
  constructor(private readonly clock: VirtualClock) {}
  async publish(plane: ReleasePlane, value: 0 | 1) {
    this.published.push({ plane, value, at: this.clock.now() });
  }
  async cannotJudge(plane: ReleasePlane, value: 0 | 1) {
    this.health.push({ plane, value, at: this.clock.now() });
  }
}

export function fakePorts(
  o: {
    lines?: Line[];
    engine?: JudgeEngine;
    deployments?: FakeDeployments['deployments'];
    labels?: Record<string, string>;
    limit?: number;
    rollouts?: ConfigDeploymentInfo[];
  } = {},
) {
  const clock = new VirtualClock();
  const logs = new StreamLogs(o.lines ?? [], o.limit);
  const state = new MemoryState();
  const deployments = new FakeDeployments(clock, o.deployments);
  const verdict = new FakeVerdicts(clock);
  const labelCalls: string[] = [];
  const configVersions: ConfigVersionsPort = {
    async label(profile, version) {
      labelCalls.push(`${profile}:${version}`);
      const l = o.labels?.[version];
      if (!l) throw new Error(`no label for version ${version}`);
      return l;
    },
  };
  /** The live environment's config rollouts in progress (mutable: a test ends one by emptying it). */
  const rollouts: ConfigDeploymentInfo[] = [...(o.rollouts ?? [])];
  const configDeployments = { listCalls: 0, inProgress: async () => (configDeployments.listCalls++, [...rollouts]) };
  const logged: { message: string; extra?: Record<string, unknown> }[] = [];
  const fe = o.engine ? { engine: o.engine, batches: [] as JudgeBatch[] } : fakeEngine();
  const ports: JudgePorts = {
    logs,
    state,
    deployments,
    configVersions,
    configDeployments,
    verdict,
    clock,
    engine: fe.engine,
    log: (message, extra) => logged.push({ message, extra }),
  };
  return { ports, clock, logs, state, deployments, verdict, labelCalls, logged, batches: fe.batches, rollouts, configDeployments };
}
