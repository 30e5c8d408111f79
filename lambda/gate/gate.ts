import {
  GATE_METRIC,
  type GateCandidateMode,
  type GateCaseResult,
  type GateReport,
  gateKeys,
  METRIC_NAMESPACE,
  DIMENSION,
  type ReleasePlane,
} from '../shared/contract';
import { judge } from './judge';
import type { Clock, GateStore, Invoker, LogSink } from './ports';
import { renderGateMarkdown } from './render-markdown';
import { type SelectedCase, selectCases } from './select';

export interface GateSettings {
  /** Cases above which a stratified sample is replayed. @default 500 */
  readonly caseCap: number;
  /** Invocations in flight at once. @default 10 */
  readonly concurrency: number;
  /** Longest one replay may take, milliseconds. @default 30000 */
  readonly caseTimeoutMs: number;
  /** Share of the blocking cases that must pass, 0..1. @default 1 */
  readonly passRate: number;
  /** @default 'off' */
  readonly candidates: GateCandidateMode;
}

export const DEFAULT_GATE_SETTINGS: GateSettings = { caseCap: 500, concurrency: 10, caseTimeoutMs: 30_000, passRate: 1, candidates: 'off' };

/** Settings from the function's environment (GATE_ENV values), each checked with the name of the bad variable. */
export function settingsFrom(read: (name: string) => string | undefined, names: Record<keyof GateSettings, string>): GateSettings {
  const num = (key: 'caseCap' | 'concurrency' | 'caseTimeoutMs', min: number) => {
    const raw = read(names[key]);
    if (raw === undefined || raw === '') return DEFAULT_GATE_SETTINGS[key];
    const v = Number(raw);
    if (!Number.isInteger(v) || v < min) throw new Error(`${names[key]} must be an integer of at least ${min}, got "${raw}"`);
    return v;
  };
  const rateRaw = read(names.passRate);
  const passRate = rateRaw === undefined || rateRaw === '' ? 1 : Number(rateRaw);
  if (!(passRate >= 0 && passRate <= 1)) throw new Error(`${names.passRate} must be a number between 0 and 1, got "${rateRaw}"`);
  const candidates = (read(names.candidates) || 'off') as GateCandidateMode;
  if (!['off', 'report', 'block'].includes(candidates)) throw new Error(`${names.candidates} must be off, report or block, got "${candidates}"`);
  return { caseCap: num('caseCap', 1), concurrency: num('concurrency', 1), caseTimeoutMs: num('caseTimeoutMs', 1), passRate, candidates };
}

export interface GateRun {
  readonly service: string;
  readonly plane: ReleasePlane;
  readonly releaseKey: string;
  readonly target: GateReport['target'];
  /** Absolute time (ms) by which every replay must have ended; cases not started by then are not run. */
  readonly deadline: number;
}

export interface GatePorts {
  readonly store: GateStore;
  readonly invoker: Invoker;
  readonly clock: Clock;
}

/** Loads the cases, replays them against the target and judges them: the report, not yet written. */
export async function runGate(run: GateRun, settings: GateSettings, ports: GatePorts): Promise<GateReport> {
  const startedAt = ports.clock.now();
  const selection = await selectCases(ports.store, run.service, { cap: settings.caseCap, candidates: settings.candidates });
  const replay = await replayAll(run, selection.cases, settings, ports);
  // A case file the gate cannot take is a failed case with the reason, never a silent skip (or a crash of the whole gate).
  const unreadable: GateCaseResult[] = selection.problems.map((p) => ({
    caseId: p.caseId,
    state: p.state,
    kinds: [],
    blocking: p.blocking,
    outcome: 'failed',
    reasons: [`case file ${p.key}: ${p.reason}`],
  }));
  return buildReport(run, settings, {
    startedAt,
    endedAt: ports.clock.now(),
    results: [...replay.results, ...unreadable],
    totals: selection.totals,
    sampled: selection.sampled,
    deadlineReached: replay.deadlineReached,
    notes: selection.notes,
  });
}

/** Replays every case with at most `concurrency` in flight, each bounded by its timeout and by the run's deadline. */
export async function replayAll(
  run: GateRun,
  cases: readonly SelectedCase[],
  settings: GateSettings,
  ports: GatePorts,
): Promise<{ results: GateCaseResult[]; deadlineReached: boolean }> {
  const results: GateCaseResult[] = new Array(cases.length);
  let deadlineReached = false;
  let next = 0;
  const one = async (s: SelectedCase): Promise<GateCaseResult> => {
    const base = { caseId: s.c.caseId, state: s.c.state, kinds: s.c.kinds, blocking: s.blocking };
    const left = run.deadline - ports.clock.now();
    if (left <= 0) {
      deadlineReached = true;
      return { ...base, outcome: 'not-run', reasons: ['the gate reached its deadline before this case'] };
    }
    const payload = replayPayload(s.c.input);
    if (payload === undefined)
      return { ...base, outcome: 'not-run', reasons: ['the recorded input is not JSON (it was cut when recorded): retire the case or re-record it'] };
    const budget = Math.min(settings.caseTimeoutMs, left);
    const cutByDeadline = budget < settings.caseTimeoutMs;
    const controller = new AbortController();
    const started = ports.clock.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve('timeout');
      }, budget);
    });
    try {
      const r = await Promise.race([ports.invoker.invoke(run.target.qualifier, payload, controller.signal), timeout]);
      if (r === 'timeout') {
        if (cutByDeadline) {
          deadlineReached = true;
          return { ...base, outcome: 'not-run', reasons: [`the gate reached its deadline while this case ran (${budget} ms)`] };
        }
        return {
          ...base,
          outcome: 'failed',
          reasons: [`timeout: no answer within the gate's case timeout of ${settings.caseTimeoutMs} ms`],
          latencyMs: budget,
        };
      }
      const j = judge(s.c, r, ports.clock.now() - started);
      return { ...base, outcome: j.passed ? 'passed' : 'failed', reasons: j.reasons, latencyMs: Math.round(j.latencyMs) };
    } catch (e) {
      // The invocation itself failed (throttled after retries, denied…): the version was not judged on this case.
      const err = e as { name?: string; message?: string };
      return { ...base, outcome: 'not-run', reasons: [`invoke failed: ${err?.name ?? 'Error'}: ${(err?.message ?? String(e)).slice(0, 200)}`] };
    } finally {
      clearTimeout(timer);
    }
  };
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      results[i] = await one(cases[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(settings.concurrency, cases.length) }, worker));
  return { results, deadlineReached };
}

/** The recorded input as the payload to send: JSON text, or undefined when it is not JSON (cut when recorded). */
export function replayPayload(input: string): string | undefined {
  try {
    JSON.parse(input);
    return input;
  } catch {
    return undefined;
  }
}

interface ReportFacts {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly results: readonly GateCaseResult[];
  readonly totals: { readonly blocking: number; readonly reported: number };
  readonly sampled: boolean;
  readonly deadlineReached: boolean;
  readonly notes?: readonly string[];
  readonly error?: string;
}

/** The report of a run: counts, verdict, one-line summary. */
export function buildReport(run: GateRun, settings: Pick<GateSettings, 'passRate'>, f: ReportFacts): GateReport {
  const count = (blocking: boolean, total: number) => {
    const rs = f.results.filter((r) => r.blocking === blocking);
    return {
      total,
      selected: rs.length,
      passed: rs.filter((r) => r.outcome === 'passed').length,
      failed: rs.filter((r) => r.outcome === 'failed').length,
      notRun: rs.filter((r) => r.outcome === 'not-run').length,
    };
  };
  const blocking = count(true, f.totals.blocking);
  const reported = count(false, f.totals.reported);
  const rate = blocking.selected === 0 ? 1 : blocking.passed / blocking.selected;
  // A tolerance for 0.1 + 0.2 style sums: 99 of 100 meets 0.99.
  const meets = rate + 1e-9 >= settings.passRate;
  const verdict: GateReport['verdict'] = f.error ? 'failed' : blocking.total === 0 ? 'passed-empty' : meets ? 'passed' : 'failed';
  const keys = gateKeys(run.service, run.releaseKey);
  const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
  const target = `${run.target.functionName}:${run.target.qualifier}${run.target.configVersion ? ` (config version ${run.target.configVersion})` : ''}`;
  const summary = f.error
    ? `gate failed for ${target}: ${f.error}`
    : verdict === 'passed-empty'
      ? `gate passed for ${target}: no accepted case to replay yet (first release); ${reported.selected > 0 ? `${reported.passed}/${reported.selected} reported candidates passed` : 'nothing replayed'}`
      : `gate ${verdict} for ${target}: ${blocking.passed}/${blocking.selected} blocking cases passed (${pct(rate)}, required ${pct(settings.passRate)})` +
        `${blocking.failed > 0 ? `, ${blocking.failed} failed` : ''}${blocking.notRun > 0 ? `, ${blocking.notRun} not run` : ''}` +
        `${f.sampled ? `; sampled from ${blocking.total + reported.total}` : ''}${f.deadlineReached ? '; stopped at its deadline' : ''}` +
        `${reported.selected > 0 ? `; candidates ${reported.passed}/${reported.selected} (reported only)` : ''}`;
  // Failures first, then not run, then passes: the top of the report is what to look at.
  const order = { failed: 0, 'not-run': 1, passed: 2 } as const;
  const cases = [...f.results].sort((a, b) => Number(b.blocking) - Number(a.blocking) || order[a.outcome] - order[b.outcome]);
  return {
    schemaVersion: 1,
    service: run.service,
    plane: run.plane,
    releaseKey: run.releaseKey,
    target: run.target,
    verdict,
    requiredPassRate: settings.passRate,
    blocking,
    reported,
    sampled: f.sampled,
    deadlineReached: f.deadlineReached,
    ...(f.error ? { error: f.error } : {}),
    startedAt: new Date(f.startedAt).toISOString(),
    endedAt: new Date(f.endedAt).toISOString(),
    summary: f.notes && f.notes.length > 0 && !f.error ? `${summary} (${f.notes.join('; ')})` : summary,
    cases,
    objects: keys,
  };
}

/** Markdown first, JSON last: a report whose JSON exists is whole (what the config extension and the CLI read). */
export async function writeReport(store: GateStore, report: GateReport): Promise<void> {
  await store.put(report.objects.md, renderGateMarkdown(report));
  await store.put(report.objects.json, `${JSON.stringify(report, null, 2)}\n`);
}

/**
 * The gate metrics as one EMF line (CloudWatch extracts them from the function's log): no API call and no extra
 * permission on the path that must answer CodeDeploy, and the metric arrives with the log line that explains it.
 */
export function gateMetricLine(report: GateReport, now: number): string {
  const rate = report.blocking.selected === 0 ? 1 : report.blocking.passed / report.blocking.selected;
  return JSON.stringify({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [[DIMENSION.SERVICE]],
          Metrics: [
            { Name: GATE_METRIC.PASSED, Unit: 'None' },
            { Name: GATE_METRIC.PASS_RATE, Unit: 'None' },
          ],
        },
      ],
    },
    [DIMENSION.SERVICE]: report.service,
    [GATE_METRIC.PASSED]: report.verdict === 'failed' ? 0 : 1,
    [GATE_METRIC.PASS_RATE]: rate,
    plane: report.plane,
    releaseKey: report.releaseKey,
    verdict: report.verdict,
  });
}

export type { LogSink };
