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
 * - a conversation on live can move to the candidate when the share grows (its u falls between the old and the new
 *   share): monotonicity alone stops only the candidate → live switch. A conversation that says when it started
 *   (`conversationStartedAt`) is assigned with the share in force at its start (the document's history), so it keeps
 *   one arm for its whole life; one that started before the release stays on live;
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
 * document's history (0 before the release), never above the current share (a rollback always wins).
 */
export function shareAt(doc: CanaryShareDocument, startedAt: number | undefined): number {
  if (startedAt === undefined || !Number.isFinite(startedAt) || !doc.history || doc.history.length === 0) return doc.share;
  let then = 0;
  for (const h of doc.history) if (h.at <= startedAt) then = h.share;
  return Math.min(then, doc.share);
}

/** The arm of one unit under one share document; `startedAt`: when its conversation started, if the caller says. */
export function assign(doc: CanaryShareDocument, unit: AssignmentUnit, startedAt?: number): ConfigAssignment {
  const key = doc.releaseKey;
  const share = unit.kind === 'conversation' ? shareAt(doc, startedAt) : doc.share;
  if (key === '') return { arm: 'live', share: 0, releaseKey: '', unit: '', unitKind: unit.kind };
  const { position, unit: hashed } = unitPosition(key, unit.id);
  return { arm: position < share ? 'candidate' : 'live', share, releaseKey: key, unit: hashed, unitKind: unit.kind };
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
