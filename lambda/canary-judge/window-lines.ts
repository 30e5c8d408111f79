/**
 * What the canary judge's two log readers share (the evaluator's result lines, lambda/canary-judge/evaluations.ts, and
 * the runtime's check-result lines, lambda/canary-judge/check-lines.ts): the windowed Logs Insights query, the JSON
 * of a line, which side a line is on, where a window ends at the row limit, and a score observation. Pure: no AWS SDK.
 */
import type { ScoreObservation } from '../judge/scores';
import { QUERY_ROW_LIMIT, type Sides } from './samples';

/** The Logs Insights query for one service's lines of `type` with answer time `sampleAt` in [fromMs, toMs), oldest first. */
export function windowLinesQuery(type: string, what: string, service: string, fromMs: number, toMs: number, extraFields: readonly string[] = []): string {
  if (!/^[a-z0-9-]+$/.test(service)) throw new Error(`service "${service}" is not a service name (lower-case letters, digits and dashes)`);
  if (!(Number.isSafeInteger(fromMs) && Number.isSafeInteger(toMs))) throw new Error(`${what} window [${fromMs}, ${toMs}) is not in whole epoch milliseconds`);
  return [
    `fields @timestamp, @message, sampleAt${extraFields.map((f) => `, ${f}`).join('')}`,
    `| filter type = "${type}" and service = "${service}" and sampleAt >= ${fromMs} and sampleAt < ${toMs}`,
    '| sort sampleAt asc',
    `| limit ${QUERY_ROW_LIMIT}`,
  ].join('\n');
}

/** The JSON object of a log message whose `type` is `type` (a text-format prefix before it allowed); else undefined. */
export function typedLine<T>(message: string | undefined, type: string): Partial<T> | undefined {
  if (!message) return undefined;
  const start = message.indexOf('{');
  if (start < 0) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(message.slice(start));
  } catch {
    return undefined;
  }
  return (v as { type?: unknown } | null)?.type === type ? (v as Partial<T>) : undefined;
}

/** Which side a line is on: by executed version (code plane) or config label (config plane), never its `arm`. */
export function resultSide(line: { readonly functionVersion: string; readonly config: string }, sides: Sides): 'canary' | 'stable' | undefined {
  const v = sides.plane === 'code' ? line.functionVersion : line.config;
  if (v === sides.canary) return 'canary';
  if (sides.plane === 'config') return sides.stable === undefined || v === sides.stable ? 'stable' : undefined;
  return v === sides.stable ? 'stable' : undefined;
}

/**
 * A window's lines in answer-time order, and where the window ends: at the row limit the lines of the last answer time
 * read may be cut off, so the window ends before it (or just after it when it is the only one, so the next read moves on).
 */
export function completeLines<L extends { readonly sampleAt: number }>(lines: L[], to: number, truncated: boolean): { kept: L[]; until: number } {
  lines.sort((a, b) => a.sampleAt - b.sampleAt);
  if (!truncated || lines.length === 0) return { kept: lines, until: to };
  const last = lines[lines.length - 1].sampleAt;
  const complete = lines.filter((l) => l.sampleAt < last);
  return complete.length === 0 ? { kept: lines, until: last + 1 } : { kept: complete, until: last };
}

/**
 * One score of a line as the engine takes it: clustered by the line's conversation, bet at its share when inside
 * (0, 1), with the execution environment that answered when the line names one (a non-empty string).
 */
export function scoreObservation(
  version: 'canary' | 'stable',
  criterion: string,
  score: number,
  line: { readonly conversationId?: string; readonly share?: number; readonly environment?: unknown },
): ScoreObservation {
  const share = typeof line.share === 'number' && line.share > 0 && line.share < 1 ? line.share : undefined;
  return {
    version,
    criterion,
    score,
    ...(line.conversationId !== undefined ? { cluster: line.conversationId } : {}),
    ...(share !== undefined ? { share } : {}),
    ...(typeof line.environment === 'string' && line.environment !== '' ? { environment: line.environment } : {}),
  };
}
