/**
 * The canary judge reads the evaluator's results (issue 17 E): one `ai-release.evaluation-result` line per evaluated
 * sample in the platform evaluator's log group, queried with Logs Insights next to the runtime's log group (a second
 * query on a second log group: the lines have other fields, arrive later, and the evaluator serves several services).
 * Pure: no AWS SDK here; the query runs through a LogsPort bound to the evaluator's log group.
 *
 * Windows by SAMPLE time, not by when the evaluator wrote: scores compared in one batch come from answers given in the
 * same time window. A sample is scored some time after it was answered (the log subscription's delivery, model calls,
 * for a canary sample two shadow answers and two comparisons), and a canary sample takes longer than a stable one, so
 * a window is read only once EVALUATION_SETTLE_MS have passed after its end: reading earlier would favour the faster
 * arm's results in the batch and make the label depend on arrival. Results written later than that are not judged
 * (an assumption: no documented bound exists; the record counts what was read).
 */
import type { PairedObservation } from '../judge/paired';
import type { ScoreObservation } from '../judge/scores';
import type { JudgeEvaluation, JudgeRecord } from '../shared/contract';
import { EVALUATION_RESULT_TYPE, EVALUATION_SAMPLE_TYPE, type EvaluationResultLine } from '../shared/evaluation';
import { LEGACY_REFUSAL_CHECK, upgradeResultScores } from '../shared/score-keys';
import { type CheckWindow, checkResultsQuery, checkWindow } from './check-lines';
import type { EvaluationBatch, JudgeEngine } from './engine-port';
import { INGESTION_LAG_MS, parseInsightsTimestamp, QUERY_ROW_LIMIT, type QueryRow, type Sides } from './samples';
import { completeLines, resultSide, scoreObservation, typedLine, windowLinesQuery } from './window-lines';

export { resultSide } from './window-lines';

/**
 * The evaluator's typical delay the planner and the card assume (answer to result line, a canary's pair included).
 * Since h7-judgeev the judge no longer cuts at it: a window waits for its own samples' results (`judgeEvaluations`).
 */
export const EVALUATION_SETTLE_MS = 120_000;

/**
 * The longest a sample window waits for its outstanding results after it ends (`CanaryJudgeProps.evaluationMaxWait`,
 * env JUDGE_ENV.EVALUATION_MAX_WAIT_SECONDS). The bound actually used is derived from the delays measured in this
 * release (`evaluationWaitBound`) and never exceeds this.
 */
export const DEFAULT_EVALUATION_MAX_WAIT_MS = 300_000;
/** The shortest wait bound, however fast the evaluator measured. */
export const EVALUATION_MIN_WAIT_MS = 60_000;
/** Delays measured before the bound is derived from them (before: the maximum wait). */
export const EVALUATION_MIN_DELAYS = 50;
/** The measured delays are kept as a histogram of this bucket width (bounded memory in the record). */
export const DELAY_BUCKET_MS = 10_000;
/** Open windows are polled at most this often (two Logs Insights queries a poll, one more for late results). */
export const EVALUATION_POLL_MS = 30_000;
/** Closed windows remembered (their cut), so a late result is recognised; older ones count as closed before any scan. */
export const EVALUATION_CUTS_CAP = 1_000;

/**
 * The shortest sample window read: the schedule judges every alarm period (10 s), but evaluation samples are sparse,
 * so their log group is queried at most about once a minute (one more Logs Insights query per minute, not per period).
 */
export const EVALUATION_MIN_WINDOW_MS = 60_000;

/** The Logs Insights query for one service's evaluation results with sample time in [fromMs, toMs), oldest first. */
export function evaluationQuery(service: string, fromMs: number, toMs: number): string {
  return windowLinesQuery(EVALUATION_RESULT_TYPE, 'evaluation', service, fromMs, toMs);
}

/**
 * The Logs Insights query for one service's evaluation SAMPLE lines (the runtime's, in the service's log group): which
 * samples were taken, so the judge knows which results it waits for. Only ids, sides and times are read.
 */
export function sampleLinesQuery(service: string): string {
  if (!/^[a-z0-9-]+$/.test(service)) throw new Error(`service "${service}" is not a service name (lower-case letters, digits and dashes)`);
  return [
    'fields @timestamp, sampleId, functionVersion, tuple.config, time',
    `| filter type = "${EVALUATION_SAMPLE_TYPE}" and service = "${service}"`,
    `| limit ${QUERY_ROW_LIMIT}`,
  ].join('\n');
}

/** The ids of the samples taken in [from, to) on either side, or undefined when the read hit the row limit (unknown). */
export function expectedSamples(rows: readonly QueryRow[], from: number, to: number, sides: Sides): Set<string> | undefined {
  if (rows.length >= QUERY_ROW_LIMIT) return undefined;
  const ids = new Set<string>();
  for (const row of rows) {
    const get = (f: string) => row.find((c) => c.field === f)?.value;
    const id = get('sampleId');
    const at = Date.parse(get('time') ?? '');
    const functionVersion = get('functionVersion');
    const config = get('tuple.config');
    if (!id || !Number.isFinite(at) || at < from || at >= to || functionVersion === undefined || config === undefined) continue;
    if (resultSide({ functionVersion, config }, sides)) ids.add(id);
  }
  return ids;
}

/**
 * The wait bound for a window's outstanding results, in ms after its end: twice the 99th percentile of the delays
 * measured in this release (results read in time and late ones alike), at least EVALUATION_MIN_WAIT_MS, at most
 * `maxWaitMs`; the maximum until EVALUATION_MIN_DELAYS delays are measured. Twice p99: with an exponential tail, a
 * result later than that has chance about 1e-4, so a window of 30 samples closes incomplete about 0.3 % of the time.
 */
export function evaluationWaitBound(delays: readonly (readonly [number, number])[] | undefined, maxWaitMs: number): number {
  const n = (delays ?? []).reduce((a, [, c]) => a + c, 0);
  if (n < EVALUATION_MIN_DELAYS) return maxWaitMs;
  const sorted = [...(delays ?? [])].sort((a, b) => a[0] - b[0]);
  let seen = 0;
  let p99 = maxWaitMs;
  for (const [bucket, c] of sorted) {
    seen += c;
    if (seen >= 0.99 * n) {
      p99 = (bucket + 1) * DELAY_BUCKET_MS;
      break;
    }
  }
  return Math.min(maxWaitMs, Math.max(EVALUATION_MIN_WAIT_MS, 2 * p99));
}

function addDelays(h: readonly (readonly [number, number])[] | undefined, delays: readonly number[]): [number, number][] {
  const m = new Map<number, number>(h ?? []);
  for (const d of delays) {
    const b = Math.max(0, Math.floor(d / DELAY_BUCKET_MS));
    m.set(b, (m.get(b) ?? 0) + 1);
  }
  return [...m.entries()].sort((a, b) => a[0] - b[0]);
}

/** Parses a result line; undefined when the message is not one (the reason is counted, not thrown). */
export function parseResultMessage(message: string | undefined): EvaluationResultLine | undefined {
  const x = typedLine<EvaluationResultLine>(message, EVALUATION_RESULT_TYPE);
  if (!x) return undefined;
  if (typeof x.sampleId !== 'string' || typeof x.caseId !== 'string' || typeof x.functionVersion !== 'string' || typeof x.config !== 'string') return undefined;
  if (typeof x.sampleAt !== 'number' || !Number.isFinite(x.sampleAt) || !x.scores || typeof x.scores !== 'object') return undefined;
  return x as EvaluationResultLine;
}

export interface EvaluationWindow {
  readonly batch: EvaluationBatch;
  /** Where the next read starts: the window's end, or the cut when the row limit was reached. */
  readonly until: number;
  readonly truncated: boolean;
  readonly results: number;
  /** Results whose version or config label is neither side. */
  readonly unmatched: number;
  /** The sample ids of the results kept (either side). */
  readonly ids: ReadonlySet<string>;
  /** Each kept result's delay: when its line was written (`@timestamp`) minus its sample time. */
  readonly delays: readonly number[];
}

/**
 * The observations of the results with sample time in [from, to). Scores: one observation per criterion of every
 * result on either side. Paired outcomes: one per canary-side result that carries one (the evaluator pairs canary
 * samples); the paired test counts one per case id. Under `cluster` the conversation keys the scores.
 */
export function evaluationWindow(
  rows: readonly QueryRow[],
  from: number,
  to: number,
  sides: Sides,
  limit = QUERY_ROW_LIMIT,
  cut = Number.POSITIVE_INFINITY,
  /** Whether the judge judges a refusal RUBRIC (`refusal` among its criteria): how an old line's `refusal` is read. */
  refusalRubricJudged = false,
): EvaluationWindow {
  const lines: EvaluationResultLine[] = [];
  const ids = new Set<string>();
  const written = new Map<string, number>();
  for (const row of rows) {
    const message = row.find((c) => c.field === '@message')?.value;
    const line = parseResultMessage(message);
    if (!line || line.sampleAt < from || line.sampleAt >= to || ids.has(line.sampleId)) continue;
    // Arrived by the cut (the judge's rule, fixed before it reads): a later line is late, whatever it says.
    const ts = row.find((c) => c.field === '@timestamp')?.value;
    const at = ts === undefined ? undefined : parseInsightsTimestamp(ts);
    if (at !== undefined && at > cut) continue;
    ids.add(line.sampleId);
    if (at !== undefined) written.set(line.sampleId, at);
    lines.push(line);
  }
  const truncated = rows.length >= limit;
  const { kept, until } = completeLines(lines, to, truncated);
  const scores: ScoreObservation[] = [];
  const paired: PairedObservation[] = [];
  let unmatched = 0;
  for (const line of kept) {
    const version = resultSide(line, sides);
    if (!version) {
      unmatched++;
      continue;
    }
    // Lines written before the refusal check had a key of its own read as today's (score-keys.ts).
    for (const [criterion, score] of Object.entries(upgradeResultScores(line.scores, refusalRubricJudged))) {
      if (typeof score === 'number' && Number.isFinite(score)) scores.push(scoreObservation(version, criterion, score, line));
    }
    if (version === 'canary' && (line.paired === 'canary' || line.paired === 'stable' || line.paired === 'tie'))
      paired.push({ caseId: line.caseId, outcome: line.paired });
  }
  const keptIds = new Set(kept.map((l) => l.sampleId));
  const delays: number[] = [];
  for (const l of kept) {
    const at = written.get(l.sampleId);
    if (at !== undefined) delays.push(Math.max(0, at - l.sampleAt));
  }
  return { batch: { scores, paired }, until, truncated, results: kept.length, unmatched, ids: keptIds, delays };
}

/** The evaluation metrics of a judge's settings, as the record names them. */
export function judgedMetrics(options: { readonly criteria: readonly string[]; readonly paired: boolean }): string[] {
  return [...options.criteria.map((c) => `evaluation:${c}`), ...(options.paired ? ['evaluation:paired'] : [])];
}

/** Parses the JUDGE_ENV.EVALUATION_METRICS list (`groundedness,relevance,paired`); the error names the bad entry. */
export function parseEvaluationMetrics(text: string): { criteria: string[]; paired: boolean } {
  const names = text
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
  for (const n of names)
    if (!/^[a-z][a-z0-9-]{0,39}$/.test(n))
      throw new Error(`evaluation metric "${n}" is not a criterion name or "paired"; use e.g. groundedness,relevance,paired`);
  return { criteria: names.filter((n) => n !== 'paired'), paired: names.includes('paired') };
}

export interface EvaluationReadPorts {
  /** Logs Insights on the evaluator's log group (its result lines). */
  readonly logs: { query(queryString: string, startSec: number, endSec: number, deadline: number): Promise<readonly QueryRow[]> };
  /**
   * Logs Insights on the service's log group (the runtime's sample lines): which samples were taken, so a window waits
   * only for its own outstanding results. Absent: every window waits the full bound.
   */
  readonly samples?: { query(queryString: string, startSec: number, endSec: number, deadline: number): Promise<readonly QueryRow[]> };
  /**
   * Logs Insights on the service's log group for the runtime's check-result lines (h9-checks, check-lines.ts), judged
   * in each window's batch beside the evaluator's results. Absent: only the evaluator's check scores are judged.
   */
  readonly checks?: { query(queryString: string, startSec: number, endSec: number, deadline: number): Promise<readonly QueryRow[]> };
  readonly engine: JudgeEngine;
  readonly now: () => number;
}

export interface EvaluationReadOptions {
  readonly criteria: readonly string[];
  readonly paired: boolean;
  /** The longest a window waits for its outstanding results after it ends. @default DEFAULT_EVALUATION_MAX_WAIT_MS */
  readonly maxWaitMs?: number;
}

/** The closed window a sample time falls in (its cut), or undefined when it is older than the windows remembered. */
function cutOf(cuts: readonly (readonly [number, number])[], sampleAt: number): number | undefined {
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cuts[mid][0] > sampleAt) hi = mid;
    else lo = mid + 1;
  }
  return lo < cuts.length ? cuts[lo][1] : undefined;
}

/**
 * Reads the evaluation results of sample windows and feeds them to the engine (h7-judgeev). A result belongs to the
 * window of its SAMPLE's time. A window of EVALUATION_MIN_WINDOW_MS closes once every sample taken in it (the runtime's
 * sample lines) has its result, or once the wait bound (`evaluationWaitBound`, at most `maxWaitMs`) has passed after its
 * end; then the results that had arrived by the cut (now minus the ingestion lag) are judged, once. Which results
 * count depends only on arrival times and counts, never on what they say. A result arriving after its window closed
 * is late: not judged (the window's evidence is spent), counted in the record by side (`late`), and in the review,
 * which reads every stored evaluation. A regression shown here is the judge's regression (the same verdict path).
 */
export async function judgeEvaluations(
  ports: EvaluationReadPorts,
  service: string,
  options: EvaluationReadOptions,
  sides: Sides,
  startAt: number,
  record: JudgeRecord,
  deadline: number,
): Promise<{ record: JudgeRecord; updated: boolean }> {
  const update = ports.engine.updateEvaluation;
  if (!update) throw new Error('the judge engine cannot judge evaluation results (no updateEvaluation)');
  const maxWaitMs = options.maxWaitMs ?? DEFAULT_EVALUATION_MAX_WAIT_MS;
  if (!(Number.isFinite(maxWaitMs) && maxWaitMs > 0)) throw new Error(`judge evaluation maxWaitMs must be a positive number of ms, got ${maxWaitMs}`);
  const prior: JudgeEvaluation = record.evaluation ?? { judged: judgedMetrics(options), until: startAt, results: 0, scores: 0, pairs: 0, unmatched: 0 };
  let ev = prior;
  let rec = record;
  let updated = false;
  const first = ports.now();
  if (ev.polledAt !== undefined && first - ev.polledAt < EVALUATION_POLL_MS) return { record: { ...rec, evaluation: ev }, updated };
  let polled = false;
  for (;;) {
    const now = ports.now();
    const cut = Math.floor(now - INGESTION_LAG_MS);
    const from = Math.floor(ev.until);
    let to = from + EVALUATION_MIN_WINDOW_MS;
    // The window is over and its sample lines are searchable; a regression is final.
    if (to > cut || now >= deadline || rec.verdict === 'regression') break;
    polled = true;
    // Results of samples in [from, to) were written from `from` on, up to the cut.
    const rows = await ports.logs.query(evaluationQuery(service, from, to), Math.floor(from / 1000), Math.ceil(cut / 1000), deadline);
    let w = evaluationWindow(rows, from, to, sides, QUERY_ROW_LIMIT, cut, options.criteria.includes(LEGACY_REFUSAL_CHECK));
    to = w.until;
    const bound = evaluationWaitBound(ev.delays, maxWaitMs);
    let expected: Set<string> | undefined;
    if (ports.samples) {
      const lines = await ports.samples.query(sampleLinesQuery(service), Math.floor(from / 1000) - 1, Math.ceil(to / 1000) + 1, deadline);
      expected = expectedSamples(lines, from, to, sides);
    }
    // Complete: every sample taken has its result, and no result without a sample line (then the lines are unknown).
    const arrived = expected ? [...expected].filter((id) => w.ids.has(id)).length : 0;
    const complete = expected !== undefined && arrived === expected.size && [...w.ids].every((id) => expected.has(id));
    if (!complete && cut < to + bound) break;
    // The runtime's check lines of the same answer times (written as it answered, so complete past the ingestion lag),
    // read once, when the window closes.
    let checks: CheckWindow | undefined;
    if (ports.checks) {
      const lines = await ports.checks.query(checkResultsQuery(service, from, to), Math.floor(from / 1000) - 1, Math.ceil(to / 1000) + 1, deadline);
      checks = checkWindow(lines, from, to, sides, QUERY_ROW_LIMIT, cut);
      // Their row limit cut the window shorter: the evaluator's results (complete up to the longer end) are cut there too.
      if (checks.until < to) {
        to = checks.until;
        w = evaluationWindow(rows, from, to, sides, Number.POSITIVE_INFINITY, cut);
      }
    }
    const batch: EvaluationBatch = checks && checks.scores.length > 0 ? { scores: [...w.batch.scores, ...checks.scores], paired: w.batch.paired } : w.batch;
    if (batch.scores.length > 0 || batch.paired.length > 0) {
      const u = update(rec.engine, batch);
      rec = { ...rec, engine: u.state, evidence: u.evidence, verdict: u.decision === 'regression' ? 'regression' : rec.verdict };
      updated = true;
    }
    const cuts = [...(ev.cuts ?? []), [to, cut] as const].slice(-EVALUATION_CUTS_CAP);
    ev = {
      ...ev,
      until: to,
      results: ev.results + w.results,
      scores: ev.scores + batch.scores.length,
      pairs: ev.pairs + w.batch.paired.length,
      unmatched: ev.unmatched + w.unmatched + (checks?.unmatched ?? 0),
      ...(checks ? { checkLines: (ev.checkLines ?? 0) + checks.lines } : {}),
      windows: { complete: (ev.windows?.complete ?? 0) + (complete ? 1 : 0), atBound: (ev.windows?.atBound ?? 0) + (complete ? 0 : 1) },
      outstanding: (ev.outstanding ?? 0) + (expected ? expected.size - arrived : 0),
      waitMs: bound,
      cuts,
      delays: addDelays(ev.delays, w.delays),
      lateScan: ev.lateScan ?? cut,
    };
  }
  // Results of closed windows that arrived after their cut: late, counted by side (not judged).
  const now = ports.now();
  const cut = Math.floor(now - INGESTION_LAG_MS);
  if (ev.lateScan !== undefined && cut > ev.lateScan && ev.until > startAt && now < deadline && rec.verdict !== 'regression') {
    polled = true;
    const scanFrom = ev.lateScan;
    const rows = await ports.logs.query(
      evaluationQuery(service, Math.floor(startAt), Math.floor(ev.until)),
      Math.floor(scanFrom / 1000),
      Math.ceil(cut / 1000),
      deadline,
    );
    const late = { canary: ev.late?.canary ?? 0, stable: ev.late?.stable ?? 0 };
    const delays: number[] = [];
    const seen = new Set<string>();
    for (const row of rows) {
      const line = parseResultMessage(row.find((c) => c.field === '@message')?.value);
      const ts = row.find((c) => c.field === '@timestamp')?.value;
      if (!line || ts === undefined || line.sampleAt >= ev.until || seen.has(line.sampleId)) continue;
      const at = parseInsightsTimestamp(ts);
      if (!(at > scanFrom && at <= cut)) continue;
      const windowCut = cutOf(ev.cuts ?? [], line.sampleAt);
      if (windowCut !== undefined && at <= windowCut) continue;
      seen.add(line.sampleId);
      const side = resultSide(line, sides);
      if (side) late[side]++;
      delays.push(Math.max(0, at - line.sampleAt));
    }
    ev = { ...ev, late, lateScan: cut, delays: addDelays(ev.delays, delays) };
  }
  if (polled) ev = { ...ev, polledAt: first };
  return { record: { ...rec, evaluation: ev }, updated };
}

/**
 * True while samples taken before `at` still wait in an open window: the AfterAllowTraffic hook does not promote
 * (answer Succeeded on a conclusion) before they are judged, up to its own bound.
 */
export function evaluationPending(record: JudgeRecord, at: number): boolean {
  return record.evaluation !== undefined && record.evaluation.until < at && record.verdict !== 'regression';
}
