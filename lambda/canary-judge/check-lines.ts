/**
 * The canary judge reads the runtime's check-result lines (h9-checks): one `ai-release.check-result` line per checked
 * answer in the SERVICE's log group (lambda/runtime/runtime-checks.ts), queried with Logs Insights for the same
 * sample-time windows as the evaluator's result lines (lambda/canary-judge/evaluations.ts) and judged in the same
 * batch, as score observations of the same criteria: one 0/1 score per check, sided by executed version (code plane)
 * or config label (config plane), clustered by conversation, bet at the share the line carries. Pure: no AWS SDK.
 *
 * The runtime writes a line as it answers, so a window's lines are complete once the window is past the ingestion
 * lag; the evaluator's lines decide when a window closes.
 */
import type { ScoreObservation } from '../judge/scores';
import { CHECK_RESULT_TYPE, type CheckResultLine, DETERMINISTIC_CHECKS } from '../shared/evaluation';
import { parseInsightsTimestamp, QUERY_ROW_LIMIT, type QueryRow, type Sides } from './samples';
import { completeLines, resultSide, scoreObservation, typedLine, windowLinesQuery } from './window-lines';

/** Whether a judge's criteria include a deterministic check (then it reads the runtime's check lines). */
export function judgesChecks(criteria: readonly string[]): boolean {
  return criteria.some((c) => (DETERMINISTIC_CHECKS as readonly string[]).includes(c));
}

/**
 * The Logs Insights query for one service's check-result lines with answer time in [fromMs, toMs), oldest first, with
 * each line's log stream: the execution environment that wrote it ("@logStream contains the name of the log stream
 * that the log event was added to",
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_AnalyzeLogData-discoverable-fields.html; a Lambda
 * execution environment writes one stream for its lifetime,
 * https://docs.aws.amazon.com/lambda/latest/operatorguide/log-structure.html).
 */
export function checkResultsQuery(service: string, fromMs: number, toMs: number): string {
  return windowLinesQuery(CHECK_RESULT_TYPE, 'check-result', service, fromMs, toMs, ['@logStream']);
}

/** Parses a check-result line; undefined when the message is not one. */
export function parseCheckMessage(message: string | undefined): CheckResultLine | undefined {
  const x = typedLine<CheckResultLine>(message, CHECK_RESULT_TYPE);
  if (!x) return undefined;
  if (typeof x.requestId !== 'string' || typeof x.functionVersion !== 'string' || typeof x.config !== 'string') return undefined;
  if (typeof x.sampleAt !== 'number' || !Number.isFinite(x.sampleAt) || !x.scores || typeof x.scores !== 'object') return undefined;
  return x as CheckResultLine;
}

export interface CheckWindow {
  readonly scores: readonly ScoreObservation[];
  /** Where the next read starts: `to`, or the last complete millisecond when the row limit was reached. */
  readonly until: number;
  readonly truncated: boolean;
  /** Lines kept (either side), and lines whose version or config is neither side. */
  readonly lines: number;
  readonly unmatched: number;
}

/**
 * The score observations of the check lines with answer time in [from, to) that had arrived by `cut`: one per check of
 * every line on either side, a re-delivered line (same request id) once. At the row limit the window ends before the
 * last answer time read (its lines may be cut off), as `evaluationWindow` does.
 */
export function checkWindow(
  rows: readonly QueryRow[],
  from: number,
  to: number,
  sides: Sides,
  limit = QUERY_ROW_LIMIT,
  cut = Number.POSITIVE_INFINITY,
): CheckWindow {
  const lines: CheckResultLine[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    const line = parseCheckMessage(row.find((c) => c.field === '@message')?.value);
    if (!line || line.sampleAt < from || line.sampleAt >= to || seen.has(line.requestId)) continue;
    const ts = row.find((c) => c.field === '@timestamp')?.value;
    if (ts !== undefined && parseInsightsTimestamp(ts) > cut) continue;
    seen.add(line.requestId);
    // The environment that wrote the line: its log stream (a line that names one itself keeps it).
    const stream = row.find((c) => c.field === '@logStream')?.value;
    lines.push(line.environment === undefined && stream ? { ...line, environment: stream } : line);
  }
  const truncated = rows.length >= limit;
  const { kept, until } = completeLines(lines, to, truncated);
  return { ...checkScores(kept, sides), until, truncated, lines: kept.length };
}

/** The score observations of check lines (those of neither side counted as unmatched). */
export function checkScores(lines: readonly CheckResultLine[], sides: Sides): { scores: ScoreObservation[]; unmatched: number } {
  const scores: ScoreObservation[] = [];
  let unmatched = 0;
  for (const line of lines) {
    const version = resultSide(line, sides);
    if (!version) {
      unmatched++;
      continue;
    }
    for (const [criterion, score] of Object.entries(line.scores))
      if (score === 0 || score === 1) scores.push(scoreObservation(version, criterion, score, line));
  }
  return { scores, unmatched };
}
