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
}

/** `index/<service>.json`: every case of one service by id. Rebuildable from `cases/` (RegressionCases.rebuildIndex). */
export interface CaseIndex {
  readonly schemaVersion: 1;
  readonly service: string;
  readonly updated: string;
  readonly cases: Readonly<Record<string, CaseIndexEntry>>;
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
  /** Per case: how many of this batch's records folded into it, and whether the batch created it. */
  readonly cases: readonly { readonly caseId: string; readonly count: number; readonly created: boolean }[];
  readonly records: readonly FailureRecord[];
  /** Log events that were not valid failure records (count and reasons only: their text is never stored). */
  readonly rejected: readonly { readonly eventId: string; readonly reason: string }[];
}

export const INDEX_SCHEMA_VERSION = 1;
export const BATCH_SCHEMA_VERSION = 1;
