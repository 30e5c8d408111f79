import { canonicalJson, sha256Hex } from '../shared/canonical-json';
import {
  BATCH_SCHEMA_VERSION,
  type CaseIndex,
  type CaseIndexEntry,
  INDEX_SCHEMA_VERSION,
  INDEX_SCHEMA_VERSIONS_READ,
  isMovedMarker,
  type MovedMarker,
  type SnapshotBatch,
} from '../shared/case-index';
import {
  CASE_STATES,
  type CaseExpectation,
  type CaseState,
  FAILURE_KINDS,
  FAILURE_RECORD_TYPE,
  type FailureKind,
  type FailureRecord,
  type RegressionCase,
  STORE_PREFIX,
  type VersionTuple,
} from '../shared/contract';
import { guardrailFloorsFromDetails } from '../shared/guardrail-scores';

/**
 * Regression cases: identity, folding and merging. Pure (no AWS SDK), shared by the snapshot function and the
 * library API (lib/learning/regression-cases.ts), so both compute the same case id from the same input.
 */

/** Bounds that keep a case small however often its input fails. */
export const CASE_LIMITS = {
  /** Version tuples kept per case (newest last). */
  FAILED_ON: 10,
  /** Request ids kept per case (newest last). */
  SAMPLE_REQUEST_IDS: 10,
  /** Detail lines kept per case. */
  DETAILS: 10,
  /** Delivery keys the index remembers, for retries after a partial write. */
  RECENT_BATCHES: 500,
  /** Transitions kept in a case's history. */
  HISTORY: 50,
} as const;

/** A live candidate's object is rewritten at least this often, so the "old candidates" lifecycle rule only expires cases no longer failing. */
export const CANDIDATE_REFRESH_DAYS = 7;

/** The tag on candidate objects; the bucket's lifecycle rule for old candidates selects on it (prefixes cannot: the state is mid-key). */
export const CANDIDATE_TAG: Readonly<Record<string, string>> = { 'ai-release-state': 'candidate' };

const CASE_ID_LENGTH = 32;
const TUPLE_HASH_LENGTH = 12;

/**
 * The normalized form of a recorded input, which the case id hashes. Decided so that requests a person would call
 * "the same input" fold together, and nothing that could change the model's answer is thrown away:
 * - JSON is parsed and re-serialized canonically (object keys sorted at every depth, no insignificant whitespace),
 *   so key order and formatting do not split a case;
 * - every string (JSON string values, or the whole text when it is not JSON) is Unicode-NFC normalized, trimmed,
 *   and runs of whitespace collapse to one space;
 * - case is kept: "US" and "us", or code, can be different questions to a model;
 * - redaction placeholders are part of the text, so two inputs that differ only in a redacted email fold together.
 * A truncated input (`truncated: true`) is hashed as recorded: long inputs sharing their first `maxFieldChars`
 * characters fold into one case.
 */
export function normalizeInput(input: string): string {
  let value: unknown;
  try {
    value = JSON.parse(input);
  } catch {
    return canonicalJson(normalizeString(input));
  }
  // Already normal (h9-hotpath): keys sorted, every key and string left as it is by normalizeString, not too deep. Then
  // normalizing and sorting would copy it unchanged, and its JSON is the canonical JSON (test/normalize-input-fast.test.ts).
  if (alreadyNormal(value, 0)) return JSON.stringify(value);
  // Nested deeper than any real request (the runtime's 16 KB field limit still allows ~8,000 levels of `[`): hashed as
  // text, so the recursive normalization below can never exhaust the stack. Deterministic, so still one case per input.
  if (depthOver(value, MAX_NORMALIZE_DEPTH)) return canonicalJson(normalizeString(input));
  return canonicalJson(normalizeValue(value));
}

/**
 * Whether the parsed JSON `v` is what normalizeValue and canonicalJson's sort would give back unchanged: every string
 * and key NORMAL_ASCII, each object's keys in the order sort() puts them (integer-like keys, which objects list
 * first, fail this unless they sort first anyway), no `__proto__` key (which the copies would turn into a prototype),
 * and no object as deep as MAX_NORMALIZE_DEPTH (left to depthOver). Recursion stops at that depth.
 */
function alreadyNormal(v: unknown, depth: number): boolean {
  if (typeof v === 'string') return NORMAL_ASCII.test(v);
  if (v === null || typeof v !== 'object') return true;
  if (depth >= MAX_NORMALIZE_DEPTH) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!alreadyNormal(v[i], depth + 1)) return false;
    return true;
  }
  let previous: string | undefined;
  for (const k of Object.keys(v)) {
    if (k === '__proto__' || (previous !== undefined && previous > k) || !NORMAL_ASCII.test(k)) return false;
    if (!alreadyNormal((v as Record<string, unknown>)[k], depth + 1)) return false;
    previous = k;
  }
  return true;
}

/** Depth up to which an input's JSON is normalized structurally (key order, strings); deeper inputs are hashed as text. */
export const MAX_NORMALIZE_DEPTH = 64;

/** Whether `value` nests deeper than `max` (iterative: safe on any depth). */
function depthOver(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d >= max) return true;
    for (const x of Array.isArray(v) ? v : Object.values(v as object)) if (x !== null && typeof x === 'object') stack.push([x, d + 1]);
  }
  return false;
}

/**
 * Printable ASCII words separated by single spaces, nothing before the first or after the last: a string NFC, trim
 * and the whitespace collapse all leave as it is (ASCII is NFC; only " " separates; nothing to trim). Most inputs'
 * strings are such, and then the three calls (the first an ICU call, ~µs when its code is cold) are skipped.
 */
const NORMAL_ASCII = /^(?:[!-~]+(?: [!-~]+)*)?$/;

function normalizeString(s: string): string {
  if (NORMAL_ASCII.test(s)) return s;
  return s.normalize('NFC').trim().replace(/\s+/g, ' ');
}

function normalizeValue(v: unknown): unknown {
  if (typeof v === 'string') return normalizeString(v);
  if (Array.isArray(v)) return v.map(normalizeValue);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[normalizeString(k)] = normalizeValue(x);
    return out;
  }
  return v;
}

/** sha256 (hex, first 32) of the service name and the normalized input. */
export function caseIdOf(service: string, input: string): string {
  return sha256Hex(`${service}\n${normalizeInput(input)}`).slice(0, CASE_ID_LENGTH);
}

/** Short hash of a version tuple, as the index keeps it. */
export function tupleHash(tuple: VersionTuple): string {
  return sha256Hex(canonicalJson(tuple)).slice(0, TUPLE_HASH_LENGTH);
}

export const storeKeys = {
  case: (service: string, state: CaseState, caseId: string) => `${STORE_PREFIX.CASES}/${service}/${state}/${caseId}.json`,
  casesPrefix: (service: string, state?: CaseState) => `${STORE_PREFIX.CASES}/${service}/${state ? `${state}/` : ''}`,
  index: (service: string) => `${STORE_PREFIX.INDEX}/${service}.json`,
  batch: (service: string, deliveryKey: string) => `${STORE_PREFIX.BATCHES}/${service}/${deliveryKey}.json`,
};

/**
 * What the next release must do on this input, from the kinds of failure seen:
 * error/timeout → no error; timeout → also finish under the latency it timed out at; contract → the contract holds;
 * safety → no safety flag; quality → quality at or above the floor the runtime reported. Cost has no per-case
 * expectation (the cost alarm guards it). People refine it on promotion.
 */
export function defaultExpectation(kinds: readonly FailureKind[], evidence: { latencyMs?: number; details?: readonly string[] } = {}): CaseExpectation {
  const e: { -readonly [K in keyof CaseExpectation]: CaseExpectation[K] } = { noError: true };
  if (kinds.includes('timeout') && evidence.latencyMs !== undefined && evidence.latencyMs > 0) e.maxLatencyMs = Math.floor(evidence.latencyMs);
  if (kinds.includes('contract')) e.contractHolds = true;
  if (kinds.includes('safety')) e.noSafetyFlag = true;
  if (kinds.includes('quality')) {
    // The runtime's detail line names the floor: "quality: score 0.4 is below outputContract.qualityFloor 0.6".
    const floor = evidence.details?.map((d) => /qualityFloor\s+(-?\d+(?:\.\d+)?)/.exec(d)?.[1]).find((x) => x !== undefined);
    if (floor !== undefined) e.minQuality = Number(floor);
    // A low guardrail score (the evaluator's detail line, guardrailLowDetail): the guardrail's threshold is the floor.
    const guardrail = guardrailFloorsFromDetails(evidence.details);
    if (guardrail) e.minGuardrailScores = guardrail;
  }
  return e;
}

/**
 * A failure record with its optional fields made well-typed: `details` as a list of strings (a single string becomes a
 * one-line list), `output` as text, `error` as { name, message } text, `measurements` dropped when not an object. What
 * a slightly different writer produces is kept, not rejected; only the required fields reject a record (validateRecord).
 */
export function normalizeRecordFields(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...r };
  const text = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)));
  if (out.details === undefined || out.details === null) delete out.details;
  else if (typeof out.details === 'string') out.details = [out.details];
  else if (Array.isArray(out.details)) out.details = out.details.slice(0, CASE_LIMITS.DETAILS).map(text);
  else out.details = [text(out.details)];
  if (out.output === null) delete out.output;
  else if (out.output !== undefined && typeof out.output !== 'string') out.output = text(out.output);
  if (out.error === null || out.error === undefined) delete out.error;
  else {
    const e = out.error as { name?: unknown; message?: unknown };
    out.error = typeof e === 'object' ? { name: text(e.name ?? 'Error'), message: text(e.message ?? '') } : { name: 'Error', message: text(e) };
  }
  if (out.measurements !== undefined && (out.measurements === null || typeof out.measurements !== 'object')) delete out.measurements;
  return out;
}

/** A failure record's problems, or none. Only valid records become cases. */
export function validateRecord(r: unknown): string | undefined {
  if (r === null || typeof r !== 'object') return 'not a JSON object';
  const o = r as Record<string, unknown>;
  if (o.type !== FAILURE_RECORD_TYPE) return `type is ${JSON.stringify(o.type)}, expected "${FAILURE_RECORD_TYPE}"`;
  if (o.schemaVersion !== 1) return `schemaVersion ${JSON.stringify(o.schemaVersion)} is not supported (expected 1)`;
  if (typeof o.service !== 'string' || !/^[a-z0-9-]{1,40}$/.test(o.service)) return 'service is missing or not a service name';
  if (typeof o.input !== 'string') return 'input is missing';
  if (typeof o.requestId !== 'string') return 'requestId is missing';
  if (typeof o.time !== 'string' || Number.isNaN(Date.parse(o.time))) return 'time is missing or not ISO-8601';
  if (!Array.isArray(o.kinds) || o.kinds.length === 0 || !o.kinds.every((k) => (FAILURE_KINDS as readonly unknown[]).includes(k)))
    return `kinds must be a non-empty list of ${FAILURE_KINDS.join(', ')}`;
  if (o.tuple === null || typeof o.tuple !== 'object') return 'tuple is missing';
  return undefined;
}

/** What one delivery contributes to one case. */
export interface CaseDelta {
  readonly caseId: string;
  readonly service: string;
  readonly input: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  kinds: FailureKind[];
  failedOn: VersionTuple[];
  requestIds: string[];
  /** Positions of its records in the folded list. */
  positions: number[];
  lastOutput?: string;
  details?: readonly string[];
  latencyMs?: number;
}

/** Folds records (already redacted and validated) into one delta per case id, in order of first appearance. */
export function foldRecords(records: readonly FailureRecord[]): Map<string, CaseDelta> {
  const out = new Map<string, CaseDelta>();
  records.forEach((r, i) => foldInto(out, caseIdOf(r.service, r.input), r, i));
  return out;
}

/**
 * One case's delta from a stored batch: only its records (the batch lists their positions, so nothing is hashed
 * again; a batch without positions is folded whole). Undefined when the batch does not hold the case.
 */
export function foldCaseOfBatch(batch: SnapshotBatch, caseId: string): CaseDelta | undefined {
  // The batch's per-case list, by id, built once per batch object (a second sighting of N cases reads N of them).
  let byId = CASES_BY_ID.get(batch);
  if (!byId) {
    byId = new Map(batch.cases.map((c) => [c.caseId, c]));
    CASES_BY_ID.set(batch, byId);
  }
  const at = byId.get(caseId)?.records;
  if (!at) return foldRecords(batch.records).get(caseId);
  const out = new Map<string, CaseDelta>();
  for (const i of at) if (batch.records[i]) foldInto(out, caseId, batch.records[i], i);
  return out.get(caseId);
}

const CASES_BY_ID = new WeakMap<SnapshotBatch, Map<string, SnapshotBatch['cases'][number]>>();

function foldInto(out: Map<string, CaseDelta>, caseId: string, r: FailureRecord, position: number): void {
  let d = out.get(caseId);
  if (!d) {
    d = { caseId, service: r.service, input: r.input, count: 0, firstSeen: r.time, lastSeen: r.time, kinds: [], failedOn: [], requestIds: [], positions: [] };
    out.set(caseId, d);
  }
  d.count += 1;
  d.positions.push(position);
  if (r.time < d.firstSeen) d.firstSeen = r.time;
  if (r.time >= d.lastSeen) {
    d.lastSeen = r.time;
    if (r.output !== undefined) d.lastOutput = r.output;
    if (r.details) d.details = r.details.slice(0, CASE_LIMITS.DETAILS);
    d.latencyMs = r.measurements?.latencyMs;
  }
  d.kinds = unionKinds(d.kinds, r.kinds);
  d.failedOn = appendTuples(d.failedOn, [r.tuple]);
  d.requestIds = appendBounded(d.requestIds, [r.requestId], CASE_LIMITS.SAMPLE_REQUEST_IDS);
}

export function unionKinds(a: readonly FailureKind[], b: readonly FailureKind[]): FailureKind[] {
  return FAILURE_KINDS.filter((k) => a.includes(k) || b.includes(k));
}

/** Appends, moving a repeated item to the end (newest last), and keeps the last `max`. */
function appendBounded<T>(list: readonly T[], add: readonly T[], max: number, key: (x: T) => string = String): T[] {
  const out = [...list];
  for (const x of add) {
    const k = key(x);
    const at = out.findIndex((y) => key(y) === k);
    if (at >= 0) out.splice(at, 1);
    out.push(x);
  }
  return out.slice(-max);
}

function appendTuples(list: readonly VersionTuple[], add: readonly VersionTuple[]): VersionTuple[] {
  return appendBounded(list, add, CASE_LIMITS.FAILED_ON, tupleHash);
}

/** The earlier / later of two ISO-8601 UTC times (they order as strings). */
export const minIso = (a: string, b: string) => [a, b].sort()[0];
export const maxIso = (a: string, b: string) => [a, b].sort()[1];

/** The index entry after a delta: counters add up, kinds and tuples union. A new entry is a candidate. */
export function mergeEntry(entry: CaseIndexEntry | undefined, d: CaseDelta, written: string | undefined): CaseIndexEntry {
  return {
    state: entry?.state ?? 'candidate',
    count: (entry?.count ?? 0) + d.count,
    firstSeen: entry ? minIso(entry.firstSeen, d.firstSeen) : d.firstSeen,
    lastSeen: entry ? maxIso(entry.lastSeen, d.lastSeen) : d.lastSeen,
    kinds: unionKinds(entry?.kinds ?? [], d.kinds),
    tuples: appendBounded(entry?.tuples ?? [], d.failedOn.map(tupleHash), CASE_LIMITS.FAILED_ON),
    written: written ?? entry?.written ?? '',
  };
}

/**
 * Whether the case object must be (re)written for this delta: it is new, it learnt a kind or a version it failed on,
 * or a candidate is due its refresh. Otherwise only the index's counters change: one write per batch, not per case.
 */
export function caseWriteNeeded(entry: CaseIndexEntry | undefined, d: CaseDelta, now: string, expiryDays: number): 'create' | 'update' | 'none' {
  if (!entry) return 'create';
  const ageDays = (Date.parse(now) - Date.parse(entry.written || '1970-01-01T00:00:00Z')) / 86_400_000;
  // A candidate not rewritten for longer than the lifecycle keeps candidates has expired: write it again.
  if (entry.state === 'candidate' && ageDays >= expiryDays) return 'create';
  if (d.kinds.some((k) => !entry.kinds.includes(k))) return 'update';
  if (d.failedOn.some((t) => !entry.tuples.includes(tupleHash(t)))) return 'update';
  if (entry.state === 'candidate' && ageDays >= CANDIDATE_REFRESH_DAYS) return 'update';
  return 'none';
}

/** A case after a delta. Counters come from the merged index entry, so rewriting a case is idempotent. State never changes here. */
export function mergeCase(existing: RegressionCase | undefined, d: CaseDelta, entry: CaseIndexEntry, now: string): RegressionCase {
  const kinds = unionKinds(existing?.kinds ?? [], d.kinds);
  const details = d.details ?? existing?.details;
  const lastOutput = d.lastSeen >= (existing?.lastSeen ?? '') ? (d.lastOutput ?? existing?.lastOutput) : (existing?.lastOutput ?? d.lastOutput);
  return {
    schemaVersion: 1,
    caseId: d.caseId,
    service: d.service,
    state: existing?.state ?? entry.state,
    input: existing?.input ?? d.input,
    ...(lastOutput !== undefined ? { lastOutput } : {}),
    kinds,
    failedOn: appendTuples(existing?.failedOn ?? [], d.failedOn),
    firstSeen: existing ? minIso(existing.firstSeen, entry.firstSeen) : entry.firstSeen,
    lastSeen: existing ? maxIso(existing.lastSeen, entry.lastSeen) : entry.lastSeen,
    count: Math.max(entry.count, existing?.count ?? 0),
    sampleRequestIds: appendBounded(existing?.sampleRequestIds ?? [], d.requestIds, CASE_LIMITS.SAMPLE_REQUEST_IDS),
    ...(details ? { details: details.slice(0, CASE_LIMITS.DETAILS) } : {}),
    // A person's expectation is never overwritten; a candidate's default follows the kinds it has shown.
    expectation:
      existing && existing.state !== 'candidate' ? existing.expectation : defaultExpectation(kinds, { latencyMs: d.latencyMs, details: details ?? undefined }),
    history: existing?.history ?? [{ from: 'new', to: entry.state, at: now, by: 'snapshot', reason: `first seen failing (${d.kinds.join(', ')})` }],
  };
}

/** Where the index's batch-resident candidates live: case id → delivery key of the batch object holding them. */
export function batchedIds(index: CaseIndex): Map<string, string> {
  const out = new Map<string, string>();
  for (const [deliveryKey, g] of Object.entries(index.batched ?? {})) for (const id of g.ids) out.set(id, deliveryKey);
  return out;
}

/**
 * The candidates a batch object holds, as regression cases: its records folded by case id (the same fold the
 * snapshot function did; for a case seen in this delivery only, that fold is all there is). What list/show, the review and the second sighting
 * read for a case that has no object of its own.
 */
export function casesOfBatch(batch: SnapshotBatch): Map<string, RegressionCase> {
  const out = new Map<string, RegressionCase>();
  for (const [id, d] of foldRecords(batch.records)) out.set(id, mergeCase(undefined, d, mergeEntry(undefined, d, batch.receivedAt), batch.receivedAt));
  return out;
}

export function emptyIndex(service: string, now: string): CaseIndex {
  return { schemaVersion: INDEX_SCHEMA_VERSION, service, updated: now, cases: {}, recentBatches: [] };
}

export function withBatch(index: CaseIndex, deliveryKey: string): readonly string[] {
  return appendBounded(index.recentBatches, [deliveryKey], CASE_LIMITS.RECENT_BATCHES);
}

/** Parses what is stored at a case key: a case, or the marker a move left behind (see MovedMarker). */
export function parseStoredCase(text: string, key: string): RegressionCase | MovedMarker {
  const v = parseJson(text, key);
  if (isMovedMarker(v)) {
    if (!(CASE_STATES as readonly string[]).includes(v.to))
      throw new Error(`${key}: moved marker points to state ${JSON.stringify(v.to)}, not one of ${CASE_STATES.join(', ')}`);
    return v;
  }
  return checkCase(v, key);
}

/** Parses a stored case, refusing versions this code does not know (a newer writer's case is never half-read). */
export function parseCase(text: string, key: string): RegressionCase {
  const v = parseJson(text, key);
  if (isMovedMarker(v)) throw new Error(`${key}: the case moved to ${v.to} (${v.at}); read cases/<service>/${v.to}/`);
  return checkCase(v, key);
}

function checkCase(v: unknown, key: string): RegressionCase {
  const c = v as RegressionCase;
  if (c?.schemaVersion !== 1)
    throw new Error(`${key}: regression case schemaVersion ${JSON.stringify(c?.schemaVersion)} is not supported (expected 1); upgrade cdk-ai-release`);
  if (!(CASE_STATES as readonly string[]).includes(c.state))
    throw new Error(`${key}: state ${JSON.stringify(c.state)} is not one of ${CASE_STATES.join(', ')}`);
  return c;
}

export function parseIndex(text: string, key: string): CaseIndex {
  const i = parseJson(text, key) as CaseIndex;
  if (!INDEX_SCHEMA_VERSIONS_READ.includes(i?.schemaVersion))
    throw new Error(
      `${key}: case index schemaVersion ${JSON.stringify(i?.schemaVersion)} is not supported (expected ${INDEX_SCHEMA_VERSIONS_READ.join(' or ')}); upgrade cdk-ai-release`,
    );
  return i;
}

export function parseBatch(text: string, key: string): SnapshotBatch {
  const b = parseJson(text, key) as SnapshotBatch;
  if (b?.schemaVersion !== BATCH_SCHEMA_VERSION)
    throw new Error(`${key}: snapshot batch schemaVersion ${JSON.stringify(b?.schemaVersion)} is not supported (expected 1); upgrade cdk-ai-release`);
  return b;
}

function parseJson(text: string, key: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${key}: not valid JSON (${(e as Error).message})`);
  }
}
