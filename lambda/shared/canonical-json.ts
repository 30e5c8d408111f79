import * as crypto from 'node:crypto';

/**
 * Node's one-shot digest (crypto.hash, Node ≥ 20.12): the same hex as createHash().update(text, 'utf8').digest('hex')
 * without a Hash object per call (~0.9 → ~0.5 µs for a short text; the runtime hashes 2 per request, 5–8 per
 * evaluation sample). createHash where it is missing.
 */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/**
 * JSON with object keys sorted at every depth, so equal content gives equal bytes whatever the key order,
 * whitespace or source format (YAML vs JSON). Hashes and hosted config content are computed from this.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortDeep(value));
}

/** Pretty canonical JSON, for files people read and line diffs. */
export function canonicalJsonPretty(value: unknown): string {
  return JSON.stringify(sortDeep(value), undefined, 2);
}

export function sha256Hex(text: string): string {
  return typeof oneShot === 'function' ? oneShot('sha256', text, 'hex') : crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

/** sha256 of the canonical JSON of a value. */
export function contentHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortDeep(v);
    }
    return out;
  }
  return value;
}
