import { SECRET_PATTERNS } from '../shared/secrets';

/**
 * Removes personal data and credentials from text before it leaves the request path (logs, failure records,
 * and later S3). Pure and synchronous; patterns are compiled once at module load.
 */

export interface RedactionPattern {
  /** Name shown in the replacement: `[REDACTED:NAME]`. */
  readonly name: string;
  /** Must be global (`g`). */
  readonly pattern: RegExp;
  /** Optional check on a match (e.g. Luhn); a match it rejects is kept. */
  readonly accept?: (match: string) => boolean;
}

const EMAIL: RedactionPattern = { name: 'EMAIL', pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g };

const JWT: RedactionPattern = { name: 'JWT', pattern: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g };

// 13–19 digits, optionally grouped by single spaces or dashes, Luhn-checked so order numbers and ids survive.
const CARD: RedactionPattern = {
  name: 'CARD',
  pattern: /(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])/g,
  accept: (m) => luhn(m.replace(/[ -]/g, '')),
};

// Phones need a phone's shape: a leading +country code, a (area) code, the 3-3-4 North American form, or a
// Chinese mobile number. Bare digit runs, dates (2026-11-27), versions and times are left alone.
const PHONE: RedactionPattern = {
  name: 'PHONE',
  pattern: new RegExp(
    [
      String.raw`(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}(?![\w])`,
      String.raw`(?<![\w])\(\d{2,4}\)[ .-]?\d{3,4}[ .-]?\d{3,4}(?![\w])`,
      String.raw`(?<![\w.-])\d{3}[ .-]\d{3}[ .-]\d{4}(?![\w.-])`,
      String.raw`(?<![\w])1[3-9]\d{9}(?![\w])`,
    ].join('|'),
    'g',
  ),
  accept: (m) => {
    const digits = m.replace(/\D/g, '').length;
    return digits >= 8 && digits <= 15;
  },
};

const IPV4: RedactionPattern = {
  name: 'IP',
  pattern: /(?<![\w.])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(?![\w.])/g,
};

// Full or compressed IPv6: at least three groups and either "::" or eight groups, so clock times survive.
const IPV6: RedactionPattern = {
  name: 'IP',
  pattern:
    /(?<![\w:])(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,7}:|(?:[0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,5}(?::[0-9A-Fa-f]{1,4}){1,2}|(?:[0-9A-Fa-f]{1,4}:){1,4}(?::[0-9A-Fa-f]{1,4}){1,3}|(?:[0-9A-Fa-f]{1,4}:){1,3}(?::[0-9A-Fa-f]{1,4}){1,4}|(?:[0-9A-Fa-f]{1,4}:){1,2}(?::[0-9A-Fa-f]{1,4}){1,5}|[0-9A-Fa-f]{1,4}:(?::[0-9A-Fa-f]{1,4}){1,6}|:(?::[0-9A-Fa-f]{1,4}){1,7})(?![\w:])/g,
  accept: (m) => m.includes('::') || m.split(':').length === 8,
};

// A secret-ish value after a telling key: "password=…", "api_key: …", "Authorization: Bearer …".
const KEYED_SECRET: RedactionPattern = {
  name: 'SECRET',
  pattern:
    /\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret|authorization)\b["']?\s*[:=]\s*["']?(?:Bearer\s+)?[^\s"',;]{6,}/gi,
};

const SECRETS: RedactionPattern[] = SECRET_PATTERNS.map((p) => ({
  name: p.id === 'aws-access-key-id' ? 'AWS_KEY' : 'SECRET',
  pattern: new RegExp(p.pattern.source, p.pattern.flags.includes('g') ? p.pattern.flags : `${p.pattern.flags}g`),
}));

/** Order matters: credentials and JWTs first (they contain digit runs), then emails, cards, IPs, phones. */
export const DEFAULT_PATTERNS: readonly RedactionPattern[] = [...SECRETS, KEYED_SECRET, JWT, EMAIL, CARD, IPV6, IPV4, PHONE];

export type Redactor = (text: string) => string;

/** A redactor with the default patterns plus the service's own (e.g. customer ids). */
export function createRedactor(extra: readonly RedactionPattern[] = []): Redactor {
  for (const p of extra) {
    if (!p.pattern.global) throw new Error(`redaction pattern ${p.name} must have the g flag, e.g. /${p.pattern.source}/g`);
  }
  const patterns = [...DEFAULT_PATTERNS, ...extra];
  return (text: string) => {
    let out = text;
    for (const p of patterns) {
      p.pattern.lastIndex = 0;
      out = out.replace(p.pattern, (match) => (p.accept && !p.accept(match) ? match : `[REDACTED:${p.name}]`));
    }
    return out;
  };
}

export const redact: Redactor = createRedactor();

/** Luhn checksum, as card numbers carry. */
export function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}
