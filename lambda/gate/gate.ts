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
import type { GateEvaluationSettings, GateEvaluationSummary } from '../shared/contract';
import type { EvaluationConfig } from '../shared/evaluation';
import {
  caseCriteria,
  caseEvaluationProblem,
  comparePair,
  DEFAULT_PAIRWISE,
  type GateEvaluator,
  type GateEvaluatorPorts,
  GateSpend,
  evaluateReplay,
  isEvaluatedCase,
  pairwiseDecision,
  casePreference,
  type PairOutcome,
  pairwiseRuleText,
  passRuleText,
  type ReplayAnswer,
  replayAnswer,
  replayOutcome,
} from './evaluate';
import { judge } from './judge';
import type { Clock, GateStore, InvokeResult, Invoker, LogSink } from './ports';
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
  /** The evaluator (issue 17 E): judges cases that carry a reference answer or rubric floors. @default none */
  readonly evaluation?: GateEvaluationPorts;
}

/** What the gate's evaluator needs: the model, the live evaluation section, the model id it may call, its settings. */
export interface GateEvaluationPorts {
  readonly evaluator: GateEvaluatorPorts;
  /** The LIVE environment's evaluation section (undefined: it has none); a rejection is an unreadable section. */
  readonly liveEvaluation: () => Promise<EvaluationConfig | undefined>;
  readonly modelId: string;
  readonly settings: GateEvaluationSettings;
}

/** The evaluator's state for one run: on, no live section (evaluated cases judged without it), or unreadable. */
type EvaluationState =
  | { readonly state: 'on'; readonly ev: GateEvaluator; readonly settings: GateEvaluationSettings; readonly label: string }
  | { readonly state: 'absent' }
  | { readonly state: 'unreadable'; readonly reason: string };

async function evaluationState(p: GateEvaluationPorts | undefined): Promise<EvaluationState | undefined> {
  if (!p) return undefined;
  let live: EvaluationConfig | undefined;
  try {
    live = await p.liveEvaluation();
  } catch (e) {
    return { state: 'unreadable', reason: `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`.slice(0, 200) };
  }
  if (!live) return { state: 'absent' };
  return {
    state: 'on',
    ev: { ports: p.evaluator, live, modelId: p.modelId, spend: new GateSpend(p.settings.maxUsd) },
    settings: p.settings,
    label: live.version ?? 'unlabelled',
  };
}

/** Loads the cases, replays them against the target and judges them: the report, not yet written. */
export async function runGate(run: GateRun, settings: GateSettings, ports: GatePorts): Promise<GateReport> {
  const startedAt = ports.clock.now();
  const selection = await selectCases(ports.store, run.service, { cap: settings.caseCap, candidates: settings.candidates });
  const ev = await evaluationState(ports.evaluation);
  const replay = await replayAll(run, selection.cases, settings, ports, ev);
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
    ...(ports.evaluation ? { evaluation: evaluationSummary(run, ports.evaluation, ev, selection.cases, replay.results) } : {}),
  });
}

/** The report's evaluation part: what judged, what it cost, and the pairwise decision. */
function evaluationSummary(
  run: GateRun,
  p: GateEvaluationPorts,
  ev: EvaluationState | undefined,
  cases: readonly SelectedCase[],
  results: readonly GateCaseResult[],
): GateEvaluationSummary {
  const evaluatedCases = cases.filter((s) => isEvaluatedCase(s.c.expectation)).length;
  const notes: string[] = [];
  if (ev?.state === 'absent')
    notes.push('the live config has no evaluation section: cases with a reference answer or rubric floors were judged on their other expectations only');
  if (ev?.state === 'unreadable') notes.push(`the live evaluation section could not be read (${ev.reason}): evaluated cases were not run`);
  if (ev?.state === 'on' && ev.ev.live.evaluatorModel.modelId !== p.modelId)
    notes.push(
      `the live section names the evaluator model ${ev.ev.live.evaluatorModel.modelId}; the gate called ${p.modelId}, the one its role is granted (this release's section)`,
    );
  const pairwise = p.settings.pairwise && run.plane === 'config' ? { ...DEFAULT_PAIRWISE, ...p.settings.pairwise } : undefined;
  const paired =
    pairwise && ev?.state === 'on'
      ? (() => {
          const d = pairwiseDecision(
            results.flatMap((r) => (r.paired ? [r.paired] : [])),
            pairwise,
          );
          return { ...d, maxLossRate: pairwise.maxLossRate, alpha: pairwise.alpha, perSide: p.settings.k, rule: pairwiseRuleText(p.settings.k) };
        })()
      : undefined;
  if (p.settings.pairwise && run.plane === 'code') notes.push('pairwise comparison is a config gate feature; the code gate does not run it');
  return {
    rubric: ev?.state === 'on' ? ev.label : ev?.state === 'absent' ? 'none (no live evaluation section)' : 'unreadable',
    evaluatorModel: p.modelId,
    replays: { k: p.settings.k, rule: passRuleText(p.settings.pass, p.settings.k) },
    evaluatedCases,
    spentUsd: ev?.state === 'on' ? Math.round(ev.ev.spend.spentUsd * 1e6) / 1e6 : 0,
    capUsd: p.settings.maxUsd,
    ...(ev?.state === 'on' && ev.ev.spend.capReached ? { capReached: true } : {}),
    ...(paired ? { paired } : {}),
    notes,
  };
}

/** Replays every case with at most `concurrency` in flight, each bounded by its timeout and by the run's deadline. */
export async function replayAll(
  run: GateRun,
  cases: readonly SelectedCase[],
  settings: GateSettings,
  ports: GatePorts,
  ev?: EvaluationState,
): Promise<{ results: GateCaseResult[]; deadlineReached: boolean }> {
  const results: GateCaseResult[] = new Array(cases.length);
  let deadlineReached = false;
  let next = 0;
  type Attempt =
    | { readonly ok: true; readonly r: InvokeResult; readonly elapsedMs: number }
    | { readonly ok: false; readonly outcome: 'failed' | 'not-run'; readonly reason: string; readonly latencyMs?: number; readonly deadline?: boolean };
  /** One invocation, bounded by the case timeout and the run's deadline. */
  const attempt = async (qualifier: string, payload: string): Promise<Attempt> => {
    const left = run.deadline - ports.clock.now();
    if (left <= 0) {
      deadlineReached = true;
      return { ok: false, outcome: 'not-run', reason: 'the gate reached its deadline before this case', deadline: true };
    }
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
      const r = await Promise.race([ports.invoker.invoke(qualifier, payload, controller.signal), timeout]);
      if (r === 'timeout') {
        if (cutByDeadline) {
          deadlineReached = true;
          return { ok: false, outcome: 'not-run', reason: `the gate reached its deadline while this case ran (${budget} ms)`, deadline: true };
        }
        return {
          ok: false,
          outcome: 'failed',
          reason: `timeout: no answer within the gate's case timeout of ${settings.caseTimeoutMs} ms`,
          latencyMs: budget,
        };
      }
      return { ok: true, r, elapsedMs: ports.clock.now() - started };
    } catch (e) {
      // The invocation itself failed (throttled after retries, denied…): the version was not judged on this case.
      const err = e as { name?: string; message?: string };
      return { ok: false, outcome: 'not-run', reason: `invoke failed: ${err?.name ?? 'Error'}: ${(err?.message ?? String(e)).slice(0, 200)}` };
    } finally {
      clearTimeout(timer);
    }
  };
  const pairwiseOn = run.plane === 'config' && ev?.state === 'on' && ev.settings.pairwise !== undefined;
  /**
   * Config gate, pairwise, k answers per side (evaluate.ts casePreference states the rule): the candidate's answers
   * this case already gave (its evaluated replays), topped up to k with more candidate replays; k answers of the live
   * config to the same input, from the version that answered (never an alias); answer i against answer i, both orders.
   */
  const pair = async (
    payload: string,
    answered: readonly ReplayAnswer[],
  ): Promise<{ paired: NonNullable<GateCaseResult['paired']>; pairs?: NonNullable<GateCaseResult['pairs']> } | undefined> => {
    if (!pairwiseOn || ev?.state !== 'on') return undefined;
    const k = ev.settings.k;
    const candidates = answered.slice(0, k);
    while (candidates.length < k && run.deadline - ports.clock.now() > 0) {
      const a = await attempt(run.target.qualifier, payload);
      const more = a.ok && !a.r.functionError ? replayAnswer(a.r.payload) : undefined;
      if (!more) break;
      candidates.push(more);
    }
    if (candidates.length === 0) return { paired: 'unscored' };
    // The version number the candidate ran on: through it the runtime reads the live config (only `gate` reads the
    // candidate one) and honours the replay ClientContext. Anything else (an alias, $LATEST) is never invoked.
    const version = candidates[0].codeVersion;
    if (!version || !/^[0-9]+$/.test(version)) return { paired: 'unscored' };
    const comparisons = await Promise.all(
      candidates.map(async (candidate): Promise<PairOutcome> => {
        const a = await attempt(version, payload);
        if (!a.ok || a.r.functionError) return 'unscored';
        const live = replayAnswer(a.r.payload);
        if (!live) return 'unscored';
        return (await comparePair(inputText(payload), candidate, live, ev.ev)).outcome;
      }),
    );
    const { outcome, ...pairs } = casePreference(comparisons);
    return { paired: outcome, pairs };
  };
  const one = async (s: SelectedCase): Promise<GateCaseResult> => {
    const base = { caseId: s.c.caseId, state: s.c.state, kinds: s.c.kinds, blocking: s.blocking };
    if (run.deadline - ports.clock.now() <= 0) {
      deadlineReached = true;
      return { ...base, outcome: 'not-run', reasons: ['the gate reached its deadline before this case'] };
    }
    const payload = replayPayload(s.c.input);
    if (payload === undefined)
      return { ...base, outcome: 'not-run', reasons: ['the recorded input is not JSON (it was cut when recorded): retire the case or re-record it'] };
    const e = s.c.expectation ?? {};
    const evaluated = isEvaluatedCase(e);
    if (evaluated && ev?.state === 'unreadable')
      return { ...base, outcome: 'not-run', reasons: [`evaluator: the live evaluation section could not be read (${ev.reason}); the case was not judged`] };
    if (evaluated && ev?.state === 'on') return evaluatedCase(s, base, payload, ev);
    const a = await attempt(run.target.qualifier, payload);
    if (!a.ok) return { ...base, outcome: a.outcome, reasons: [a.reason], ...(a.latencyMs !== undefined ? { latencyMs: a.latencyMs } : {}) };
    const j = judge(s.c, a.r, a.elapsedMs);
    const notJudged = evaluated
      ? [
          `note: the case's ${e.reference !== undefined ? 'reference answer' : 'rubric floors'} were not judged (${ev ? 'the live config has no evaluation section' : 'the gate has no evaluator: the release config has no evaluation section, or regressionGate.evaluation is false'})`,
        ]
      : [];
    const first = a.r.functionError ? undefined : replayAnswer(a.r.payload);
    const paired = await pair(payload, first ? [first] : []);
    return {
      ...base,
      outcome: j.passed ? 'passed' : 'failed',
      reasons: [...j.reasons, ...notJudged],
      latencyMs: Math.round(j.latencyMs),
      ...(paired ?? {}),
    };
  };
  /** A case the evaluator judges: replayed up to k times (stopping once the rule is decided), passing by the rule. */
  const evaluatedCase = async (
    s: SelectedCase,
    base: Pick<GateCaseResult, 'caseId' | 'state' | 'kinds' | 'blocking'>,
    payload: string,
    st: Extract<EvaluationState, { state: 'on' }>,
  ): Promise<GateCaseResult> => {
    const e = s.c.expectation ?? {};
    const problem = caseEvaluationProblem(e);
    if (problem) return { ...base, outcome: 'failed', reasons: [`${problem}; fix the case`] };
    const { criteria, problems, notes } = caseCriteria(e, st.ev.live);
    if (problems.length > 0) return { ...base, outcome: 'failed', reasons: problems };
    const { k, pass } = st.settings;
    let run_ = 0;
    let passed = 0;
    const reasons: string[] = [];
    const scores = new Map<string, number[]>();
    let latency: number | undefined;
    const answers: ReplayAnswer[] = [];
    for (let i = 0; i < k && replayOutcome(pass, k, run_, passed) === 'not-run'; i++) {
      const a = await attempt(run.target.qualifier, payload);
      if (!a.ok) {
        if (a.outcome === 'failed') {
          run_++;
          reasons.push(`replay ${i + 1}: ${a.reason}`);
          continue;
        }
        reasons.push(`replay ${i + 1} not run: ${a.reason}`);
        if (a.deadline) break;
        continue;
      }
      run_++;
      const j = judge(s.c, a.r, a.elapsedMs);
      latency = Math.max(latency ?? 0, Math.round(j.latencyMs));
      const failures = j.passed ? [] : j.reasons.filter((r) => !r.startsWith('note:'));
      const answer = a.r.functionError ? undefined : replayAnswer(a.r.payload);
      if (answer) answers.push(answer);
      if (j.passed && answer) {
        const r = await evaluateReplay(inputText(payload), answer, criteria, e.reference, st.ev);
        for (const sc of r.scores) scores.set(sc.criterion, [...(scores.get(sc.criterion) ?? []), sc.score]);
        failures.push(...r.reasons);
      } else if (j.passed) failures.push('evaluator: the replay gave no answer to score');
      if (failures.length === 0) passed++;
      else reasons.push(`replay ${i + 1}: ${failures.slice(0, 3).join('; ')}`);
    }
    const outcome = replayOutcome(pass, k, run_, passed);
    const paired = await pair(payload, answers);
    return {
      ...base,
      outcome,
      reasons: [`${passed}/${run_} replays passed (rule: ${passRuleText(pass, k)})`, ...reasons.slice(0, 5), ...notes],
      ...(latency !== undefined ? { latencyMs: latency } : {}),
      replays: { k, run: run_, passed, rule: passRuleText(pass, k) },
      scores: criteria
        .map((c) => {
          const xs = [...(scores.get(c.rubric.criterion) ?? [])].sort((x, y) => x - y);
          return {
            criterion: c.rubric.criterion,
            min: xs[0] ?? Number.NaN,
            median: xs.length ? xs[Math.floor((xs.length - 1) / 2)] : Number.NaN,
            floor: c.floor,
            n: xs.length,
          };
        })
        .filter((x) => x.n > 0),
      ...(paired ?? {}),
    };
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

/** The question the evaluator reads: the input's `question` (or `input`, `prompt`) string when it has one, else the JSON. */
export function inputText(payload: string): string {
  try {
    const o = JSON.parse(payload) as Record<string, unknown> | null;
    for (const k of ['question', 'input', 'prompt', 'message']) if (o && typeof o === 'object' && typeof o[k] === 'string') return o[k] as string;
  } catch {
    // not JSON: the text itself
  }
  return payload;
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
  readonly evaluation?: GateEvaluationSummary;
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
  const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
  const pairedFailed = f.evaluation?.paired?.failed === true;
  const verdict: GateReport['verdict'] = f.error ? 'failed' : blocking.total === 0 ? 'passed-empty' : meets && !pairedFailed ? 'passed' : 'failed';
  const pw = f.evaluation?.paired;
  const pairedText = pw
    ? `; pairwise against the live config: lost ${pw.losses}, won ${pw.wins}, tied ${pw.ties}${pw.unscored ? `, unscored ${pw.unscored}` : ''} (loss rate ${pct(pw.lossRate)} of decided pairs, allowed ${pct(pw.maxLossRate)}; sign test p = ${pw.pValue.toPrecision(2)}, alpha ${pw.alpha}${pw.perSide ? `; ${pw.perSide} answer${pw.perSide === 1 ? '' : 's'} per side and case` : ''})${pw.failed ? ' FAILED' : ''}`
    : '';
  const evalText =
    f.evaluation && f.evaluation.evaluatedCases > 0
      ? `; ${f.evaluation.evaluatedCases} case(s) judged by the evaluator (${f.evaluation.replays.rule}), ${f.evaluation.spentUsd.toFixed(4)} of ${f.evaluation.capUsd} USD${f.evaluation.capReached ? ', cap reached' : ''}`
      : '';
  const keys = gateKeys(run.service, run.releaseKey);
  const target = `${run.target.functionName}:${run.target.qualifier}${run.target.configVersion ? ` (config version ${run.target.configVersion})` : ''}`;
  const summary = f.error
    ? `gate failed for ${target}: ${f.error}`
    : verdict === 'passed-empty'
      ? `gate passed for ${target}: no accepted case to replay yet (first release); ${reported.selected > 0 ? `${reported.passed}/${reported.selected} reported candidates passed` : 'nothing replayed'}`
      : `gate ${verdict} for ${target}: ${blocking.passed}/${blocking.selected} blocking cases passed (${pct(rate)}, required ${pct(settings.passRate)})` +
        `${blocking.failed > 0 ? `, ${blocking.failed} failed` : ''}${blocking.notRun > 0 ? `, ${blocking.notRun} not run` : ''}` +
        `${f.sampled ? `; sampled from ${blocking.total + reported.total}` : ''}${f.deadlineReached ? '; stopped at its deadline' : ''}` +
        `${reported.selected > 0 ? `; candidates ${reported.passed}/${reported.selected} (reported only)` : ''}` +
        evalText +
        pairedText;
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
    ...(f.evaluation ? { evaluation: f.evaluation } : {}),
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
