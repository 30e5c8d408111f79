import { type ConfigAssignment, FAILURE_KINDS, FAILURE_RECORD_TYPE, type FailureKind, type FailureRecord, type VersionTuple } from '../shared/contract';
import { type Redactor, redactAndCut } from './redact';

export interface FailureRecordInput {
  readonly kinds: readonly FailureKind[];
  readonly service: string;
  readonly requestId: string;
  readonly startedAt: number;
  readonly tuple: VersionTuple;
  readonly measurements: FailureRecord['measurements'];
  readonly input: unknown;
  readonly output?: unknown;
  readonly error?: unknown;
  readonly details?: readonly string[];
  /** The config canary arm (assigned config canaries). */
  readonly assignment?: ConfigAssignment;
}

export interface FailureRecordOptions {
  readonly redactor: Redactor;
  /** Longest input or output kept, characters. */
  readonly maxFieldChars: number;
}

/** One failure record: redacted first, then bounded, so a cut never leaves half a secret behind. */
export function buildFailureRecord(i: FailureRecordInput, o: FailureRecordOptions): FailureRecord {
  if (i.kinds.length === 0) throw new Error('a failure record needs at least one failure kind');
  const kinds = FAILURE_KINDS.filter((k) => i.kinds.includes(k));
  const input = bounded(i.input, o);
  const output = i.output === undefined ? undefined : bounded(i.output, o);
  const error =
    i.error === undefined ? undefined : { name: (i.error as Error)?.name ?? 'Error', message: bounded((i.error as Error)?.message ?? String(i.error), o).text };
  return {
    type: FAILURE_RECORD_TYPE,
    schemaVersion: 1,
    kind: kinds[0],
    kinds,
    service: i.service,
    requestId: i.requestId,
    time: new Date(i.startedAt).toISOString(),
    tuple: i.tuple,
    measurements: i.measurements,
    input: input.text,
    ...(output ? { output: output.text } : {}),
    ...(error ? { error } : {}),
    ...(i.details && i.details.length > 0 ? { details: i.details.slice(0, 10).map((d) => bounded(d, { ...o, maxFieldChars: 500 }).text) } : {}),
    truncated: input.truncated || (output?.truncated ?? false),
    ...(i.assignment ? { assignment: i.assignment } : {}),
  };
}

export const TRUNCATION_MARKER = '…[truncated ';

function bounded(value: unknown, o: FailureRecordOptions): { text: string; truncated: boolean } {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value); // circular structures
  }
  // Redact, then cut (redactAndCut reads a bounded window and drops its unsafe tail, so no value is half cut).
  const r = redactAndCut(text, o.maxFieldChars, o.redactor);
  return { text: r.truncated ? `${r.text}${TRUNCATION_MARKER}${r.omittedChars} chars]` : r.text, truncated: r.truncated };
}
