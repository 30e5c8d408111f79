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

/** Keys whose non-empty string value is a credential by name, whatever it looks like. */
export const SECRET_KEY_NAMES = /^(?:password|passwd|secret|client_?secret|api_?key|apikey|access_?token|auth_?token|private_?key)$/i;

/** The first secret pattern a string matches, if any. */
export function findSecret(text: string): SecretPattern | undefined {
  return SECRET_PATTERNS.find((p) => p.pattern.test(text));
}
