import { FAILURE_KINDS, type FailureKind, type GateCandidateMode, type RegressionCase, type ReleaseReview, STORE_PREFIX } from '../shared/contract';
import { parseCase, storeKeys } from '../snapshot/cases';
import { mapLimit } from '../snapshot/store';
import type { GateStore } from './ports';

/** One case chosen for the replay, and whether its failure fails the gate. */
export interface SelectedCase {
  readonly c: RegressionCase;
  readonly blocking: boolean;
  /** Why it is in: it failed in the last review (always in), or was sampled. */
  readonly mustRun: boolean;
}

export interface Selection {
  readonly cases: readonly SelectedCase[];
  readonly totals: { readonly blocking: number; readonly reported: number };
  readonly sampled: boolean;
  /** The review whose failing cases were always included, when there was one. */
  readonly lastReview?: string;
  readonly notes: readonly string[];
}

/**
 * The cases to replay. Accepted cases block; candidates (objects under cases/<service>/candidate/) report or block by
 * `candidates`. Candidates seen in one delivery only live in batch objects and are left out: they have not repeated,
 * and reading every batch would make the gate's reads grow with the failure traffic instead of the case set.
 *
 * Above `cap`, a sample: first every case that failed in the last release (see `lastReleaseCases`), then the rest
 * stratified by failure kind (the most severe kind of each case), newest first in each stratum, taken round-robin
 * across strata so a rare kind is replayed even when another dominates. Blocking cases fill the cap before reported ones.
 */
export async function selectCases(store: GateStore, service: string, options: { cap: number; candidates: GateCandidateMode }): Promise<Selection> {
  const accepted = await readCases(store, service, 'accepted');
  const candidates = options.candidates === 'off' ? [] : await readCases(store, service, 'candidate');
  const must = await lastReleaseCases(store, service);
  const blockingPool = options.candidates === 'block' ? [...accepted, ...candidates] : accepted;
  const reportedPool = options.candidates === 'report' ? candidates : [];
  const notes: string[] = [];
  // A case seen during the last release: its [firstSeen, lastSeen] overlaps the release's window.
  const isMust = (c: RegressionCase) =>
    must.ids.has(c.caseId) || (must.since !== undefined && c.lastSeen >= must.since && (must.until === undefined || c.firstSeen <= must.until));
  const chosenBlocking = sample(blockingPool, options.cap, isMust);
  const room = Math.max(0, options.cap - chosenBlocking.length);
  const chosenReported = sample(reportedPool, room, isMust);
  const sampled = chosenBlocking.length < blockingPool.length || chosenReported.length < reportedPool.length;
  if (sampled)
    notes.push(
      `${blockingPool.length + reportedPool.length} cases over the cap of ${options.cap}: replayed ${chosenBlocking.length + chosenReported.length}, stratified by failure kind, newest first`,
    );
  const mustIn = chosenBlocking.filter(isMust).length;
  if (must.review && mustIn > 0) notes.push(`${mustIn} case(s) that failed in the last release (${must.review}) are always replayed`);
  if (mustIn > options.cap) notes.push(`the cases of the last release alone exceed the cap of ${options.cap}; all of them are replayed`);
  return {
    cases: [
      ...chosenBlocking.map((c) => ({ c, blocking: true, mustRun: isMust(c) })),
      ...chosenReported.map((c) => ({ c, blocking: false, mustRun: isMust(c) })),
    ],
    totals: { blocking: blockingPool.length, reported: reportedPool.length },
    sampled,
    ...(must.review ? { lastReview: must.review } : {}),
    notes,
  };
}

/** Case objects read at once: one GET each, small objects, so latency-bound. */
export const READ_CONCURRENCY = 32;

async function readCases(store: GateStore, service: string, state: 'accepted' | 'candidate'): Promise<RegressionCase[]> {
  const keys = (await store.list(storeKeys.casesPrefix(service, state))).filter((k) => k.endsWith('.json'));
  const read = await mapLimit(keys, READ_CONCURRENCY, async (key) => {
    const o = await store.get(key);
    return o ? parseCase(o.body, key) : undefined; // moved (promoted, retired) since the listing
  });
  return read.filter((c): c is RegressionCase => c !== undefined && c.state === state);
}

/**
 * The cases that failed in the last release: the newest review's top cases, plus every case seen during that release's
 * window (the review lists only its top cases, bounded; the window catches the rest). The newest review is
 * the one last written (S3 last-modified): review keys carry deployment ids, which do not sort by time.
 */
export async function lastReleaseCases(store: GateStore, service: string): Promise<{ ids: Set<string>; review?: string; since?: string; until?: string }> {
  const key = await store.newest(`${STORE_PREFIX.REVIEWS}/${service}/`, '.json');
  if (!key) return { ids: new Set() };
  const o = await store.get(key);
  if (!o) return { ids: new Set() };
  let review: ReleaseReview;
  try {
    review = JSON.parse(o.body) as ReleaseReview;
  } catch {
    return { ids: new Set(), review: key };
  }
  const ids = new Set((review.samples?.topCases ?? []).map((c) => c.caseId));
  const since = review.deployment?.startedAt ?? review.metrics?.start;
  const until = review.deployment?.endedAt ?? review.metrics?.end;
  return { ids, review: key, ...(since ? { since } : {}), ...(since && until ? { until } : {}) };
}

/** The most severe kind of a case (FAILURE_KINDS order): its stratum. */
export function stratumOf(c: RegressionCase): FailureKind {
  return FAILURE_KINDS.find((k) => c.kinds.includes(k)) ?? 'error';
}

const newestFirst = (a: RegressionCase, b: RegressionCase) => (a.lastSeen < b.lastSeen ? 1 : a.lastSeen > b.lastSeen ? -1 : a.caseId.localeCompare(b.caseId));

/**
 * At most `cap` cases of `pool` (all when it fits): every case `isMust` picks first (even past the cap), then round-robin
 * over the strata (failure kinds, in severity order), newest first within each.
 */
export function sample(pool: readonly RegressionCase[], cap: number, isMust: (c: RegressionCase) => boolean = () => false): RegressionCase[] {
  if (pool.length <= cap) return [...pool].sort(newestFirst);
  const chosen = pool.filter(isMust).sort(newestFirst);
  const strata = new Map<FailureKind, RegressionCase[]>();
  for (const k of FAILURE_KINDS) strata.set(k, []);
  for (const c of pool) if (!isMust(c)) strata.get(stratumOf(c))!.push(c);
  const queues = [...strata.values()].filter((q) => q.length > 0).map((q) => q.sort(newestFirst));
  let i = 0;
  while (chosen.length < cap && queues.some((q) => q.length > 0)) {
    const q = queues[i % queues.length];
    const next = q.shift();
    if (next) chosen.push(next);
    i += 1;
  }
  return chosen;
}
