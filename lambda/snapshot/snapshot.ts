import { gunzipSync } from 'node:zlib';
import { sha256Hex } from '../shared/canonical-json';
import { BATCH_SCHEMA_VERSION, type BatchedCases, type CaseIndex, type CaseIndexEntry, INDEX_SCHEMA_VERSION, type SnapshotBatch } from '../shared/case-index';
import { CASE_STATES, type CaseState, type FailureRecord } from '../shared/contract';
import {
  CANDIDATE_TAG,
  type CaseDelta,
  caseWriteNeeded,
  emptyIndex,
  foldCaseOfBatch,
  foldRecords,
  batchedIds,
  mergeCase,
  mergeEntry,
  parseBatch,
  parseCase,
  parseIndex,
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
  const data = event?.awslogs?.data;
  if (typeof data !== 'string' || data.length === 0)
    throw new Error('event.awslogs.data is missing: the snapshot function takes CloudWatch Logs subscription deliveries only');
  let parsed: LogsData;
  try {
    parsed = JSON.parse(gunzipSync(Buffer.from(data, 'base64')).toString('utf8')) as LogsData;
  } catch (e) {
    throw new Error(`event.awslogs.data is not base64-encoded gzip JSON (${(e as Error).message})`);
  }
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
  /** Case objects written at once. @default 8 */
  readonly concurrency?: number;
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

/** Attempts at the index's read-modify-write when another invocation changed it in between. */
const INDEX_ATTEMPTS = 8;

/** Processes one delivery. Throws when the store fails after its retries: the whole delivery is then retried by Lambda. */
export async function snapshot(event: CloudWatchLogsEvent, deps: SnapshotDeps): Promise<SnapshotOutcome> {
  const data = decodeDelivery(event);
  // CloudWatch Logs checks a new subscription's destination with a CONTROL_MESSAGE; it carries no records.
  if (data.messageType === 'CONTROL_MESSAGE') return { status: 'control-message', events: 0, rejected: [], services: [] };
  if (data.logEvents.length === 0) return { status: 'empty', events: 0, rejected: [], services: [] };
  const key = deliveryKey(data.logGroup, data.logStream, data.logEvents[0].id);

  const rejected: { eventId: string; reason: string }[] = [];
  const byService = new Map<string, FailureRecord[]>();
  for (const e of data.logEvents) {
    const raw = extractRecord(e.message);
    const problem = raw === undefined ? 'not a JSON log line' : validateRecord(raw);
    if (problem) {
      rejected.push({ eventId: e.id, reason: problem });
      continue;
    }
    const r = redactRecord(raw as FailureRecord, deps.redact);
    const list = byService.get(r.service) ?? [];
    list.push(r);
    byService.set(r.service, list);
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
  const batchKey = storeKeys.batch(service, delivery.key);
  const indexKey = storeKeys.index(service);
  const base = { service, batchKey, records: records.length };

  // The batch object is written last: it marks the delivery as fully stored, so its presence means "nothing to do".
  if (await store.exists(batchKey)) return { ...base, status: 'duplicate', cases: 0, created: 0, updated: 0 };
  const deltas = [...foldRecords(records).values()];

  // A second sighting needs the case's first batch. Each is read once per invocation, and only the cases this
  // delivery needs are kept from it (a parsed batch is dropped at once: it is the largest thing this function reads).
  const firsts = new Map<string, CaseDelta | undefined>();
  const readFirsts = async (located: ReadonlyMap<string, string>) => {
    const needs = new Map<string, string[]>();
    for (const d of deltas) {
      const at = located.get(d.caseId);
      if (at === undefined || firsts.has(d.caseId)) continue;
      needs.set(at, [...(needs.get(at) ?? []), d.caseId]);
    }
    await mapLimit([...needs], deps.concurrency ?? 8, async ([deliveryKey, ids]) => {
      const key = storeKeys.batch(service, deliveryKey);
      const o = await store.get(key);
      const batch = o ? parseBatch(o.body, key) : undefined;
      for (const id of ids) firsts.set(id, batch && foldCaseOfBatch(batch, id));
    });
  };

  for (let attempt = 0; attempt < INDEX_ATTEMPTS; attempt++) {
    const stored = await store.get(indexKey);
    const index: CaseIndex = stored ? parseIndex(stored.body, indexKey) : emptyIndex(service, now);
    let created = 0;
    let updated = 0;
    const createdIds = new Set<string>();
    // Counted already (a retry after the index was written but the batch object was not): only the batch is missing.
    if (!index.recentBatches.includes(delivery.key)) {
      const entries: Record<string, CaseIndexEntry> = { ...index.cases };
      const located = batchedIds(index);
      await readFirsts(located);
      const leaving = new Set<string>();
      await mapLimit(deltas, deps.concurrency ?? 8, async (d) => {
        const prev = index.cases[d.caseId];
        const firstBatch = located.get(d.caseId);
        if (firstBatch !== undefined) {
          // Second sighting: the case object is written now, from the first batch's records and this delivery's.
          entries[d.caseId] = await promoteFromBatch(store, d, firsts.get(d.caseId), now);
          leaving.add(d.caseId);
          updated += 1;
          return;
        }
        if (!prev) {
          // First sighting: the case lives in this delivery's batch object; the index lists its id there. No object.
          created += 1;
          createdIds.add(d.caseId);
          return;
        }
        const need = caseWriteNeeded(prev, d, now, expiryDays);
        let entry = mergeEntry(prev, d, need === 'none' ? undefined : now);
        if (need !== 'none') {
          const r = await writeCase(store, d, prev, entry, need, now);
          entry = { ...entry, state: r.state };
          if (r.created) {
            created += 1;
            createdIds.add(d.caseId);
          } else updated += 1;
        }
        entries[d.caseId] = entry;
      });
      const next: CaseIndex = {
        ...index,
        schemaVersion: INDEX_SCHEMA_VERSION,
        updated: now,
        cases: pruneExpired(entries, now, expiryDays),
        batched: nextBatched(
          index,
          leaving,
          delivery.key,
          now,
          [...createdIds].filter((id) => !entries[id]),
          expiryDays,
        ),
        recentBatches: withBatch(index, delivery.key),
      };
      const put = await store.put(indexKey, JSON.stringify(next), { condition: stored?.etag ? { ifMatch: stored.etag } : { ifNoneMatch: '*' } });
      // Another invocation changed the index since it was read: read it again and redo (case writes are idempotent).
      if (put === 'precondition-failed') continue;
    }
    const batch: SnapshotBatch = {
      schemaVersion: BATCH_SCHEMA_VERSION,
      deliveryKey: delivery.key,
      service,
      logGroup: delivery.logGroup,
      logStream: delivery.logStream,
      firstEventId: delivery.logEvents[0].id,
      eventCount: delivery.logEvents.length,
      receivedAt: now,
      cases: deltas.map((d) => ({ caseId: d.caseId, count: d.count, created: createdIds.has(d.caseId), records: d.positions })),
      records,
      rejected: delivery.rejected,
    };
    // 412 here means a concurrent re-delivery stored the same batch: nothing is lost either way.
    await store.put(batchKey, JSON.stringify(batch), { condition: { ifNoneMatch: '*' } });
    return { ...base, status: 'written', cases: deltas.length, created, updated };
  }
  throw new Error(`${indexKey} changed under ${INDEX_ATTEMPTS} consecutive writes; the delivery fails so Lambda retries it`);
}

/** Writes one case: create it (conditional on absence), or merge into the stored one (conditional on its ETag). */
async function writeCase(
  store: ObjectStore,
  d: CaseDelta,
  prev: CaseIndexEntry | undefined,
  entry: CaseIndexEntry,
  need: 'create' | 'update',
  now: string,
): Promise<{ state: CaseState; created: boolean }> {
  let state: CaseState = prev?.state ?? 'candidate';
  const tags = (s: CaseState) => (s === 'candidate' ? CANDIDATE_TAG : undefined);
  if (need === 'create') {
    const key = storeKeys.case(d.service, state, d.caseId);
    const fresh = mergeCase(undefined, d, entry, now);
    if ((await store.put(key, JSON.stringify(fresh), { condition: { ifNoneMatch: '*' }, tags: tags(state) })) === 'written') return { state, created: true };
  }
  for (let attempt = 0; attempt < INDEX_ATTEMPTS; attempt++) {
    let key = storeKeys.case(d.service, state, d.caseId);
    let current = await store.get(key);
    if (!current) {
      // Promoted, retired or expired since the index was read: find it under another state before creating it again.
      for (const s of CASE_STATES.filter((x) => x !== state)) {
        const other = await store.get(storeKeys.case(d.service, s, d.caseId));
        if (other) {
          state = s;
          key = storeKeys.case(d.service, s, d.caseId);
          current = other;
          break;
        }
      }
    }
    if (!current) {
      const fresh = mergeCase(undefined, d, { ...entry, state: 'candidate' }, now);
      const put = await store.put(storeKeys.case(d.service, 'candidate', d.caseId), JSON.stringify(fresh), {
        condition: { ifNoneMatch: '*' },
        tags: CANDIDATE_TAG,
      });
      if (put === 'written') return { state: 'candidate', created: true };
      state = 'candidate';
      continue;
    }
    const merged = mergeCase(parseCase(current.body, key), d, { ...entry, state }, now);
    const put = await store.put(key, JSON.stringify(merged), { condition: current.etag ? { ifMatch: current.etag } : undefined, tags: tags(state) });
    if (put === 'written') return { state, created: false };
  }
  throw new Error(`case ${d.caseId} of ${d.service} changed under ${INDEX_ATTEMPTS} consecutive writes; the delivery fails so Lambda retries it`);
}

/**
 * Writes the object of a case seen before only in a batch: its first batch's fold (absent when that batch is gone:
 * expired, or never written because its delivery failed for good after the index) merged with this delivery's.
 * Created conditionally; if it exists already (a concurrent delivery wrote it), this delivery merges into it.
 */
async function promoteFromBatch(store: ObjectStore, d: CaseDelta, first: CaseDelta | undefined, now: string): Promise<CaseIndexEntry> {
  const base = first ? mergeEntry(undefined, first, now) : undefined;
  const entry = mergeEntry(base, d, now);
  const seed = first && base ? mergeCase(undefined, first, base, first.firstSeen) : undefined;
  const key = storeKeys.case(d.service, 'candidate', d.caseId);
  if ((await store.put(key, JSON.stringify(mergeCase(seed, d, entry, now)), { condition: { ifNoneMatch: '*' }, tags: CANDIDATE_TAG })) === 'written')
    return entry;
  const r = await writeCase(store, d, base, entry, 'update', now);
  return { ...entry, state: r.state };
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
