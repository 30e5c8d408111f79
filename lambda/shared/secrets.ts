/**
 * Patterns of credentials that must never sit in a config or reach a log. Shared by the synth-time config scan
 * and the runtime's redaction, so both agree on what a secret looks like.
 */
export interface SecretPattern {
  readonly id: string;
  readonly description: string;
  readonly pattern: RegExp;
}

// Linear in the text: every pattern starts with a literal or behind a negative lookbehind that forbids what its first
// run consumes (one attempt per run, not one per character), and no unbounded repetition sits inside another
// (the runtime redacts every failing request with these; test/redact-linear.test.ts checks the shape).
// None has the g flag: `findSecret` uses test().
export const SECRET_PATTERNS: readonly SecretPattern[] = [
  // Not \b: `_` is a word character, so "key_AKIA…" would hide the key from \b.
  { id: 'aws-access-key-id', description: 'an AWS access key id', pattern: /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])/ },
  {
    id: 'aws-secret-access-key',
    description: 'an AWS secret access key',
    // Also behind JSON quoting, escaped once or twice (\"SecretAccessKey\":\"…\") after a stringified event.
    pattern: /(?<![A-Za-z0-9])(?:aws_?secret_?access_?key|secret_?access_?key|aws_?secret)[\\"'\s:=]{1,12}[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])/i,
  },
  {
    id: 'aws-session-token',
    description: 'an AWS session token',
    // STS session tokens are base64 that starts with the same bytes ("IQoJb3JpZ2lu…", older "FwoGZXIvYXdz…").
    pattern: /(?<![A-Za-z0-9+/])(?:IQoJb3JpZ2lu|FwoGZXIvYXdz)[A-Za-z0-9+/=]{20,}/,
  },
  {
    id: 'private-key',
    description: 'a PEM private key',
    // The whole block, not only its header: the body runs over real newlines and JSON-escaped ones (\n, \\n), up to
    // the footer; a key cut before its footer is removed to the end of its base64.
    pattern:
      /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/=\s\\:,.()]|-(?!----))*(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)?/,
  },
  {
    id: 'authorization-header',
    description: 'an HTTP Authorization header with credentials',
    pattern:
      /(?<![A-Za-z0-9_-])(?:proxy-)?authorization\\{0,3}["']?[ \t]{0,8}[:=][ \t]{0,8}\\{0,3}["']?(?:Bearer|Basic|Token|Digest)[ \t]+[A-Za-z0-9._~+/=-]{6,}/i,
  },
  {
    id: 'url-credentials',
    description: 'a user name and password in a URL',
    // Anchored on "://" (rare in text), so scanning is fast; the scheme is not needed to know the part before "@".
    pattern: /:\/\/[^\s/@:"'<>[\]]{1,128}:[^\s/@"'<>[\]]{1,256}@/,
  },
  {
    id: 'github-token',
    description: 'a GitHub token',
    pattern: /(?<![A-Za-z0-9_])(?:(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}(?![A-Za-z0-9])|github_pat_[A-Za-z0-9_]{60,})/,
  },
  { id: 'slack-token', description: 'a Slack token', pattern: /(?<![A-Za-z0-9-])xox[abprs]-[A-Za-z0-9-]{10,}/ },
  { id: 'llm-api-key', description: 'an LLM provider API key', pattern: /(?<![A-Za-z0-9_-])sk-(?:ant-|proj-)?[A-Za-z0-9_-]{32,}/ },
  { id: 'google-api-key', description: 'a Google API key', pattern: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/ },
  { id: 'stripe-secret-key', description: 'a Stripe secret key', pattern: /(?<![A-Za-z0-9_])(?:sk|rk)_live_[A-Za-z0-9]{20,}/ },
];

/**
 * Keys whose non-empty string value is a credential by name, whatever it looks like. Matched against the key in
 * snake_case (`dbPassword`, `x-api-key` → `db_password`, `x_api_key`): the credential word may sit anywhere in the
 * key, but a key that names a reference to a credential (`secret_arn`, `password_hint`, `token_count`) is not one.
 */
export const SECRET_KEY_NAMES =
  /(?:^|_)(?:password|passwd|passphrase|pwd|secret|secret_key|secret_access_key|client_secret|api_?key|api_token|access_token|auth_token|bearer_token|refresh_token|session_token|id_token|token|private_key|signing_key|credentials?)(?:$|_(?!(?:arn|name|id|ids|ref|path|version|manager|length|policy|rotation|count|limit|type|hint|field|header|param|env|var|file|location|url|uri|prefix|ttl|expiry|expires|usage|id_prefix)(?:$|_)))/;

/** The first secret pattern a string matches, if any. */
export function findSecret(text: string): SecretPattern | undefined {
  return SECRET_PATTERNS.find((p) => p.pattern.test(text));
}
