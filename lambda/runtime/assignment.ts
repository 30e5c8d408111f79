/**
 * Config canary assignment (issue 16 C): which arm — live or candidate config — one conversation runs on during a
 * config release. Pure: no I/O, no clock; node:crypto only.
 *
 * A conversation's position is u = HMAC-SHA256(releaseKey, conversationId) read as a number in [0, 1); it is on the
 * candidate exactly when u < share. So:
 * - one conversation never mixes versions while the share only grows: on the candidate at share s means u < s, hence
 *   u < s' for every s' > s (monotone in the share);
 * - the share is exact in expectation and the split is random with respect to everything but the key: conversations
 *   are assigned independently of their content, time, execution environment or caller (the judge's randomization);
 * - keyed per release, so a conversation's arm in one release says nothing about its arm in the next;
 * - monotonicity alone stops only the candidate → live switch: a conversation on live would move to the candidate
 *   when the share grows (its u falls between the old and the new share). So a conversation is never assigned with
 *   the current share but with a share that does not change while it lives (`conversationShare`):
 *   - when its start is known — the caller says (`conversationStartedAt`), or the conversation id is time-ordered
 *     (UUIDv7, ULID: `startFromConversationId`) — the share in force at its start (the document's history); one that
 *     started before the release stays on live;
 *   - otherwise (an opaque id) the release's first share (`history[0]`), the same at every step: it cannot switch at
 *     a step. It can still move live → candidate once, at the release's start, if it began before the release (the
 *     runtime cannot know); the judge is told the share it was assigned with, so its null stays exact;
 * - share 0 sends everyone to live: rollback. A conversation on the candidate when the share drops to 0 is served
 *   by live from the runtime's next read of the share document on (at most one extension poll plus the runtime's
 *   TTL later); its remaining turns run on live. That is the one switch such a conversation can see.
 */
import { createHmac } from 'node:crypto';
import type { CanaryShareDocument, ConfigAssignment } from '../shared/contract';

/** Longest conversation id honoured; longer ones are hashed all the same, but a caller sending them is told. */
export const MAX_CONVERSATION_ID_CHARS = 256;

/** A conversation id's place: its position in [0, 1) and its 16-hex cluster id (both keyed by the release). */
export function unitPosition(releaseKey: string, id: string): { position: number; unit: string } {
  const digest = createHmac('sha256', releaseKey).update(id, 'utf8').digest();
  // 48 bits: exact in a double, resolution 3.6e-15, far below any share a controller sets.
  const position = digest.readUIntBE(0, 6) / 2 ** 48;
  return { position, unit: digest.subarray(0, 8).toString('hex') };
}

/** The unit an invocation is assigned by: its conversation when the caller names one, else the request. */
export interface AssignmentUnit {
  readonly id: string;
  readonly kind: 'conversation' | 'request';
}

/** No release runs: everyone on live. */
export const NO_RELEASE: CanaryShareDocument = { schemaVersion: 1, releaseKey: '', share: 0 };

/**
 * The share a conversation that started at `startedAt` (epoch ms) is assigned with: the share in force then per the
 * document's history (0 before the release), never above the current share (a rollback always wins). Without a start
 * (undefined) or a history, the current share: a caller that wants the share that never changes uses conversationShare.
 */
export function shareAt(doc: CanaryShareDocument, startedAt: number | undefined, settleMs = 0): number {
  if (startedAt === undefined || !Number.isFinite(startedAt) || !doc.history || doc.history.length === 0) return doc.share;
  let then = 0;
  // A step counts for conversations that start `settleMs` after it was set: by then every execution environment
  // has read it, so no environment assigned such a conversation with the step before (which would switch it).
  for (const h of doc.history) if (h.at + settleMs <= startedAt) then = h.share;
  return Math.min(then, doc.share);
}

/**
 * The share a conversation is assigned with, one that does not change at any step of the release: the share at its
 * start when known (shareAt), else the release's first share (`history[0].share`, never above the current one).
 * A document without a history (a hand-written one) gives the current share: such a release has no steps to switch at.
 */
export function conversationShare(doc: CanaryShareDocument, startedAt: number | undefined, settleMs = 0): number {
  if (startedAt !== undefined && Number.isFinite(startedAt)) return shareAt(doc, startedAt, settleMs);
  const first = doc.history?.[0];
  return first === undefined ? doc.share : Math.min(first.share, doc.share);
}

/**
 * The arm of one unit under one share document; `startedAt`: when its conversation started, if known; `settleMs`:
 * how long after a step it counts for conversations that start then (the most an environment lags the document).
 */
export function assign(doc: CanaryShareDocument, unit: AssignmentUnit, startedAt?: number, settleMs = 0): ConfigAssignment {
  const key = doc.releaseKey;
  const share = unit.kind === 'conversation' ? conversationShare(doc, startedAt, settleMs) : doc.share;
  if (key === '') return { arm: 'live', share: 0, releaseKey: '', unit: '', unitKind: unit.kind };
  const { position, unit: hashed } = unitPosition(key, unit.id);
  return { arm: position < share ? 'candidate' : 'live', share, releaseKey: key, unit: hashed, unitKind: unit.kind };
}

/** Earliest start a time-ordered id may carry (2015-01-01): an id claiming an earlier one is not read as a time. */
const EARLIEST_ID_TIME = Date.UTC(2015, 0, 1);
/** Latest (2100-01-01): ids from a broken clock or random bytes that happen to look time-ordered are not read as times. */
const LATEST_ID_TIME = Date.UTC(2100, 0, 1);
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/i;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * When a conversation started, read from a time-ordered conversation id (epoch ms), or undefined:
 * - UUIDv7 (RFC 9562 § 5.7): the first 48 bits are the Unix time in ms; version nibble 7, variant 10xx;
 * - ULID (github.com/ulid/spec): the first 10 Crockford base-32 characters are the Unix time in ms (26 characters);
 * - any other id (UUIDv4, opaque strings, UUIDv1/v6, KSUID) gives undefined: not parsed.
 * Times before 2015 or from 2100 on are not believed (undefined).
 */
export function startFromConversationId(id: string): number | undefined {
  let t: number | undefined;
  if (id.length === 36 && UUID_V7.test(id)) t = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  else if (id.length === 26 && ULID.test(id)) {
    t = 0;
    for (const c of id.slice(0, 10).toUpperCase()) t = t * 32 + CROCKFORD.indexOf(c);
  }
  return t !== undefined && t >= EARLIEST_ID_TIME && t < LATEST_ID_TIME ? t : undefined;
}

/** Why a share document cannot be used, each problem naming the field and the fix. Empty: usable. */
export function shareDocumentProblems(content: unknown): string[] {
  if (typeof content !== 'object' || content === null || Array.isArray(content))
    return ['the share document must be a JSON object { schemaVersion: 1, releaseKey, share } (the share controller writes it)'];
  const d = content as Record<string, unknown>;
  const problems: string[] = [];
  if (d.schemaVersion !== 1) problems.push(`schemaVersion is ${JSON.stringify(d.schemaVersion)}; this runtime reads schemaVersion 1 (upgrade the runtime)`);
  if (typeof d.releaseKey !== 'string') problems.push('releaseKey must be a string ("" when no release runs)');
  if (typeof d.share !== 'number' || !Number.isFinite(d.share) || d.share < 0 || d.share > 1)
    problems.push(`share is ${JSON.stringify(d.share)}; it must be a number from 0 to 1`);
  if (typeof d.share === 'number' && d.share > 0 && typeof d.candidateContentHash !== 'string')
    problems.push("a share above 0 needs candidateContentHash (the candidate's _release.contentHash), or no conversation can be placed on it safely");
  return problems;
}

/**
 * The conversation id a caller gave: `conversationId` or `sessionId` on the input object (strings of 1 to
 * MAX_CONVERSATION_ID_CHARS characters), or the ClientContext's `custom.conversationId`. Undefined when none.
 */
export function defaultConversationId(input: unknown, clientContext?: { readonly custom?: Readonly<Record<string, unknown>> } | null): string | undefined {
  try {
    const fromInput = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : undefined;
    for (const v of [fromInput?.conversationId, fromInput?.sessionId, clientContext?.custom?.conversationId]) {
      if (typeof v === 'string' && v.length > 0) return v.length > MAX_CONVERSATION_ID_CHARS ? v.slice(0, MAX_CONVERSATION_ID_CHARS) : v;
    }
  } catch {
    // a throwing getter on the input: no conversation
  }
  return undefined;
}

/**
 * When the caller's conversation started, epoch ms: `conversationStartedAt` on the input object (a number of ms, or an
 * ISO-8601 string) or in the ClientContext's `custom`. Undefined when not given or not a time.
 */
export function defaultConversationStart(input: unknown, clientContext?: { readonly custom?: Readonly<Record<string, unknown>> } | null): number | undefined {
  try {
    const fromInput = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : undefined;
    for (const v of [fromInput?.conversationStartedAt, clientContext?.custom?.conversationStartedAt]) {
      const t = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : Number.NaN;
      if (Number.isFinite(t) && t > 0) return t;
    }
  } catch {
    // a throwing getter: no start time
  }
  return undefined;
}
