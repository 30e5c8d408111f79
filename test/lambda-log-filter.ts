/**
 * A model of what Lambda's advanced logging controls send on to CloudWatch Logs, built from the Lambda documentation
 * (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html, quoted in
 * docs/incoming/h8-loglevel.md):
 *
 * - "your function code must output log events to stdout or stderr as JSON formatted objects that contain a key value
 *   pair with the key "level"" — the runtime's lines are raw JSON on stdout/stderr (Powertools' own Console);
 * - "If the "level" value field is invalid or missing, Lambda will assign the log output the level INFO";
 * - "If you don't supply a valid timestamp, Lambda will assign the log the level INFO";
 * - "When you select a log level, Lambda sends logs at that level and lower" (lower: less detailed).
 *
 * Without an application log level (text format, or none set), Lambda filters nothing. The level value is matched
 * without regard to case (the page's own example writes "debug"). A line that is not JSON counts as INFO.
 */
import { type LambdaLogLevel, lambdaLogLevel, levelRank } from '../lambda/runtime/record-level';

/** RFC 3339 date-time (what Powertools writes: 2026-12-07T13:51:54.000Z, or with an offset under TZ). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The level Lambda assigns one application log line. */
export function lambdaLevelOf(line: string): LambdaLogLevel {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'INFO';
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'INFO';
  const o = v as Record<string, unknown>;
  const level = lambdaLogLevel(o.level);
  if (level === undefined) return 'INFO';
  if (typeof o.timestamp !== 'string' || !RFC3339.test(o.timestamp)) return 'INFO';
  return level;
}

/** Whether Lambda sends `line` on with application log level `alc` (undefined: no log-level filtering). */
export function lambdaKeeps(line: string, alc: LambdaLogLevel | undefined): boolean {
  return alc === undefined || levelRank(lambdaLevelOf(line)) >= levelRank(alc);
}

/** Captured output split into log events (one JSON document per line, as Powertools writes them compact). */
export function linesOf(out: string): string[] {
  return out.split('\n').filter((l) => l.trim() !== '');
}
