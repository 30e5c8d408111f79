import { gunzipSync } from 'node:zlib';
import { sha256Hex } from '../shared/canonical-json';
import {
  BATCH_SCHEMA_VERSION,
  type BatchedCases,
  type CaseIndex,
  type CaseIndexEntry,
  INDEX_SCHEMA_VERSION,
  isMovedMarker,
  type SnapshotBatch,
} from '../shared/case-index';
import { CASE_STATES, type CaseState, type FailureRecord, type RegressionCase } from '../shared/contract';
import {
  CANDIDATE_TAG,
  type CaseDelta,
  caseIdOf,
  caseWriteNeeded,
  emptyIndex,
  foldCaseOfBatch,
  foldRecords,
  batchedIds,
  mergeCase,
  mergeEntry,
  normalizeRecordFields,
  parseBatch,
  parseIndex,
  parseStoredCase,
  storeKeys,
  validateRecord,
  withBatch,
} from './cases';
import { mapLimit, type ObjectStore } from './store';

/**
 * The snapshot function's logic: one CloudWatch Logs subscription delivery in, one batch object plus an index update
 * out. A case first seen in this delivery lives in the batch object (the index points there); a case object is written
 * only when a later delivery sees the case again (or learns a kind or version, or a candidate is due its refresh), so
 * the writes follow the deliveries and the repeating inputs, never the number of records or of once-seen inputs.
 * Pure (no AWS SDK): the store is a port.
 */

/** Environment of the snapshot function, besides LEARNING_ENV.BUCKET. */
export const SNAPSHOT_ENV = {
  /** Days the bucket's lifecycle keeps a candidate object after its last write. */
  CANDIDATE_EXPIRY_DAYS: 'AI_RELEASE_CANDIDATE_EXPIRY_DAYS',
  /** The evaluator function's name: evaluation samples in a delivery are forwarded there (lambda/snapshot/dispatch.ts). */
  EVALUATOR_FUNCTION: 'AI_RELEASE_EVALUATOR_FUNCTION',
} as const;

/** The event CloudWatch Logs invokes a subscribed function with (asynchronously): base64 of gzip of LogsData. */
export interface CloudWatchLogsEvent {
  readonly awslogs: { readonly data: string };
}

export interface LogsData {
  readonly messageType: 'DATA_MESSAGE' | 'CONTROL_MESSAGE';
  readonly owner: string;
  readonly logGroup: string;
  readonly logStream: string;
  readonly subscriptionFilters: readonly string[];
  readonly logEvents: readonly { readonly id: string; readonly timestamp: number; readonly message: string }[];
}

/** Decodes `awslogs.data`; a malformed delivery fails with what is wrong, so it is kept by the on-failure destination. */
export function decodeDelivery(event: CloudWatchLogsEvent): LogsData {
  if (event === null || typeof event !== 'object')
    throw new Error(
      `the event is ${event === null ? 'JSON null' : typeof event}: the snapshot function takes CloudWatch Logs subscription deliveries ({ awslogs: { data } }) only`,
    );
  const data = event.awslogs?.data;
  if (typeof data !== 'string' || data.length === 0)
    throw new Error('event.awslogs.data is missing: the snapshot function takes CloudWatch Logs subscription deliveries only');
  let parsed: LogsData;
  try {
    parsed = JSON.parse(gunzipSync(Buffer.from(data, 'base64')).toString('utf8')) as LogsData;
  } catch (e) {
    throw new Error(`event.awslogs.data is not base64-encoded gzip JSON (${(e as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error(
      `event.awslogs.data decodes to ${parsed === null ? 'JSON null' : Array.isArray(parsed) ? 'a JSON list' : `a JSON ${typeof parsed}`}, not a CloudWatch Logs delivery (an object with messageType, logGroup, logStream, logEvents); the snapshot function takes subscription deliveries only`,
    );
  if (parsed.messageType !== 'CONTROL_MESSAGE') {
    if (typeof parsed.logGroup !== 'string' || typeof parsed.logStream !== 'string' || !Array.isArray(parsed.logEvents))
      throw new Error('the decoded delivery has no logGroup, logStream or logEvents');
  }
  return parsed;
}

/** The delivery's identity: a re-delivered batch has the same log group, stream and first event id, so the same key. */
export function deliveryKey(logGroup: string, logStream: string, firstEventId: string): string {
  return sha256Hex(`${logGroup}\n${logStream}\n${firstEventId}`).slice(0, 40);
}

/**
 * The failure record in one log line. The runtime logs it as one JSON line; Lambda's text log format may put a
 * timestamp/request-id prefix before it, and its JSON log format wraps it in `{ message: ... }`.
 */
export function extractRecord(message: string): unknown {
  const at = message.indexOf('{');
  if (at < 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(message.slice(at));
  } catch {
    return undefined;
  }
  const inner = (value as { message?: unknown })?.message;
  if ((value as { type?: unknown })?.type === undefined && inner !== undefined) {
    if (typeof inner === 'string') return extractRecord(inner);
    return inner;
  }
  return value;
}

/** Redacts every free-text field again (defence in depth: the runtime already did, with the same redactor). */
export function redactRecord(r: FailureRecord, redact: (text: string) => string): FailureRecord {
  return {
    ...r,
    requestId: redact(r.requestId),
    input: redact(r.input),
    ...(r.output !== undefined ? { output: redact(r.output) } : {}),
    ...(r.error ? { error: { name: redact(r.error.name), message: redact(r.error.message) } } : {}),
    ...(r.details ? { details: r.details.map(redact) } : {}),
  };
}

export interface SnapshotDeps {
  /** The regression store (wrap it with withRetries). */
  readonly store: ObjectStore;
  /** The runtime's redactor (lambda/runtime/redact.ts). */
  readonly redact: (text: string) => string;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Days the lifecycle keeps a candidate after its last write. @default 90 */
  readonly candidateExpiryDays?: number;
  /** Batch objects read at once (first sightings' batches). @default 8 */
  readonly concurrency?: number;
  /**
   * Case objects written at once after the commit. Small conditional PUTs, so latency-bound: a second delivery of
   * 10,000 distinct cases is 10,000 of them (bench/RESULTS.md). 32 in flight at ~25 ms each is ~1,300 PUT/s, under
   * S3's 3,500 PUT/s per prefix. @default 32
   */
  readonly writeConcurrency?: number;
  /** Milliseconds left before the invocation must give up (stops the index's compare-and-swap backoff). @default unbounded */
  readonly remainingMs?: () => number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Jitter of the compare-and-swap backoff. @default Math.random */
  readonly random?: () => number;
}

export interface ServiceOutcome {
  readonly service: string;
  readonly batchKey: string;
  /** `duplicate`: this delivery was stored before; nothing was written. */
  readonly status: 'written' | 'duplicate';
  readonly records: number;
  readonly cases: number;
  readonly created: number;
  readonly updated: number;
}

export interface SnapshotOutcome {
  readonly status: 'control-message' | 'empty' | 'processed';
  readonly deliveryKey?: string;
  readonly logGroup?: string;
  readonly events: number;
  readonly rejected: readonly { readonly eventId: string; readonly reason: string }[];
  readonly services: readonly ServiceOutcome[];
}

/** Attempts at the index's compare-and-swap (and at one case object's) when another invocation changed it in between. */
const INDEX_ATTEMPTS = 40;

/** Processes one delivery. Throws when the store fails after its retries: the whole delivery is then retried by Lambda. */
export async function snapshot(event: CloudWatchLogsEvent, deps: SnapshotDeps): Promise<SnapshotOutcome> {
  return snapshotData(decodeDelivery(event), deps);
}

/** Processes one decoded delivery (the failure part of a delivery split by lambda/snapshot/dispatch.ts). */
export async function snapshotData(data: LogsData, deps: SnapshotDeps): Promise<SnapshotOutcome> {
  // CloudWatch Logs checks a new subscription's destination with a CONTROL_MESSAGE; it carries no records.
  if (data.messageType === 'CONTROL_MESSAGE') return { status: 'control-message', events: 0, rejected: [], services: [] };
  if (data.logEvents.length === 0) return { status: 'empty', events: 0, rejected: [], services: [] };
  const key = deliveryKey(data.logGroup, data.logStream, data.logEvents[0].id);

  const rejected: { eventId: string; reason: string }[] = [];
  const byService = new Map<string, FailureRecord[]>();
  for (const e of data.logEvents) {
    // One bad record never fails its batch: whatever is wrong with it (or throws on it) rejects that record, with why.
    try {
      const raw = extractRecord(e.message);
      const problem = raw === undefined ? 'not a JSON log line' : validateRecord(raw);
      if (problem) {
        rejected.push({ eventId: e.id, reason: problem });
        continue;
      }
      const r = redactRecord(normalizeRecordFields(raw as Record<string, unknown>) as unknown as FailureRecord, deps.redact);
      caseIdOf(r.service, r.input); // the case id must be computable (it is again when the records fold)
      const list = byService.get(r.service) ?? [];
      list.push(r);
      byService.set(r.service, list);
    } catch (err) {
      rejected.push({ eventId: String(e?.id), reason: `could not be read: ${(err as Error)?.message?.slice(0, 120) ?? String(err)}` });
    }
  }
  const services: ServiceOutcome[] = [];
  // Normally one service per delivery (one log group per service); a shared log group gives one batch per service.
  for (const [service, records] of byService) {
    services.push(await storeService(service, records, { ...data, key, rejected }, deps));
  }
  return { status: 'processed', deliveryKey: key, logGroup: data.logGroup, events: data.logEvents.length, rejected, services };
}

interface Delivery extends LogsData {
  readonly key: string;
  readonly rejected: readonly { eventId: string; reason: string }[];
}

async function storeService(service: string, records: FailureRecord[], delivery: Delivery, deps: SnapshotDeps): Promise<ServiceOutcome> {
  const { store } = deps;
  const now = (deps.now ?? (() => new Date()))().toISOString();
  const expiryDays = deps.candidateExpiryDays ?? 90;
  const concurrency = deps.concurrency ?? 8;
  const writeConcurrency = deps.writeConcurrency ?? 32;
  const batchKey = storeKeys.batch(service, delivery.key);
  const indexKey = storeKeys.index(service);
  const base = { service, batchKey, records: records.length };
  const duplicate = { ...base, status: 'duplicate' as const, cases: 0, created: 0, updated: 0 };
  const deltas = [...foldRecords(records).values()];

  // The index is the commit record: a delivery listed in its recentBatches is counted.
  let stored = await store.get(indexKey);
  let index: CaseIndex = stored ? parseIndex(stored.body, indexKey) : emptyIndex(service, now);
  if (index.recentBatches.includes(delivery.key)) return finishCounted(store, service, deltas, index, now, writeConcurrency, duplicate, expiryDays);

  // 1. The records first: the batch object, immutable, created only (If-None-Match). S3 is strongly consistent for
  // read-after-write, so from the moment the index below names this delivery, every reader can read its batch.
  // 412 means a re-delivery or an earlier attempt stored it already: the same log events, so the same records.
  const known = new Set([...Object.keys(index.cases), ...batchedIds(index).keys()]);
  const batch: SnapshotBatch = {
    schemaVersion: BATCH_SCHEMA_VERSION,
    deliveryKey: delivery.key,
    service,
    logGroup: delivery.logGroup,
    logStream: delivery.logStream,
    firstEventId: delivery.logEvents[0].id,
    eventCount: delivery.logEvents.length,
    receivedAt: now,
    cases: deltas.map((d) => ({ caseId: d.caseId, count: d.count, created: !known.has(d.caseId), records: d.positions })),
    records,
    rejected: delivery.rejected,
  };
  await store.put(batchKey, JSON.stringify(batch), { condition: { ifNoneMatch: '*' } });

  // A second sighting needs the case's first batch (written before its index named it, so always readable). Each is
  // read once per invocation, and only the cases this delivery needs are kept from it.
  const firsts = new Map<string, CaseDelta | undefined>();
  const readFirsts = async (located: ReadonlyMap<string, string>) => {
    const needs = new Map<string, string[]>();
    for (const d of deltas) {
      const at = located.get(d.caseId);
      if (at === undefined || firsts.has(`${at}/${d.caseId}`)) continue;
      needs.set(at, [...(needs.get(at) ?? []), d.caseId]);
    }
    await mapLimit([...needs], concurrency, async ([deliveryKey, ids]) => {
      const key = storeKeys.batch(service, deliveryKey);
      const o = await store.get(key);
      const first = o ? parseBatch(o.body, key) : undefined;
      for (const id of ids) firsts.set(`${deliveryKey}/${id}`, first && foldCaseOfBatch(first, id));
    });
  };

  // 2. The commit: the index's counters, compare-and-swap on its ETag. Nothing else is written in this loop, so a lost
  // race costs one index read and write, and the counters are always the committed index's plus this delivery's.
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = deps.random ?? Math.random;
  for (let attempt = 0; attempt < INDEX_ATTEMPTS; attempt++) {
    if (attempt > 0) {
      const delay = Math.floor(random() * Math.min(1000, 20 * 2 ** Math.min(attempt, 6)));
      if (deps.remainingMs && deps.remainingMs() < delay) break;
      await sleep(delay);
      stored = await store.get(indexKey);
      index = stored ? parseIndex(stored.body, indexKey) : emptyIndex(service, now);
      // A concurrent re-delivery of the same events committed first.
      if (index.recentBatches.includes(delivery.key)) return finishCounted(store, service, deltas, index, now, writeConcurrency, duplicate, expiryDays);
    }
    const entries: Record<string, CaseIndexEntry> = { ...index.cases };
    const located = batchedIds(index);
    await readFirsts(located);
    const leaving = new Set<string>();
    const createdIds = new Set<string>();
    const writes: CaseWrite[] = [];
    let created = 0;
    let updated = 0;
    for (const d of deltas) {
      const prev = index.cases[d.caseId];
      const firstBatch = located.get(d.caseId);
      if (firstBatch !== undefined) {
        // Second sighting: counted from its first batch and this delivery, in a full index entry that points at the
        // first batch (its content). An object is written only when the case learns something there was not in its
        // first batch (a kind, a version): a second delivery of N distinct inputs costs no N writes.
        const first = firsts.get(`${firstBatch}/${d.caseId}`);
        const seed = first ? mergeEntry(undefined, first, now) : undefined;
        const need = seed ? caseWriteNeeded(seed, d, now, expiryDays) : 'create';
        const entry: CaseIndexEntry = { ...mergeEntry(seed, d, now), firstBatch };
        entries[d.caseId] = entry;
        leaving.add(d.caseId);
        if (need !== 'none') writes.push({ kind: 'from-batch', d, first, entry });
        updated += 1;
      } else if (!prev) {
        // First sighting: the case lives in this delivery's batch object; the index lists its id there. No object.
        created += 1;
        createdIds.add(d.caseId);
      } else {
        const need = caseWriteNeeded(prev, d, now, expiryDays);
        const entry = { ...mergeEntry(prev, d, need === 'none' ? undefined : now), ...(prev.firstBatch ? { firstBatch: prev.firstBatch } : {}) };
        entries[d.caseId] = entry;
        if (need !== 'none') writes.push({ kind: need, d, entry });
        updated += 1;
      }
    }
    const next: CaseIndex = {
      ...index,
      schemaVersion: INDEX_SCHEMA_VERSION,
      updated: now,
      cases: pruneExpired(entries, now, expiryDays),
      batched: nextBatched(index, leaving, delivery.key, now, [...createdIds], expiryDays),
      recentBatches: withBatch(index, delivery.key),
    };
    const put = await store.put(indexKey, JSON.stringify(next), { condition: stored?.etag ? { ifMatch: stored.etag } : { ifNoneMatch: '*' } });
    if (put === 'precondition-failed') continue;
    // 3. After the commit, the case objects (content: input, kinds, versions, details). Each write is a merge that is
    // idempotent and conditional (If-None-Match to create, If-Match to update), and follows a case that moved.
    await mapLimit(writes, writeConcurrency, (w) => writeCaseObject(store, w, now));
    return { ...base, status: 'written', cases: deltas.length, created, updated };
  }
  throw new Error(`${indexKey} changed under ${INDEX_ATTEMPTS} consecutive writes; the delivery fails so Lambda retries it`);
}

/**
 * A delivery the index has counted already (a re-delivery, or Lambda's retry of an invocation that failed after its
 * commit): nothing is counted again, but a case the index gives an object must have one, so an object the failed
 * attempt did not get to write is written now (a read per such case; nothing is written when all are there).
 */
async function finishCounted(
  store: ObjectStore,
  service: string,
  deltas: readonly CaseDelta[],
  index: CaseIndex,
  now: string,
  concurrency: number,
  duplicate: ServiceOutcome,
  expiryDays: number,
): Promise<ServiceOutcome> {
  let written = 0;
  const batches = new Map<string, Promise<SnapshotBatch | undefined>>();
  const batchOf = (deliveryKey: string) => {
    if (!batches.has(deliveryKey)) {
      const key = storeKeys.batch(service, deliveryKey);
      batches.set(
        deliveryKey,
        store.get(key).then((o) => (o ? parseBatch(o.body, key) : undefined)),
      );
    }
    return batches.get(deliveryKey)!;
  };
  await mapLimit(
    deltas.filter((d) => index.cases[d.caseId]),
    concurrency,
    async (d) => {
      const entry = index.cases[d.caseId];
      let first: CaseDelta | undefined;
      if (entry.firstBatch) {
        // Its content is its first batch: an object is due only if this delivery taught it something.
        const b = await batchOf(entry.firstBatch);
        first = b ? foldCaseOfBatch(b, d.caseId) : undefined;
        if (first && caseWriteNeeded(mergeEntry(undefined, first, entry.written || now), d, now, expiryDays) === 'none') return;
      }
      if (await store.exists(storeKeys.case(service, entry.state, d.caseId))) return;
      if (await liveStateOf(store, d, entry.state)) return;
      await writeCaseObject(store, entry.firstBatch ? { kind: 'from-batch', d, first, entry } : { kind: 'create', d, entry }, now);
      written += 1;
    },
  );
  return written > 0 ? { ...duplicate, status: 'written', cases: deltas.length, updated: written } : duplicate;
}

/** A case object to write after the index commit. */
type CaseWrite =
  | { readonly kind: 'from-batch'; readonly d: CaseDelta; readonly first: CaseDelta | undefined; readonly entry: CaseIndexEntry }
  | { readonly kind: 'create' | 'update'; readonly d: CaseDelta; readonly entry: CaseIndexEntry };

async function writeCaseObject(store: ObjectStore, w: CaseWrite, now: string): Promise<void> {
  if (w.kind === 'from-batch') {
    // Seen before only in a batch: its first batch's fold (absent when that batch expired) merged with this delivery's.
    const seed = w.first ? mergeCase(undefined, w.first, mergeEntry(undefined, w.first, now), w.first.firstSeen) : undefined;
    const body = JSON.stringify(mergeCase(seed, w.d, { ...w.entry, state: 'candidate' }, now));
    const put = await store.put(storeKeys.case(w.d.service, 'candidate', w.d.caseId), body, { condition: { ifNoneMatch: '*' }, tags: CANDIDATE_TAG });
    if (put === 'written') return;
  }
  await writeCase(store, w.d, w.entry, w.kind === 'create', now);
}

/**
 * Merges a delta into the case's object: under the state the index names, following a move marker when the case was
 * promoted or retired since, created (If-None-Match) when it has no object, replaced only as read (If-Match).
 */
async function writeCase(store: ObjectStore, d: CaseDelta, entry: CaseIndexEntry, create: boolean, now: string): Promise<void> {
  let state: CaseState = entry.state;
  const tags = (s: CaseState) => (s === 'candidate' ? CANDIDATE_TAG : undefined);
  if (create) {
    const fresh = mergeCase(undefined, d, entry, now);
    if (
      (await store.put(storeKeys.case(d.service, state, d.caseId), JSON.stringify(fresh), { condition: { ifNoneMatch: '*' }, tags: tags(state) })) === 'written'
    )
      return;
  }
  for (let attempt = 0; attempt < INDEX_ATTEMPTS; attempt++) {
    let key = storeKeys.case(d.service, state, d.caseId);
    let current = await store.get(key);
    let parsed = current ? parseStoredCase(current.body, key) : undefined;
    for (let hops = 0; parsed && isMovedMarker(parsed) && hops < CASE_STATES.length; hops++) {
      state = parsed.to;
      key = storeKeys.case(d.service, state, d.caseId);
      current = await store.get(key);
      parsed = current ? parseStoredCase(current.body, key) : undefined;
    }
    if (parsed && isMovedMarker(parsed)) throw new Error(`${key}: moved markers of case ${d.caseId} form a loop; run rebuildIndex("${d.service}")`);
    if (!current || !parsed) {
      // No object (expired, or never written): look under the other states before creating it again.
      const elsewhere = await liveStateOf(store, d, state);
      if (elsewhere) {
        state = elsewhere;
        continue;
      }
      // Seen before without an object of its own: its content starts from its first batch.
      const fresh = mergeCase(await seedFromFirstBatch(store, d, entry, now), d, { ...entry, state }, now);
      const put = await store.put(key, JSON.stringify(fresh), { condition: { ifNoneMatch: '*' }, tags: tags(state) });
      if (put === 'written') return;
      continue;
    }
    const merged = mergeCase(parsed as RegressionCase, d, { ...entry, state }, now);
    const put = await store.put(key, JSON.stringify(merged), { condition: current.etag ? { ifMatch: current.etag } : { ifNoneMatch: '*' }, tags: tags(state) });
    if (put === 'written') return;
  }
  throw new Error(`case ${d.caseId} of ${d.service} changed under ${INDEX_ATTEMPTS} consecutive writes; the delivery fails so Lambda retries it`);
}

/** The case as its first batch holds it (when the index entry points at one that still exists), for a first object. */
async function seedFromFirstBatch(store: ObjectStore, d: CaseDelta, entry: CaseIndexEntry, now: string): Promise<RegressionCase | undefined> {
  if (!entry.firstBatch) return undefined;
  const key = storeKeys.batch(d.service, entry.firstBatch);
  const o = await store.get(key);
  const first = o ? foldCaseOfBatch(parseBatch(o.body, key), d.caseId) : undefined;
  return first ? mergeCase(undefined, first, mergeEntry(undefined, first, now), first.firstSeen) : undefined;
}

/** The state under which the case has a live object (not a move marker), other than `not`. */
async function liveStateOf(store: ObjectStore, d: CaseDelta, not: CaseState): Promise<CaseState | undefined> {
  for (const s of CASE_STATES.filter((x) => x !== not)) {
    const k = storeKeys.case(d.service, s, d.caseId);
    const o = await store.get(k);
    if (o && !isMovedMarker(parseStoredCase(o.body, k))) return s;
  }
  return undefined;
}

/**
 * The index's batch groups after a delivery: ids seen again leave their group (they have an object now), this
 * delivery's new ids form its group, and groups older than the candidate lifecycle go (their batches expire too).
 */
function nextBatched(
  index: CaseIndex,
  leaving: ReadonlySet<string>,
  deliveryKey: string,
  now: string,
  fresh: readonly string[],
  expiryDays: number,
): Record<string, BatchedCases> {
  const limit = Date.parse(now) - (expiryDays + 1) * 86_400_000;
  const out: Record<string, BatchedCases> = {};
  for (const [key, g] of Object.entries(index.batched ?? {})) {
    if (Date.parse(g.at) < limit) continue;
    const ids = leaving.size > 0 ? g.ids.filter((id) => !leaving.has(id)) : g.ids;
    if (ids.length > 0) out[key] = ids === g.ids ? g : { at: g.at, ids };
  }
  if (fresh.length > 0) out[deliveryKey] = { at: now, ids: fresh };
  return out;
}

/** Drops index entries of candidates whose objects the lifecycle has expired (not rewritten for longer than it keeps them). */
function pruneExpired(entries: Record<string, CaseIndexEntry>, now: string, expiryDays: number): Record<string, CaseIndexEntry> {
  const limit = Date.parse(now) - (expiryDays + 1) * 86_400_000;
  const out: Record<string, CaseIndexEntry> = {};
  for (const [id, e] of Object.entries(entries)) {
    if (e.state === 'candidate' && e.written && Date.parse(e.written) < limit) continue;
    out[id] = e;
  }
  return out;
}
