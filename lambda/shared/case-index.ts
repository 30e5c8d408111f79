import type { CaseState, FailureKind, FailureRecord } from './contract';

/**
 * The two documents of the regression store besides the cases themselves (layout in contract.ts): the per-service
 * case index and the per-delivery batch object. Both are versioned; readers refuse versions they do not know.
 */

/** One case as the index sees it: where it lives and its live counters. */
export interface CaseIndexEntry {
  readonly state: CaseState;
  /** Failing requests folded into the case, all deliveries counted. The index is the authority on counters. */
  readonly count: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly kinds: readonly FailureKind[];
  /** Short hashes (12 hex) of the version tuples it failed on, newest last, bounded. */
  readonly tuples: readonly string[];
  /** When the case object was last written (drives the refresh that keeps live candidates from expiring). */
  readonly written: string;
  /**
   * The delivery key of the batch that first held the case, when it was seen there before it had an object. The index
   * is committed before the case object is written, so a reader that finds the entry but not yet the object folds the
   * case's content from this batch (its counters are the entry's).
   */
  readonly firstBatch?: string;
}

/**
 * What a promote or retire leaves at the key the case moved away from (`cases/<service>/<from>/<caseId>.json`): not a
 * case, a pointer to where it went. It stays (it carries no lifecycle tag), so a snapshot delivery that read the old
 * state before the move can neither update the old object (its If-Match ETag no longer holds) nor create it again
 * (If-None-Match fails on the marker): it reads the marker and follows it. Readers skip it.
 */
export interface MovedMarker {
  readonly schemaVersion: 1;
  readonly moved: true;
  readonly caseId: string;
  readonly service: string;
  readonly from: CaseState;
  readonly to: CaseState;
  readonly at: string;
  readonly by: string;
}

export function isMovedMarker(v: unknown): v is MovedMarker {
  return v !== null && typeof v === 'object' && (v as { moved?: unknown }).moved === true && typeof (v as { to?: unknown }).to === 'string';
}

/**
 * A batch's candidates seen in that delivery only: they have no object of their own, their records are in
 * `batches/<service>/<deliveryKey>.json` (which also gives their counters: one delivery's fold).
 */
export interface BatchedCases {
  /** When the batch was received (the review reads the batches received during a release; expiry drops old groups). */
  readonly at: string;
  readonly ids: readonly string[];
}

/**
 * `index/<service>.json`: where every case of one service lives. Rebuildable from `cases/` and `batches/`
 * (RegressionCases.rebuildIndex). A case seen in one delivery only is a bare id under its batch (`batched`, ~35 bytes);
 * a full entry with counters exists only for cases with an object (seen again, or promoted/retired), so the index
 * grows with the repeating inputs, and what every delivery reads and rewrites stays a fraction of the old
 * one-entry-per-input index (bench/RESULTS.md has the sizes).
 */
export interface CaseIndex {
  /** 2 adds `batched`; version 1 indexes (every case has its object) are still read. */
  readonly schemaVersion: 1 | 2;
  readonly service: string;
  readonly updated: string;
  /** Cases with an object under `cases/<service>/<state>/`, by id: the index is the authority on their counters. */
  readonly cases: Readonly<Record<string, CaseIndexEntry>>;
  /** Candidates that live only in a batch object, grouped by its delivery key (schemaVersion 2). */
  readonly batched?: Readonly<Record<string, BatchedCases>>;
  /** Delivery keys whose counters are in this index (newest last, bounded): a batch retried after a partial write is not counted twice. */
  readonly recentBatches: readonly string[];
}

/** `batches/<service>/<deliveryKey>.json`: one object per delivery batch, with every record it carried, redacted. */
export interface SnapshotBatch {
  readonly schemaVersion: 1;
  readonly deliveryKey: string;
  readonly service: string;
  readonly logGroup: string;
  readonly logStream: string;
  readonly firstEventId: string;
  readonly eventCount: number;
  readonly receivedAt: string;
  /**
   * Per case: how many of this batch's records folded into it, whether it was new to the index as read just before the
   * batch was stored (a concurrent delivery may have seen it too: the index decides), and the positions of its
   * records in `records` (so a later reader folds one case without hashing every record again).
   */
  readonly cases: readonly { readonly caseId: string; readonly count: number; readonly created: boolean; readonly records?: readonly number[] }[];
  readonly records: readonly FailureRecord[];
  /** Log events that were not valid failure records (count and reasons only: their text is never stored). */
  readonly rejected: readonly { readonly eventId: string; readonly reason: string }[];
}

export const INDEX_SCHEMA_VERSION = 2;
/** Index versions this code reads. */
export const INDEX_SCHEMA_VERSIONS_READ: readonly number[] = [1, 2];
export const BATCH_SCHEMA_VERSION = 1;
