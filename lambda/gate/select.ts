import { FAILURE_KINDS, type FailureKind, type GateCandidateMode, type RegressionCase, type ReleaseReview, STORE_PREFIX } from '../shared/contract';
import { isMovedMarker } from '../shared/case-index';
import { casesOfBatch, parseBatch, parseCase, parseIndex, storeKeys } from '../snapshot/cases';
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
  /** Case files that could not be replayed (malformed, or their body disagrees with their key): each fails as a case. */
  readonly problems: readonly CaseFileProblem[];
}

/** A case file the gate could not take as a case, and why (reported as a failed case, never skipped). */
export interface CaseFileProblem {
  readonly key: string;
  readonly caseId: string;
  readonly state: 'accepted' | 'candidate';
  readonly blocking: boolean;
  readonly reason: string;
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
  const acceptedRead = await readCases(store, service, 'accepted');
  const candidatesRead = options.candidates === 'off' ? { cases: [], problems: [] } : await readCases(store, service, 'candidate');
  const accepted = acceptedRead.cases;
  const candidates = candidatesRead.cases;
  const problems: CaseFileProblem[] = [
    ...acceptedRead.problems.map((p) => ({ ...p, blocking: true })),
    ...candidatesRead.problems.map((p) => ({ ...p, blocking: options.candidates === 'block' })),
  ];
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
    totals: {
      blocking: blockingPool.length + problems.filter((p) => p.blocking).length,
      reported: reportedPool.length + problems.filter((p) => !p.blocking).length,
    },
    sampled,
    ...(must.review ? { lastReview: must.review } : {}),
    notes: problems.length > 0 ? [...notes, `${problems.length} case file(s) could not be replayed: each counts as a failed case (fix or retire it)`] : notes,
    problems,
  };
}

/** Case objects read at once: one GET each, small objects, so latency-bound. */
export const READ_CONCURRENCY = 32;

async function readCases(
  store: GateStore,
  service: string,
  state: 'accepted' | 'candidate',
): Promise<{ cases: RegressionCase[]; problems: Omit<CaseFileProblem, 'blocking'>[] }> {
  const keys = (await store.list(storeKeys.casesPrefix(service, state))).filter((k) => k.endsWith('.json'));
  const problems: Omit<CaseFileProblem, 'blocking'>[] = [];
  const read = await mapLimit(keys, READ_CONCURRENCY, async (key) => {
    const o = await store.get(key);
    if (!o) return undefined; // deleted since the listing
    const caseId = key.slice(key.lastIndexOf('/') + 1, -'.json'.length);
    let value: unknown;
    try {
      value = JSON.parse(o.body);
    } catch (e) {
      problems.push({ key, caseId, state, reason: `not valid JSON (${(e as Error).message.slice(0, 120)})` });
      return undefined;
    }
    if (isMovedMarker(value)) return undefined; // promoted or retired away from here: the marker a move leaves
    // A format this code does not know fails the whole gate (upgrade), as parseCase says; a known one is checked field by field.
    if ((value as { schemaVersion?: unknown })?.schemaVersion !== 1 || typeof value !== 'object') parseCase(o.body, key);
    const reason = caseShapeProblem(value as Record<string, unknown>, service, state, caseId);
    if (reason) {
      problems.push({ key, caseId, state, reason });
      return undefined;
    }
    return value as RegressionCase;
  });
  const cases = read.filter((c): c is RegressionCase => c !== undefined);
  if (state === 'candidate') cases.push(...(await entryOnlyCandidates(store, service, new Set(cases.map((c) => c.caseId)))));
  return { cases, problems };
}

/**
 * Candidates seen in two or more deliveries that have no object (the snapshot writes one only when a case learns a
 * kind or a version): their counters are in the index entry, their content in the first batch that held them.
 */
async function entryOnlyCandidates(store: GateStore, service: string, have: ReadonlySet<string>): Promise<RegressionCase[]> {
  const indexKey = storeKeys.index(service);
  const o = await store.get(indexKey);
  if (!o) return [];
  const index = parseIndex(o.body, indexKey);
  const byBatch = new Map<string, string[]>();
  for (const [id, e] of Object.entries(index.cases))
    if (e.state === 'candidate' && e.firstBatch && !have.has(id)) byBatch.set(e.firstBatch, [...(byBatch.get(e.firstBatch) ?? []), id]);
  const found = await mapLimit([...byBatch], 8, async ([deliveryKey, ids]) => {
    const key = storeKeys.batch(service, deliveryKey);
    const b = await store.get(key);
    if (!b) return []; // expired with its batch
    const folded = casesOfBatch(parseBatch(b.body, key));
    return ids.flatMap((id) => {
      const c = folded.get(id);
      const e = index.cases[id];
      return c ? [{ ...c, count: e.count, firstSeen: e.firstSeen, lastSeen: e.lastSeen, kinds: e.kinds }] : [];
    });
  });
  return found.flat();
}

/** What makes a stored case unusable by the gate, or undefined. Its key says its service, state and id: the body must agree. */
export function caseShapeProblem(c: Record<string, unknown>, service: string, state: string, caseId: string): string | undefined {
  if (c.state !== state)
    return `its body says state ${JSON.stringify(c.state)} but it is stored under ${state}/: promote or retire it with the CLI, or fix the file`;
  if (c.caseId !== caseId) return `its body says caseId ${JSON.stringify(c.caseId)} but its key says ${caseId}: restore the file under its own id`;
  if (c.service !== service) return `its body says service ${JSON.stringify(c.service)} but it is stored under ${service}/`;
  if (typeof c.input !== 'string') return 'input must be the recorded input (a string)';
  if (!Array.isArray(c.kinds) || !c.kinds.every((k) => (FAILURE_KINDS as readonly unknown[]).includes(k)))
    return `kinds must be a list of ${FAILURE_KINDS.join(', ')}`;
  if (typeof c.firstSeen !== 'string' || typeof c.lastSeen !== 'string') return 'firstSeen and lastSeen must be ISO-8601 times';
  if (c.expectation !== undefined && (c.expectation === null || typeof c.expectation !== 'object' || Array.isArray(c.expectation)))
    return 'expectation must be an object (see CaseExpectation)';
  const e = (c.expectation ?? {}) as Record<string, unknown>;
  for (const f of ['mustMatch', 'mustNotMatch'])
    if (e[f] !== undefined && !(Array.isArray(e[f]) && (e[f] as unknown[]).every((p) => typeof p === 'string')))
      return `expectation.${f} must be a list of regular expressions (strings)`;
  for (const f of ['maxLatencyMs', 'minQuality']) if (e[f] !== undefined && typeof e[f] !== 'number') return `expectation.${f} must be a number`;
  return undefined;
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
