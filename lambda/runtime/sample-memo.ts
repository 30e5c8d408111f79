import { sha256Hex } from '../shared/canonical-json';
import { type Redactor, redact } from './redact';

/**
 * The built-in redactor's answers for short texts that repeat from sample to sample (h9-hotpath): passage ids,
 * citations, tool names and stop reasons come from one knowledge base and one tool list, so an execution environment
 * redacts the same few dozen strings again and again. `redact` is a function of its text, so its answer can be kept;
 * a service's own redactor (AiRuntimeOptions.redactor) is always called. Bounded: at most MEMO_ENTRIES texts of at most
 * MEMO_MAX_CHARS characters (under 1 MB), dropped all at once when full. The texts stay in the process's memory only,
 * where they already are; nothing of this reaches a log.
 */
export const MEMO_ENTRIES = 512;
export const MEMO_MAX_CHARS = 256;

const memo = new Map<string, string>();

export function redactShort(redactor: Redactor, text: string): string {
  if (redactor !== redact || text.length > MEMO_MAX_CHARS) return redactor(text);
  let out = memo.get(text);
  if (out === undefined) {
    out = redact(text);
    if (memo.size >= MEMO_ENTRIES) memo.clear();
    memo.set(text, out);
  }
  return out;
}

/** Texts kept now (for tests). */
export function redactShortEntries(): number {
  return memo.size;
}

/**
 * The sample's hash of a retrieved passage's text (the first 16 hex digits of its SHA-256), kept for texts that come
 * back (h9-hotpath): a knowledge base serves the same passages to many requests, and each sampled answer hashes
 * every passage it was given (one SHA-256 of up to a few KB each; a Map lookup reads the text once). Bounded like the
 * redaction memo: at most MEMO_ENTRIES texts of at most PASSAGE_MEMO_MAX_CHARS characters (under 2 MB), dropped all
 * at once when full; longer texts are hashed every time.
 */
export const PASSAGE_MEMO_MAX_CHARS = 2048;

const passageMemo = new Map<string, string>();

export function passageTextHash(text: string): string {
  if (text.length > PASSAGE_MEMO_MAX_CHARS) return sha256Hex(text).slice(0, 16);
  let out = passageMemo.get(text);
  if (out === undefined) {
    out = sha256Hex(text).slice(0, 16);
    if (passageMemo.size >= MEMO_ENTRIES) passageMemo.clear();
    passageMemo.set(text, out);
  }
  return out;
}

/** Passage texts kept now (for tests). */
export function passageTextHashEntries(): number {
  return passageMemo.size;
}
