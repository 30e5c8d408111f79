/**
 * Per-invocation samples from the runtime's EMF log lines (lambda/runtime/powertools-telemetry.ts): one JSON line per
 * invocation with `Service`, `Version` (the executed Lambda version), `Invocations` = 1, `Latency`, `CostUsd`,
 * `QualityScore` (when scored), `Errors` / `SafetyViolations` / `ContractViolations` (only when they happened) and the
 * config label as the `config` property. Logs Insights discovers the fields of JSON log events by itself, so the
 * query names them directly. Pure: no AWS SDK here.
 */
import { ASSIGNMENT_KEY, DIMENSION, JUDGE_CLUSTER_FIELD, METRIC } from '../shared/contract';
import type { JudgeObservation } from './engine-port';

/**
 * Logs Insights returns at most 10,000 rows per query (StartQuery `limit`, CloudWatch Logs quotas): a window with
 * more is judged in slices, oldest first (see `nextUntil`).
 */
export const QUERY_ROW_LIMIT = 10_000;

/**
 * How far behind now a window ends: a log event becomes searchable some seconds after it is written, and an event
 * arriving after its window was queried would never be judged. An assumption (no documented bound), kept small next
 * to the alarm period.
 */
export const INGESTION_LAG_MS = 15_000;

/** The fields one query reads, in order. */
export const QUERY_FIELDS = [
  '@timestamp',
  DIMENSION.VERSION,
  'config',
  METRIC.ERRORS,
  METRIC.SAFETY_VIOLATIONS,
  METRIC.CONTRACT_VIOLATIONS,
  METRIC.LATENCY,
  METRIC.COST_USD,
  METRIC.QUALITY_SCORE,
  // Clusters (failures that arrive together): the input's case id; under per-conversation assignment, the unit
  // (a keyed hash of the conversation) and the share it was assigned with.
  JUDGE_CLUSTER_FIELD.CASE_ID,
  `${ASSIGNMENT_KEY}Unit`,
  `${ASSIGNMENT_KEY}UnitKind`,
  `${ASSIGNMENT_KEY}Share`,
  // The execution environment that wrote the line (AppConfig's rollout tells environments: the unit there).
  JUDGE_CLUSTER_FIELD.ENVIRONMENT,
] as const;

/** The Logs Insights query for one service's invocation lines, oldest first, at most QUERY_ROW_LIMIT rows. */
export function samplesQuery(service: string): string {
  if (!/^[a-z0-9-]+$/.test(service)) throw new Error(`service "${service}" is not a service name (lower-case letters, digits and dashes)`);
  return [
    `fields ${QUERY_FIELDS.join(', ')}`,
    `| filter ${DIMENSION.SERVICE} = "${service}" and ispresent(${METRIC.INVOCATIONS})`,
    '| sort @timestamp asc',
    `| limit ${QUERY_ROW_LIMIT}`,
  ].join('\n');
}

/** A value safe to quote in a query string; anything else is filtered client-side only. */
const QUOTABLE = /^[A-Za-z0-9._:$@/+=-]{1,128}$/;

/**
 * The query for the stable baseline before a release: `samplesQuery` narrowed to the stable side (code plane: the
 * stable version; config plane: lines stamped with a label other than the new config's), so the 10,000-row slices
 * carry only what is fed. `windowSamples` still assigns sides, so a value that cannot be quoted only widens the read.
 */
export function baselineQuery(service: string, sides: Sides): string {
  const lines = samplesQuery(service).split('\n');
  const value = sides.plane === 'code' ? sides.stable : sides.canary;
  if (QUOTABLE.test(value)) {
    lines[1] += sides.plane === 'code' ? ` and ${DIMENSION.VERSION} = "${value}"` : ` and ispresent(config) and config != "${value}"`;
  }
  return lines.join('\n');
}

/** One result row as GetQueryResults returns it: `[{ field, value }]`. */
export type QueryRow = readonly { readonly field?: string; readonly value?: string }[];

/** A parsed invocation line. */
export interface Sample {
  readonly at: number;
  readonly codeVersion?: string;
  readonly configLabel?: string;
  readonly error: boolean;
  readonly safety: boolean;
  readonly contract: boolean;
  readonly latencyMs?: number;
  readonly costUsd?: number;
  readonly quality?: number;
  /** The cluster key: the assigned conversation when there is one, else the input's case id. */
  readonly cluster?: string;
  /** The share the conversation was assigned with (per-conversation assignment only). */
  readonly share?: number;
  /** The execution environment that wrote the line. */
  readonly environment?: string;
}

/** `@timestamp` as Logs Insights prints it: `2026-11-27 09:00:00.123`, UTC. */
export function parseInsightsTimestamp(text: string): number {
  // Rows of one window share their second: parse "YYYY-MM-DD HH:MM:SS" once per second, then add the milliseconds.
  const second = text.slice(0, 19);
  let base = secondCache.get(second);
  if (base === undefined) {
    const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/.exec(second);
    base = m ? Date.parse(`${m[1]}T${m[2]}Z`) : Number.NaN;
    if (secondCache.size > 10_000) secondCache.clear();
    secondCache.set(second, base);
  }
  const rest = text.length > 19 && text.charCodeAt(text.length - 1) === 90 /* Z */ ? text.slice(19, -1) : text.slice(19);
  // ".123" is what Logs Insights prints; other precisions are read too.
  const fraction =
    rest === ''
      ? 0
      : rest.length === 4 && rest[0] === '.'
        ? Number(rest.slice(1))
        : /^\.\d+$/.test(rest)
          ? Math.floor(Number(`0${rest}`) * 1000 + 1e-6)
          : Number.NaN;
  const t = base + fraction;
  if (!Number.isFinite(t)) throw new Error(`unreadable @timestamp "${text}" in a Logs Insights result`);
  return t;
}
const secondCache = new Map<string, number>();

const num = (v: string | undefined) => {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
};

export function parseRow(row: QueryRow): Sample {
  let ts: string | undefined;
  let version: string | undefined;
  let config: string | undefined;
  let errors: string | undefined;
  let safety: string | undefined;
  let contract: string | undefined;
  let latency: string | undefined;
  let cost: string | undefined;
  let quality: string | undefined;
  let caseId: string | undefined;
  let unit: string | undefined;
  let unitKind: string | undefined;
  let share: string | undefined;
  let environment: string | undefined;
  for (const c of row) {
    switch (c.field) {
      case '@timestamp':
        ts = c.value;
        break;
      case DIMENSION.VERSION:
        version = c.value;
        break;
      case 'config':
        config = c.value;
        break;
      case METRIC.ERRORS:
        errors = c.value;
        break;
      case METRIC.SAFETY_VIOLATIONS:
        safety = c.value;
        break;
      case METRIC.CONTRACT_VIOLATIONS:
        contract = c.value;
        break;
      case METRIC.LATENCY:
        latency = c.value;
        break;
      case METRIC.COST_USD:
        cost = c.value;
        break;
      case METRIC.QUALITY_SCORE:
        quality = c.value;
        break;
      case JUDGE_CLUSTER_FIELD.CASE_ID:
        caseId = c.value;
        break;
      case `${ASSIGNMENT_KEY}Unit`:
        unit = c.value;
        break;
      case `${ASSIGNMENT_KEY}UnitKind`:
        unitKind = c.value;
        break;
      case `${ASSIGNMENT_KEY}Share`:
        share = c.value;
        break;
      case JUDGE_CLUSTER_FIELD.ENVIRONMENT:
        environment = c.value;
        break;
    }
  }
  if (ts === undefined) throw new Error('a Logs Insights result row has no @timestamp');
  // Counters are written only when the event happened: absent is 0.
  const sample: { -readonly [K in keyof Sample]: Sample[K] } = {
    at: parseInsightsTimestamp(ts),
    error: (num(errors) ?? 0) > 0,
    safety: (num(safety) ?? 0) > 0,
    contract: (num(contract) ?? 0) > 0,
  };
  if (version !== undefined) sample.codeVersion = version;
  if (config !== undefined) sample.configLabel = config;
  const latencyMs = num(latency);
  if (latencyMs !== undefined) sample.latencyMs = latencyMs;
  const costUsd = num(cost);
  if (costUsd !== undefined) sample.costUsd = costUsd;
  const q = num(quality);
  if (q !== undefined) sample.quality = q;
  // A conversation the runtime assigned is the randomization unit: its key and its assigned share. Otherwise retries
  // of one input cluster by its case id (the request is still the unit).
  const assignedShare = num(share);
  if (unit && unitKind === 'conversation' && assignedShare !== undefined) {
    sample.cluster = unit;
    sample.share = assignedShare;
  } else if (caseId) sample.cluster = caseId;
  if (environment) sample.environment = environment;
  return sample;
}

/** Which side of the comparison a sample is on: by Lambda version (code plane) or config label (config plane). */
export type Sides =
  | { readonly plane: 'code'; readonly canary: string; readonly stable: string }
  | { readonly plane: 'config'; readonly canary: string; readonly stable?: string };

export function sideOf(s: Sample, sides: Sides): 'canary' | 'stable' | undefined {
  const v = sides.plane === 'code' ? s.codeVersion : s.configLabel;
  if (v === undefined) return undefined;
  if (v === sides.canary) return 'canary';
  // Config plane: every other label is the config the rollout replaces (a client not yet switched).
  if (sides.plane === 'config') return sides.stable === undefined || v === sides.stable ? 'stable' : undefined;
  return v === sides.stable ? 'stable' : undefined;
}

export interface WindowSamples {
  readonly observations: readonly JudgeObservation[];
  /** Where the next window starts (epoch ms): the window's end, or the cut when the row limit was reached. */
  readonly until: number;
  /** True when the query hit the row limit and the window was cut short (the rest is judged next time). */
  readonly truncated: boolean;
}

/**
 * The observations of [from, to) from one query's rows, sorted by time. When the query returned QUERY_ROW_LIMIT rows,
 * rows after the last complete millisecond are left for the next window (`until` = the last row's time), so no sample
 * is judged twice or skipped.
 */
export function windowSamples(rows: readonly QueryRow[], from: number, to: number, sides: Sides, limit = QUERY_ROW_LIMIT): WindowSamples {
  let samples: Sample[] = [];
  let sorted = true;
  for (const r of rows) {
    const s = parseRow(r);
    if (s.at < from || s.at >= to) continue;
    if (samples.length > 0 && s.at < samples[samples.length - 1].at) sorted = false;
    samples.push(s);
  }
  // The query sorts by @timestamp; sort only if it did not.
  if (!sorted) samples.sort((a, b) => a.at - b.at);
  let until = to;
  const truncated = rows.length >= limit;
  if (truncated && samples.length > 0) {
    const last = samples[samples.length - 1].at;
    const complete = samples.filter((s) => s.at < last);
    // All rows in one millisecond (never at real rates): take them and move on by a millisecond.
    if (complete.length === 0) until = last + 1;
    else {
      samples = complete;
      until = last;
    }
  }
  const observations: JudgeObservation[] = [];
  for (const s of samples) {
    const version = sideOf(s, sides);
    if (!version) continue;
    const o: { -readonly [K in keyof JudgeObservation]: JudgeObservation[K] } = { version, at: s.at, error: s.error, safety: s.safety, contract: s.contract };
    if (s.latencyMs !== undefined) o.latencyMs = s.latencyMs;
    if (s.costUsd !== undefined) o.costUsd = s.costUsd;
    if (s.quality !== undefined) o.quality = s.quality;
    if (s.cluster !== undefined) o.cluster = s.cluster;
    if (s.share !== undefined && s.share > 0 && s.share < 1) o.share = s.share;
    if (s.environment !== undefined) o.environment = s.environment;
    observations.push(o);
  }
  return { observations, until, truncated };
}

/**
 * The canary's share of a batch: its share of the invocations observed. Conditional on how many requests each side
 * served, a count (errors, violations) falls on the canary with exactly this probability when both sides are alike,
 * whatever the traffic weights were, and a batch that spans a traffic step needs no weight bookkeeping.
 */
export function observedShare(observations: readonly JudgeObservation[]): number | undefined {
  if (observations.length === 0) return undefined;
  return observations.filter((o) => o.version === 'canary').length / observations.length;
}
