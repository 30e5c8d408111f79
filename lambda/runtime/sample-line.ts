/**
 * A record line (an evaluation sample, a failure record) as one string, built once (h10-hot17): the Logger's envelope
 * serialized as it is, then the record's keys appended as `,"key":value` text, instead of setting ~20 keys on the
 * envelope object and serializing that. The old way turned the envelope into a dictionary-mode object (keyed stores
 * of keys it did not have), whose keys `JSON.stringify` then sorted by insertion index on every line, and walked the
 * whole merged object twice. The bytes are the same (test/sample-line.test.ts pins them against the old path on the
 * runtime's sample fixtures and the PII corpus): a record key the envelope also has keeps its place and takes the
 * record's value, top-level '' and null are dropped (Powertools' removeEmptyKeys), undefined is left out (as
 * JSON.stringify does), and a value that is not plain JSON makes the caller go through the Logger's API.
 *
 * Pure: no I/O. Only for the Logger's compact output (logIndentation 0, the Lambda default): an indented line
 * (POWERTOOLS_DEV) is still built the old way.
 */

/**
 * Whether `value` is plain JSON data (strings, numbers, booleans, null, undefined, plain objects and arrays, no cycle,
 * no toJSON, no key Powertools' merge skips): data for which Powertools' deep copy and its JSON replacer (Errors,
 * bigints, circular references) change nothing, so `JSON.stringify` alone writes what the Logger writes.
 * `budget.nodes` bounds the walk (a cycle or a huge value exhausts it, and the line goes through the Logger's API).
 */
export function plainJson(value: unknown, depth: number, budget: { nodes: number }): boolean {
  if (--budget.nodes < 0 || depth > 32) return false;
  const t = typeof value;
  if (t === 'string' || t === 'number' || t === 'boolean' || t === 'undefined') return true;
  if (t !== 'object') return false; // a bigint, a function, a symbol
  if (value === null) return true;
  const v = value as Record<string, unknown>;
  if (v.toJSON !== undefined) return false;
  const proto = Object.getPrototypeOf(v);
  if (Array.isArray(v)) {
    if (proto !== Array.prototype) return false;
    for (let i = 0; i < v.length; i++) if (!plainJson((v as unknown as unknown[])[i], depth + 1, budget)) return false;
    return true;
  }
  if (proto !== Object.prototype && proto !== null) return false;
  for (const k in v) {
    if (k === '__proto__' || k === 'constructor' || !plainJson(v[k], depth + 1, budget)) return false;
  }
  return true;
}

/** Quoted record keys (`"sampleId"`), kept: a record's keys are the contract's few names. */
const QUOTED = new Map<string, string>();
const QUOTED_MAX = 256;

function quoted(key: string): string {
  let q = QUOTED.get(key);
  if (q === undefined) {
    q = JSON.stringify(key);
    if (QUOTED.size < QUOTED_MAX) QUOTED.set(key, q);
  }
  return q;
}

/** A key JSON.stringify would not write in insertion order (an array index sorts first) or a merge would not set. */
function unordered(key: string): boolean {
  const c = key.charCodeAt(0);
  return (c >= 48 && c <= 57) || key === '__proto__';
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * `item` as Powertools writes it: undefined when a value is not plain JSON (the caller then uses the Logger's API),
 * else `item` itself, or a copy without its top-level '' and null values when it has any (undefined values
 * JSON.stringify leaves out itself). Shared by the compact line below and the adapter's indented one.
 */
export function withoutEmpty(item: Record<string, unknown>, budget: { nodes: number }): Record<string, unknown> | undefined {
  let empty = false;
  for (const k in item) {
    const v = item[k];
    if (v === '' || v === null) empty = true;
    else if (!plainJson(v, 0, budget)) return undefined;
  }
  if (!empty) return item;
  const copy: Record<string, unknown> = {};
  for (const k in item) if (item[k] !== '' && item[k] !== null) copy[k] = item[k];
  return copy;
}

/**
 * The compact line `JSON.stringify(merged)` writes, where `merged` is `envelope` with each of `keys` (but `skip`) of
 * `attributes` set on it and its top-level '' and null values removed. Undefined when that cannot be written exactly
 * this way (a value that is not plain JSON, a key that would reorder the object, more than 4,096 values): the caller
 * then writes the line through the Logger's API. Sets the overlapping keys' values on `envelope` (the Logger's fresh
 * item for this line).
 */
export function recordLine(
  envelope: Record<string, unknown>,
  attributes: Readonly<Record<string, unknown>>,
  keys: readonly string[],
  skip: string | undefined,
): string | undefined {
  const budget = { nodes: 4096 };
  let tail = '';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k === skip) continue;
    if (unordered(k)) return undefined;
    const v = attributes[k];
    if (hasOwn.call(envelope, k)) {
      envelope[k] = v; // keeps its place in the envelope, with the record's value
      continue;
    }
    if (v === undefined || v === '' || v === null) continue;
    if (!plainJson(v, 0, budget)) return undefined;
    tail += `,${quoted(k)}:${JSON.stringify(v)}`;
  }
  const head = withoutEmpty(envelope, budget);
  if (head === undefined) return undefined;
  const text = JSON.stringify(head);
  if (tail === '') return text;
  return text.length > 2 ? `${text.slice(0, -1)}${tail}}` : `{${tail.slice(1)}}`;
}
