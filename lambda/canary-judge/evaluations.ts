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
import { EVALUATION_RESULT_TYPE, type EvaluationResultLine } from '../shared/evaluation';
import type { EvaluationBatch, JudgeEngine } from './engine-port';
import { INGESTION_LAG_MS, QUERY_ROW_LIMIT, type QueryRow, type Sides } from './samples';

/** How long after a sample window ends its evaluation results are read (the evaluator's delay, assumed). */
export const EVALUATION_SETTLE_MS = 120_000;

/**
 * The shortest sample window read: the schedule judges every alarm period (10 s), but evaluation samples are sparse,
 * so their log group is queried at most about once a minute (one more Logs Insights query per minute, not per period).
 */
export const EVALUATION_MIN_WINDOW_MS = 60_000;

/** The Logs Insights query for one service's evaluation results with sample time in [fromMs, toMs), oldest first. */
export function evaluationQuery(service: string, fromMs: number, toMs: number): string {
  if (!/^[a-z0-9-]+$/.test(service)) throw new Error(`service "${service}" is not a service name (lower-case letters, digits and dashes)`);
  if (!(Number.isSafeInteger(fromMs) && Number.isSafeInteger(toMs)))
    throw new Error(`evaluation window [${fromMs}, ${toMs}) is not in whole epoch milliseconds`);
  return [
    'fields @timestamp, @message, sampleAt',
    `| filter type = "${EVALUATION_RESULT_TYPE}" and service = "${service}" and sampleAt >= ${fromMs} and sampleAt < ${toMs}`,
    '| sort sampleAt asc',
    `| limit ${QUERY_ROW_LIMIT}`,
  ].join('\n');
}

/** Parses a result line; undefined when the message is not one (the reason is counted, not thrown). */
export function parseResultMessage(message: string | undefined): EvaluationResultLine | undefined {
  if (!message) return undefined;
  const start = message.indexOf('{');
  if (start < 0) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(message.slice(start));
  } catch {
    return undefined;
  }
  const x = v as Partial<EvaluationResultLine> | null;
  if (x?.type !== EVALUATION_RESULT_TYPE) return undefined;
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
}

/** Which side a result is on: by executed version (code plane) or config label (config plane), never its `arm`. */
export function resultSide(line: EvaluationResultLine, sides: Sides): 'canary' | 'stable' | undefined {
  const v = sides.plane === 'code' ? line.functionVersion : line.config;
  if (v === sides.canary) return 'canary';
  if (sides.plane === 'config') return sides.stable === undefined || v === sides.stable ? 'stable' : undefined;
  return v === sides.stable ? 'stable' : undefined;
}

/**
 * The observations of the results with sample time in [from, to). Scores: one observation per criterion of every
 * result on either side. Paired outcomes: one per canary-side result that carries one (the evaluator pairs canary
 * samples); the paired test counts one per case id. Under `cluster` the conversation keys the scores.
 */
export function evaluationWindow(rows: readonly QueryRow[], from: number, to: number, sides: Sides, limit = QUERY_ROW_LIMIT): EvaluationWindow {
  const lines: EvaluationResultLine[] = [];
  const ids = new Set<string>();
  for (const row of rows) {
    const message = row.find((c) => c.field === '@message')?.value;
    const line = parseResultMessage(message);
    if (!line || line.sampleAt < from || line.sampleAt >= to || ids.has(line.sampleId)) continue;
    ids.add(line.sampleId);
    lines.push(line);
  }
  lines.sort((a, b) => a.sampleAt - b.sampleAt);
  let until = to;
  let kept = lines;
  const truncated = rows.length >= limit;
  if (truncated && lines.length > 0) {
    const last = lines[lines.length - 1].sampleAt;
    const complete = lines.filter((l) => l.sampleAt < last);
    if (complete.length === 0) until = last + 1;
    else {
      kept = complete;
      until = last;
    }
  }
  const scores: ScoreObservation[] = [];
  const paired: PairedObservation[] = [];
  let unmatched = 0;
  for (const line of kept) {
    const version = resultSide(line, sides);
    if (!version) {
      unmatched++;
      continue;
    }
    for (const [criterion, score] of Object.entries(line.scores)) {
      if (typeof score !== 'number' || !Number.isFinite(score)) continue;
      const share = typeof line.share === 'number' && line.share > 0 && line.share < 1 ? line.share : undefined;
      scores.push({
        version,
        criterion,
        score,
        ...(line.conversationId !== undefined ? { cluster: line.conversationId } : {}),
        ...(share !== undefined ? { share } : {}),
      });
    }
    if (version === 'canary' && (line.paired === 'canary' || line.paired === 'stable' || line.paired === 'tie'))
      paired.push({ caseId: line.caseId, outcome: line.paired });
  }
  return { batch: { scores, paired }, until, truncated, results: kept.length, unmatched };
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
  readonly logs: { query(queryString: string, startSec: number, endSec: number, deadline: number): Promise<readonly QueryRow[]> };
  readonly engine: JudgeEngine;
  readonly now: () => number;
}

/**
 * Reads the evaluation results of sample windows that have settled and feeds them to the engine. A regression shown
 * here is the judge's regression (the verdict path is the same). Returns the record unchanged when nothing settled.
 */
export async function judgeEvaluations(
  ports: EvaluationReadPorts,
  service: string,
  options: { readonly criteria: readonly string[]; readonly paired: boolean },
  sides: Sides,
  startAt: number,
  record: JudgeRecord,
  deadline: number,
): Promise<{ record: JudgeRecord; updated: boolean }> {
  const update = ports.engine.updateEvaluation;
  if (!update) throw new Error('the judge engine cannot judge evaluation results (no updateEvaluation)');
  const prior: JudgeEvaluation = record.evaluation ?? { judged: judgedMetrics(options), until: startAt, results: 0, scores: 0, pairs: 0, unmatched: 0 };
  let ev = prior;
  let rec = record;
  let updated = false;
  for (;;) {
    const now = ports.now();
    const to = Math.floor(now - INGESTION_LAG_MS - EVALUATION_SETTLE_MS);
    if (to - ev.until < EVALUATION_MIN_WINDOW_MS || now >= deadline || rec.verdict === 'regression') break;
    const from = Math.floor(ev.until);
    // Results of samples in [from, to) were written from `from` on, up to now.
    const rows = await ports.logs.query(evaluationQuery(service, from, to), Math.floor(from / 1000), Math.ceil(now / 1000), deadline);
    const w = evaluationWindow(rows, from, to, sides);
    if (w.batch.scores.length > 0 || w.batch.paired.length > 0) {
      const u = update(rec.engine, w.batch);
      rec = { ...rec, engine: u.state, evidence: u.evidence, verdict: u.decision === 'regression' ? 'regression' : rec.verdict };
      updated = true;
    }
    ev = {
      ...ev,
      until: w.until,
      results: ev.results + w.results,
      scores: ev.scores + w.batch.scores.length,
      pairs: ev.pairs + w.batch.paired.length,
      unmatched: ev.unmatched + w.unmatched,
    };
    if (!w.truncated) break;
  }
  return { record: { ...rec, evaluation: ev }, updated };
}
