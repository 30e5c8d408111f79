/**
 * The evaluation budget: spend per release and per UTC day, never exceeded. Pure arithmetic over a ledger the
 * handler keeps (in the regression store, updated by compare-and-swap).
 *
 * A call is admitted only when its worst-case cost (input tokens estimated from the text, output at maxTokens) still
 * fits both caps; the ledger is then charged the actual cost from the response's usage, which is never more than the
 * worst case. So spend ≤ cap holds whatever the evaluator answers.
 */

/** USD per 1,000 tokens, the `pricing` shape of the release config. */
export interface Prices {
  readonly inputPer1kTokensUsd: number;
  readonly outputPer1kTokensUsd: number;
}

export interface Ledger {
  readonly releaseKey: string;
  readonly releaseSpentUsd: number;
  /** UTC day (YYYY-MM-DD) the day's spend belongs to. */
  readonly day: string;
  readonly daySpentUsd: number;
  /** Set once a cap refused a call: the review says sampling stopped, and when. */
  readonly stoppedAt?: string;
  readonly stoppedBy?: 'release' | 'day';
}

export interface Caps {
  readonly perReleaseUsd: number;
  readonly perDayUsd: number;
}

export function costUsd(prices: Prices, inputTokens: number, outputTokens: number): number {
  return (inputTokens / 1000) * prices.inputPer1kTokensUsd + (outputTokens / 1000) * prices.outputPer1kTokensUsd;
}

/**
 * Tokens a text will take at most, for admission. Bedrock models use roughly 4 characters per token for English;
 * scripts without spaces use more tokens per character, so this counts every non-ASCII character as a token.
 */
export function estimateInputTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  for (const ch of text) {
    if (ch.charCodeAt(0) < 128) ascii++;
    else other++;
  }
  return Math.ceil(ascii / 3) + other + 16;
}

export function newLedger(releaseKey: string, now: Date): Ledger {
  return { releaseKey, releaseSpentUsd: 0, day: now.toISOString().slice(0, 10), daySpentUsd: 0 };
}

/** Rolls the day over and the release over (a new release starts its own spend). */
export function currentLedger(l: Ledger, releaseKey: string, now: Date): Ledger {
  const day = now.toISOString().slice(0, 10);
  let out = l;
  if (l.day !== day)
    out = {
      ...out,
      day,
      daySpentUsd: 0,
      stoppedAt: out.stoppedBy === 'day' ? undefined : out.stoppedAt,
      stoppedBy: out.stoppedBy === 'day' ? undefined : out.stoppedBy,
    };
  if (l.releaseKey !== releaseKey)
    out = {
      ...out,
      releaseKey,
      releaseSpentUsd: 0,
      stoppedAt: out.stoppedBy === 'release' ? undefined : out.stoppedAt,
      stoppedBy: out.stoppedBy === 'release' ? undefined : out.stoppedBy,
    };
  return out;
}

export type Admission = { readonly admit: true } | { readonly admit: false; readonly by: 'release' | 'day'; readonly ledger: Ledger };

export function admit(l: Ledger, caps: Caps, worstCaseUsd: number, now: Date): Admission {
  const by = l.releaseSpentUsd + worstCaseUsd > caps.perReleaseUsd ? 'release' : l.daySpentUsd + worstCaseUsd > caps.perDayUsd ? 'day' : undefined;
  if (!by) return { admit: true };
  return { admit: false, by, ledger: l.stoppedBy ? l : { ...l, stoppedAt: now.toISOString(), stoppedBy: by } };
}

export function charge(l: Ledger, usd: number): Ledger {
  // A refund that crosses a day or release boundary must not leave a negative spend behind.
  return { ...l, releaseSpentUsd: Math.max(0, l.releaseSpentUsd + usd), daySpentUsd: Math.max(0, l.daySpentUsd + usd) };
}
