import { findSecret, SECRET_KEY_NAMES } from '../../../lambda/shared/secrets';

/** A credential found in a config string: what it is, and where it starts and ends (to mask it in the message). */
export interface SecretHit {
  readonly description: string;
  readonly match: string;
}

interface SynthPattern {
  readonly description: string;
  readonly pattern: RegExp;
  /** Filters matches that only look like the pattern (English words after "Basic", placeholders as passwords). */
  readonly accept?: (m: RegExpExecArray) => boolean;
}

/** Looks like a placeholder for a value, not a value: `{{pw}}`, `${DB_PASSWORD}`, `<password>`, `***`, `…`. */
const PLACEHOLDER = /^(?:\{\{.*\}\}|\$\{.*\}|<.*>|%[A-Za-z_]+%|\*+|x+|\.\.\.|…)$/i;

/**
 * Patterns synth adds to the shared SECRET_PATTERNS (which the runtime's redaction also uses). They are about
 * config text: credentials a person pastes into a prompt, a URL or a header value. All are linear-time: no nested
 * quantifiers, bounded repetitions.
 */
const SYNTH_PATTERNS: readonly SynthPattern[] = [
  {
    // SECRET_PATTERNS anchors AWS key ids at a word boundary, so `key_AKIA…` (after "_", a word character) slips by.
    description: 'an AWS access key id',
    pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])/,
  },
  {
    description: 'a URL with a user name and password in it',
    pattern: /\b[a-z][a-z0-9+.-]{1,20}:\/\/([^\s/?#@:]{1,256}):([^\s/?#@]{1,256})@[^\s/?#]/i,
    accept: (m) => !PLACEHOLDER.test(m[2]) && !PLACEHOLDER.test(m[1]),
  },
  {
    description: 'an Authorization: Bearer token',
    pattern: /\bBearer\s+([A-Za-z0-9\-._~+/]{16,2048}=*)/,
    accept: (m) => /[0-9]/.test(m[1]) && /[A-Za-z]/.test(m[1]),
  },
  {
    description: 'an Authorization: Basic credential',
    pattern: /\bBasic\s+([A-Za-z0-9+/]{8,2048}={0,2})(?![A-Za-z0-9+/=])/,
    // Only base64 that decodes to "user:password" is a credential; "Basic authentication" is not.
    accept: (m) => {
      const decoded = Buffer.from(m[1], 'base64').toString('utf8');
      return /^[\x20-\x7e]+:[\x20-\x7e]+$/.test(decoded);
    },
  },
  {
    // Whoever has the URL can post to the channel: the path is the credential.
    description: 'a chat webhook URL (Slack or Discord)',
    pattern:
      /\bhttps:\/\/(?:hooks\.slack\.com\/services\/[A-Za-z0-9]{6,}\/[A-Za-z0-9]{6,}\/[A-Za-z0-9]{12,}|(?:ptb\.|canary\.)?discord(?:app)?\.com\/api\/webhooks\/\d{5,}\/[A-Za-z0-9_-]{20,})/,
  },
  {
    description: 'a JSON Web Token',
    pattern: /\beyJ[A-Za-z0-9_-]{10,4096}\.eyJ[A-Za-z0-9_-]{10,8192}\.[A-Za-z0-9_-]{10,4096}/,
  },
  {
    description: 'a password or key written as name=value',
    pattern:
      /(?<![A-Za-z0-9:/])(?:password|passwd|pwd|passphrase|secret|client[_-]?secret|api[_-]?key|access[_-]?token|auth[_-]?token|account[_-]?key|shared[_-]?access[_-]?key)["']?\s{0,4}[:=]\s{0,4}["']?([^\s"',;&]{8,256})/i,
    // A value, not prose ("password: refuse") or a placeholder: it has a digit and a letter. Not preceded by ":" or
    // "/", so a Secrets Manager ARN (`…:secret:db-9xYz12`) or a parameter path (`/app/secret=…`) is not one.
    accept: (m) => !PLACEHOLDER.test(m[1]) && !m[1].startsWith('{{') && /[0-9]/.test(m[1]) && /[A-Za-z]/.test(m[1]),
  },
];

/** The first credential in a string, from synth's own patterns (their wording is more specific) or the shared ones. */
export function findSecretInText(text: string): SecretHit | undefined {
  for (const p of SYNTH_PATTERNS) {
    const m = p.pattern.exec(text);
    if (m && (!p.accept || p.accept(m))) return { description: p.description, match: m[0] };
  }
  const shared = findSecret(text);
  if (shared) return { description: shared.description, match: shared.pattern.exec(text)?.[0] ?? text };
  return undefined;
}

/** `dbPassword`, `DB-Password`, `x-api-key` → `db_password`, `db_password`, `x_api_key`: one form for SECRET_KEY_NAMES. */
export function snakeKey(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toLowerCase();
}

/** Whether a key names a credential (`db_password`, `x-api-key`, `clientSecret`), not a reference to one (`secretArn`). */
export function isSecretKeyName(key: string): boolean {
  return SECRET_KEY_NAMES.test(snakeKey(key));
}

/** Whether a string value under a credential-named key is a reference or placeholder rather than the credential. */
export function isSecretReference(value: string): boolean {
  const v = value.trim();
  return v === '' || /^arn:/.test(v) || /^\{\{resolve:/.test(v) || PLACEHOLDER.test(v);
}

/** Shows where a secret is without repeating it: the first 4 characters and the length. */
export function maskSecret(match: string): string {
  return `${match.slice(0, 4)}… ${match.length} chars`;
}
