import { caseEvaluationProblem } from '../../lambda/gate/evaluate';
import {
  type BatchedCases,
  type CaseIndex,
  type CaseIndexEntry,
  INDEX_SCHEMA_VERSION,
  isMovedMarker,
  type MovedMarker,
  type SnapshotBatch,
} from '../../lambda/shared/case-index';
import { CASE_STATES, type CaseExpectation, STORE_PREFIX, type CaseState, type CaseTransition, type RegressionCase } from '../../lambda/shared/contract';
import {
  CANDIDATE_TAG,
  CASE_LIMITS,
  caseIdOf,
  casesOfBatch,
  emptyIndex,
  foldRecords,
  maxIso,
  mergeCase,
  mergeEntry,
  minIso,
  parseBatch,
  parseIndex,
  parseStoredCase,
  storeKeys,
  unionKinds,
} from '../../lambda/snapshot/cases';
import { mapLimit, type ObjectStore, type RetryPolicy, withRetries } from '../../lambda/snapshot/store';
import { type EvaluatorAgreement, HUMAN_LABELS, type HumanLabelValue, impliedLabel, type LabelSet } from '../../lambda/shared/evaluator-agreement';
import { measureAgreement, readLabels, recordLabel } from '../../lambda/shared/label-store';
import { findScoredSample, type ScoredSampleRef, scoredSamplesPrefix } from '../../lambda/shared/sample-labels';

export type { ObjectStore, PutCondition, PutOptions, RetryPolicy, StoredObject } from '../../lambda/snapshot/store';
export { isRetryableError, withRetries } from '../../lambda/snapshot/store';
export type { CaseIndex, CaseIndexEntry, SnapshotBatch } from '../../lambda/shared/case-index';
export { caseIdOf, defaultExpectation, normalizeInput, storeKeys } from '../../lambda/snapshot/cases';

/** Who changed a case's state and why: both required, both kept in the case's history. */
export interface CaseDecision {
  /** A person or a pipeline, e.g. `alice@example.com` or `ci:release-42`. */
  readonly by: string;
  readonly reason: string;
}

/** A person's label of a case's answer (see lambda/shared/evaluator-agreement.ts): `bad` = the failure is real. */
export interface LabelOptions {
  readonly label: HumanLabelValue;
  /** A person or a pipeline. */
  readonly by: string;
  /** Why. @default none */
  readonly reason?: string;
}

export interface PromoteOptions extends CaseDecision {
  /** Replaces the default expectation (derived from the failure kinds). @default the case's expectation */
  readonly expectation?: CaseExpectation;
}

/**
 * The regression set of one platform: list, show, promote and retire cases. What the CLI and the gate use; the
 * snapshot function writes candidates with the same case logic (lambda/snapshot/cases.ts).
 *
 * Counters (count, first/last seen, kinds) are read from the index, which every delivery updates; a case object is
 * rewritten only when it learns something (a new kind or version) or is due its refresh, so the index is the
 * authority on counters and the object on content, state and history. Every read here merges the two.
 *
 * A candidate seen in one delivery only has no object yet: the index points at the batch object that holds its
 * records (`batch`), and list/show fold it from there. Promoting or retiring it writes its object.
 */
export class RegressionCases {
  /**
   * The regression set in an S3 bucket. Needs `@aws-sdk/client-s3` installed (loaded only here, so importing the
   * library does not need it).
   */
  public static s3(bucket: string, options: { readonly region?: string; readonly retry?: RetryPolicy; readonly client?: unknown } = {}): RegressionCases {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new Error(`bucket must be an S3 bucket name, got "${bucket}"`);
    const { S3Client } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
    const { s3Store } = require('../../lambda/snapshot/s3-store') as typeof import('../../lambda/snapshot/s3-store');
    const client = (options.client as InstanceType<typeof S3Client>) ?? new S3Client({ region: options.region, maxAttempts: 1 });
    return new RegressionCases(withRetries(s3Store(client, bucket), options.retry));
  }

  constructor(private readonly store: ObjectStore) {}

  /** Services with an index in the store. */
  public async services(): Promise<string[]> {
    const keys = await this.store.list('index/');
    return keys.filter((k) => k.endsWith('.json')).map((k) => k.slice('index/'.length, -'.json'.length));
  }

  /** The service's case index (empty when nothing was stored yet). */
  public async index(service: string): Promise<CaseIndex> {
    checkService(service);
    const key = storeKeys.index(service);
    const o = await this.store.get(key);
    return o ? parseIndex(o.body, key) : emptyIndex(service, new Date(0).toISOString());
  }

  /** Cases of a service, in one state or all, most recently seen first. */
  public async list(service: string, state?: CaseState): Promise<RegressionCase[]> {
    checkService(service);
    if (state !== undefined) checkState(state);
    const index = await this.index(service);
    const keys = await this.store.list(storeKeys.casesPrefix(service, state));
    const read = await mapLimit(keys, 8, async (key) => {
      const o = await this.store.get(key);
      const c = o ? parseStoredCase(o.body, key) : undefined; // undefined: expired or deleted since the listing
      return c && !isMovedMarker(c) ? c : undefined; // a marker: the case moved, its object is under its new state
    });
    const cases = read.filter((c): c is RegressionCase => c !== undefined).map((c) => withCounters(c, index.cases[c.caseId]));
    if (state === undefined || state === 'candidate') {
      const withObject = new Set(cases.map((c) => c.caseId));
      cases.push(...(await this.batchResident(service, index, (id) => !withObject.has(id))));
    }
    return cases.sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : a.lastSeen > b.lastSeen ? -1 : a.caseId.localeCompare(b.caseId)));
  }

  /** One case by id (or by the input it failed on: pass `{ input }`), or undefined. */
  public async show(service: string, id: string | { readonly input: string }): Promise<RegressionCase | undefined> {
    checkService(service);
    const caseId = typeof id === 'string' ? id : caseIdOf(service, id.input);
    const found = await this.locate(service, caseId);
    if (!found) return undefined;
    return withCounters(found.case, (await this.index(service)).cases[caseId]);
  }

  /** candidate → accepted: the case now blocks releases that fail its expectation. */
  public async promote(service: string, caseId: string, options: PromoteOptions): Promise<RegressionCase> {
    return this.move(service, caseId, 'accepted', options, ['candidate'], options.expectation);
  }

  /** candidate or accepted → retired: the case no longer blocks (kept, with who and why). */
  public async retire(service: string, caseId: string, decision: CaseDecision): Promise<RegressionCase> {
    return this.move(service, caseId, 'retired', decision, ['candidate', 'accepted']);
  }

  /**
   * Labels a case's answer `good` or `bad`: the labelled set the evaluator's agreement with people is measured on.
   * Written to `evaluations/<service>/labels.json` by compare-and-swap; an explicit label replaces the one a promote
   * or retire implied. `id` is a case id, or the id of any evaluation sample the evaluator scored (kept in the store
   * under `evaluations/<service>/samples/`): a sample's label is kept under the case id of its input, with its request
   * id, so the agreement counts it whether or not the sample became a case.
   */
  public async label(service: string, id: string, options: LabelOptions): Promise<LabelSet> {
    checkService(service);
    if (!(HUMAN_LABELS as readonly string[]).includes(options?.label))
      throw new Error(`label must be one of ${HUMAN_LABELS.join(', ')} (good: the answer was acceptable; bad: the failure is real), got "${options?.label}"`);
    if (!options.by?.trim()) throw new Error('label needs "by": who labels (a person or a pipeline id)');
    const found = await this.locate(service, id);
    const sample = found ? undefined : await this.scoredSample(service, id);
    if (!found && !sample)
      throw new Error(
        `no case and no scored sample ${id} for service ${service}; list the cases with list("${service}"), the scored samples under ${scoredSamplesPrefix(service)} (a sample the budget skipped is not kept)`,
      );
    return recordLabel(this.store, service, {
      caseId: found ? id : (sample as ScoredSampleRef).caseId,
      label: options.label,
      source: 'label',
      by: options.by.trim(),
      ...(options.reason?.trim() ? { reason: options.reason.trim() } : {}),
      at: new Date().toISOString(),
      requestIds: found ? found.case.sampleRequestIds : [(sample as ScoredSampleRef).requestId],
      ...(sample ? { sampleId: sample.sampleId } : {}),
    });
  }

  /** A scored evaluation sample by id or unique prefix (≥ 6 hex characters), or undefined; throws on an ambiguous prefix. */
  public async scoredSample(service: string, id: string): Promise<ScoredSampleRef | undefined> {
    checkService(service);
    return findScoredSample(this.store, service, id);
  }

  /** People's labels of the service's cases (explicit, and implied by promote and retire), or undefined. */
  public async labels(service: string): Promise<LabelSet | undefined> {
    checkService(service);
    return readLabels(this.store, service);
  }

  /** The evaluator's agreement with people's labels (accuracy with a Wilson interval, Cohen's kappa), or undefined with no labels. */
  public async agreement(service: string, options: { readonly source?: string } = {}): Promise<EvaluatorAgreement | undefined> {
    checkService(service);
    return measureAgreement(this.store, service, options);
  }

  /**
   * Rewrites the index from the case objects and the batch objects (after a restore, a manual edit, or lifecycle
   * expiry). Counters fall back to what the case objects hold; a candidate with no object is folded from the batches
   * that hold it (counted over all of them, pointing at the earliest). Where a case exists under two states (a move interrupted between its writes, or a
   * candidate re-created while the index was lost), a person's decision wins over a snapshot's candidate, then the
   * latest transition, and the other copy is deleted.
   */
  public async rebuildIndex(service: string): Promise<CaseIndex> {
    checkService(service);
    const old = await this.index(service);
    const byId = new Map<string, { c: RegressionCase; key: string }>();
    for (const key of await this.store.list(storeKeys.casesPrefix(service))) {
      const o = await this.store.get(key);
      if (!o) continue;
      const c = parseStoredCase(o.body, key);
      if (isMovedMarker(c)) continue;
      const seen = byId.get(c.caseId);
      // The losing copy becomes a marker pointing at the winner (not deleted: a delivery must not re-create it).
      if (!seen || wins(c, seen.c)) {
        if (seen) await this.store.put(seen.key, JSON.stringify(marker(seen.c, c.state, 'rebuildIndex')));
        byId.set(c.caseId, { c, key });
      } else await this.store.put(key, JSON.stringify(marker(c, seen.c.state, 'rebuildIndex')));
    }
    const now = new Date().toISOString();
    const cases: Record<string, CaseIndexEntry> = {};
    for (const { c } of byId.values()) {
      const prev = old.cases[c.caseId];
      cases[c.caseId] = {
        state: c.state,
        count: Math.max(c.count, prev?.count ?? 0),
        firstSeen: prev ? minIso(prev.firstSeen, c.firstSeen) : c.firstSeen,
        lastSeen: prev ? maxIso(prev.lastSeen, c.lastSeen) : c.lastSeen,
        kinds: c.kinds,
        tuples: prev?.tuples ?? [],
        written: prev?.written ?? now,
      };
    }
    // Candidates with no object: from every batch of the service. One seen in one batch only goes back to its
    // group; one seen in several (its object was lost) gets an entry counted over them, and its object on its next sighting.
    const batchKeys = await this.store.list(`${STORE_PREFIX.BATCHES}/${service}/`);
    const batches = (
      await mapLimit(batchKeys, 8, async (key) => {
        const o = await this.store.get(key);
        return o ? parseBatch(o.body, key) : undefined;
      })
    )
      .filter((b): b is SnapshotBatch => b !== undefined)
      .sort((a, b) => (a.receivedAt < b.receivedAt ? -1 : a.receivedAt > b.receivedAt ? 1 : 0));
    const seenIn = new Map<string, { batch: SnapshotBatch; entry: CaseIndexEntry; c: RegressionCase; batches: number }>();
    for (const b of batches) {
      for (const [id, d] of foldRecords(b.records)) {
        if (byId.has(id)) continue;
        const s = seenIn.get(id);
        const entry = mergeEntry(s?.entry, d, now);
        seenIn.set(id, { batch: s?.batch ?? b, entry, c: mergeCase(s?.c, d, entry, b.receivedAt), batches: (s?.batches ?? 0) + 1 });
      }
    }
    const batched: Record<string, BatchedCases> = {};
    for (const [id, s] of seenIn) {
      if (s.batches > 1) {
        // Seen again but its object was lost: written now, as the snapshot function would have.
        await this.store.put(storeKeys.case(service, 'candidate', id), JSON.stringify(s.c), { condition: { ifNoneMatch: '*' }, tags: CANDIDATE_TAG });
        cases[id] = s.entry;
        continue;
      }
      const g = batched[s.batch.deliveryKey] ?? { at: s.batch.receivedAt, ids: [] };
      batched[s.batch.deliveryKey] = { at: g.at, ids: [...g.ids, id] };
    }
    const next: CaseIndex = { schemaVersion: INDEX_SCHEMA_VERSION, service, updated: now, cases, batched, recentBatches: old.recentBatches };
    await this.store.put(storeKeys.index(service), JSON.stringify(next));
    return next;
  }

  private async locate(service: string, caseId: string): Promise<{ case: RegressionCase; key?: string; etag?: string } | undefined> {
    if (!/^[0-9a-f]{32}$/.test(caseId)) throw new Error(`caseId must be 32 lower-case hex characters (as listed by list()), got "${caseId}"`);
    const index = await this.index(service);
    const entry = index.cases[caseId];
    const hinted = entry?.state;
    for (const state of hinted ? [hinted, ...CASE_STATES.filter((s) => s !== hinted)] : CASE_STATES) {
      const key = storeKeys.case(service, state, caseId);
      const o = await this.store.get(key);
      if (!o) continue;
      const c = parseStoredCase(o.body, key);
      if (!isMovedMarker(c)) return { case: c, key, etag: o.etag };
    }
    // A candidate seen in one delivery only: its records are in that batch object. Or one whose second sighting is
    // committed to the index but whose object is not written yet: its content is in its first batch, counters in the index.
    const [c] = await this.batchResident(service, index, (id) => id === caseId);
    return c ? { case: c } : undefined;
  }

  private async move(
    service: string,
    caseId: string,
    to: CaseState,
    decision: CaseDecision,
    from: readonly CaseState[],
    expectation?: CaseExpectation,
  ): Promise<RegressionCase> {
    checkService(service);
    if (!decision?.by?.trim()) throw new Error(`${to === 'accepted' ? 'promote' : 'retire'} needs "by": who decides (a person or a pipeline id)`);
    if (!decision?.reason?.trim())
      throw new Error(
        `${to === 'accepted' ? 'promote' : 'retire'} needs "reason": why this case should ${to === 'accepted' ? 'block releases' : 'stop blocking'}`,
      );
    if (expectation) checkExpectation(expectation);
    // The move's commit is the marker at the old key, conditional on the version read (If-Match), or on absence
    // (If-None-Match) for a case that had no object: a delivery that updated or created the old object in between makes
    // it fail, and the move is redone from a fresh read, so nothing the delivery wrote is lost. After the marker, no
    // delivery can write the old key again (its If-Match ETag is stale; If-None-Match finds the marker): it follows the
    // marker to the new state. The new object is written first, so an interruption leaves the case in two states,
    // never in none (a retried move or rebuildIndex settles it).
    for (let attempt = 0; attempt < 8; attempt++) {
      const found = await this.locate(service, caseId);
      if (!found) throw new Error(`no case ${caseId} for service ${service}; list the cases with list("${service}")`);
      const c = found.case;
      if (!from.includes(c.state)) throw new Error(`case ${caseId} of ${service} is ${c.state}; only a ${from.join(' or ')} case can become ${to}`);
      const index = await this.index(service);
      const transition: CaseTransition = { from: c.state, to, at: new Date().toISOString(), by: decision.by.trim(), reason: decision.reason.trim() };
      const moved: RegressionCase = {
        ...withCounters(c, index.cases[caseId]),
        state: to,
        ...(expectation ? { expectation } : {}),
        history: [...c.history, transition].slice(-CASE_LIMITS.HISTORY),
      };
      const tags = to === 'candidate' ? CANDIDATE_TAG : undefined;
      const toKey = storeKeys.case(service, to, caseId);
      // Nothing else writes the new key before the marker exists (a delivery writes where the index or a marker
      // points), so an object there is this move's own earlier attempt: replaced.
      await this.store.put(toKey, JSON.stringify(moved), { tags });
      const fromKey = found.key ?? storeKeys.case(service, c.state, caseId);
      const claimed = await this.store.put(fromKey, JSON.stringify(marker(c, to, decision.by.trim())), {
        condition: found.etag ? { ifMatch: found.etag } : { ifNoneMatch: '*' },
      });
      if (claimed === 'precondition-failed') continue; // a delivery changed the case since it was read: read it again
      await this.updateIndex(service, caseId, (e) => ({ ...(e ?? entryOf(moved)), state: to }));
      // The decision is also a label of the case's answer (promote: bad; retire of a candidate: good).
      const implied = impliedLabel(c.state, to);
      if (implied) {
        try {
          await recordLabel(this.store, service, {
            caseId,
            ...implied,
            by: transition.by,
            reason: transition.reason,
            at: transition.at,
            requestIds: c.sampleRequestIds,
          });
        } catch (e) {
          throw new Error(
            `case ${caseId} is ${to} now, but recording the label it implies failed (${(e as Error).message}); record it with label("${service}", "${caseId}", { label: "${implied.label}", by })`,
          );
        }
      }
      return moved;
    }
    throw new Error(`case ${caseId} of ${service} kept changing under concurrent deliveries; try again`);
  }

  /** Candidates that live only in batch objects (see the class comment), folded from their batches; one read per batch. */
  private async batchResident(service: string, index: CaseIndex, want: (caseId: string) => boolean): Promise<RegressionCase[]> {
    const byBatch = new Map<string, string[]>();
    for (const [deliveryKey, g] of Object.entries(index.batched ?? {}))
      for (const id of g.ids) if (want(id)) byBatch.set(deliveryKey, [...(byBatch.get(deliveryKey) ?? []), id]);
    // Seen again and committed to the index, its object not written yet (or lost): folded from its first batch.
    for (const [id, e] of Object.entries(index.cases))
      if (e.state === 'candidate' && e.firstBatch && want(id)) byBatch.set(e.firstBatch, [...(byBatch.get(e.firstBatch) ?? []), id]);
    const found = await mapLimit([...byBatch], 8, async ([deliveryKey, ids]) => {
      const key = storeKeys.batch(service, deliveryKey);
      const o = await this.store.get(key);
      // Absent: expired by the batch lifecycle, or its delivery never completed (the on-failure destination has it).
      if (!o) return [];
      const folded = casesOfBatch(parseBatch(o.body, key));
      return ids
        .map((id) => folded.get(id))
        .filter((c): c is RegressionCase => c !== undefined)
        .map((c) => withCounters(c, index.cases[c.caseId]));
    });
    return found.flat();
  }

  private async updateIndex(service: string, caseId: string, change: (e: CaseIndexEntry | undefined) => CaseIndexEntry): Promise<void> {
    const key = storeKeys.index(service);
    for (let attempt = 0; attempt < 40; attempt++) {
      // Busy services commit a delivery every few hundred milliseconds: back off with full jitter between attempts.
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.floor(Math.random() * Math.min(1000, 20 * 2 ** Math.min(attempt, 6)))));
      const o = await this.store.get(key);
      const index = o ? parseIndex(o.body, key) : emptyIndex(service, new Date().toISOString());
      const next: CaseIndex = {
        ...index,
        schemaVersion: INDEX_SCHEMA_VERSION,
        updated: new Date().toISOString(),
        cases: { ...index.cases, [caseId]: change(index.cases[caseId]) },
        // The case has its object now: it leaves its batch group.
        batched: withoutIds(index.batched, new Set([caseId])),
      };
      const r = await this.store.put(key, JSON.stringify(next), { condition: o?.etag ? { ifMatch: o.etag } : { ifNoneMatch: '*' } });
      if (r === 'written') return;
    }
    throw new Error(`${key} kept changing under concurrent writes; try again`);
  }
}

/** The batch groups without the given ids (empty groups dropped). */
function withoutIds(batched: CaseIndex['batched'], ids: ReadonlySet<string>): Record<string, BatchedCases> {
  const out: Record<string, BatchedCases> = {};
  for (const [key, g] of Object.entries(batched ?? {})) {
    const left = g.ids.filter((id) => !ids.has(id));
    if (left.length > 0) out[key] = left.length === g.ids.length ? g : { at: g.at, ids: left };
  }
  return out;
}

/**
 * The index's live counters over the case object's last-written ones. The index is the authority on the count: it is
 * the only counter updated by compare-and-swap, once per delivery (an object's count can lag it, or be ahead of it
 * when written by a delivery that never committed).
 */
function withCounters(c: RegressionCase, e: CaseIndexEntry | undefined): RegressionCase {
  if (!e) return c;
  return {
    ...c,
    count: e.count,
    firstSeen: minIso(e.firstSeen, c.firstSeen),
    lastSeen: maxIso(e.lastSeen, c.lastSeen),
    kinds: unionKinds(c.kinds, e.kinds),
  };
}

function entryOf(c: RegressionCase): CaseIndexEntry {
  return { state: c.state, count: c.count, firstSeen: c.firstSeen, lastSeen: c.lastSeen, kinds: c.kinds, tuples: [], written: new Date().toISOString() };
}

function marker(c: RegressionCase, to: CaseState, by: string): MovedMarker {
  return { schemaVersion: 1, moved: true, caseId: c.caseId, service: c.service, from: c.state, to, at: new Date().toISOString(), by };
}

function lastTransition(c: RegressionCase): string {
  return c.history.at(-1)?.at ?? '';
}

/** Whether `a` is the copy to keep over `b`: an accepted or retired case over a candidate, else the later transition. */
function wins(a: RegressionCase, b: RegressionCase): boolean {
  const decided = (c: RegressionCase) => (c.state === 'candidate' ? 0 : 1);
  if (decided(a) !== decided(b)) return decided(a) > decided(b);
  return lastTransition(a) > lastTransition(b);
}

function checkService(service: string): void {
  if (typeof service !== 'string' || !/^[a-z0-9-]{1,40}$/.test(service))
    throw new Error(`service must be a service name (lower-case letters, digits and dashes, at most 40), got "${service}"`);
}

function checkState(state: string): void {
  if (!(CASE_STATES as readonly string[]).includes(state)) throw new Error(`state must be one of ${CASE_STATES.join(', ')}, got "${state}"`);
}

function checkExpectation(e: CaseExpectation): void {
  for (const field of ['mustMatch', 'mustNotMatch'] as const) {
    for (const p of e[field] ?? []) {
      try {
        new RegExp(p);
      } catch (err) {
        throw new Error(`expectation.${field} has an invalid regular expression ${JSON.stringify(p)}: ${(err as Error).message}`);
      }
    }
  }
  if (e.maxLatencyMs !== undefined && !(e.maxLatencyMs > 0))
    throw new Error(`expectation.maxLatencyMs must be a positive number of milliseconds, got ${e.maxLatencyMs}`);
  if (e.minQuality !== undefined && !(e.minQuality >= 0 && e.minQuality <= 1))
    throw new Error(`expectation.minQuality must be between 0 and 1, got ${e.minQuality}`);
  // A reference answer or rubric floors: the gate's evaluator judges them (lambda/gate/evaluate.ts); the floors' scale
  // is the live evaluation section's, checked when the gate runs.
  const evaluation = caseEvaluationProblem(e);
  if (evaluation) throw new Error(evaluation);
}
