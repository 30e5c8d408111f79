/**
 * Patterns of credentials that must never sit in a config or reach a log. Shared by the synth-time config scan
 * and the runtime's redaction, so both agree on what a secret looks like.
 */
export interface SecretPattern {
  readonly id: string;
  readonly description: string;
  readonly pattern: RegExp;
}

export const SECRET_PATTERNS: readonly SecretPattern[] = [
  { id: 'aws-access-key-id', description: 'an AWS access key id', pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/ },
  {
    id: 'aws-secret-access-key',
    description: 'an AWS secret access key',
    pattern: /(?:aws_?secret_?access_?key|secret_?access_?key|aws_?secret)["'\s:=]+[A-Za-z0-9/+]{40}\b/i,
  },
  {
    id: 'private-key',
    description: 'a PEM private key',
    pattern: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----/,
  },
  { id: 'github-token', description: 'a GitHub token', pattern: /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{60,}\b/ },
  { id: 'slack-token', description: 'a Slack token', pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/ },
  { id: 'llm-api-key', description: 'an LLM provider API key', pattern: /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{32,}\b/ },
  { id: 'google-api-key', description: 'a Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { id: 'stripe-secret-key', description: 'a Stripe secret key', pattern: /\b(?:sk|rk)_live_[A-Za-z0-9]{20,}\b/ },
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
