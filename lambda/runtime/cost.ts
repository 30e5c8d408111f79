import type { ModelPricing } from '../shared/contract';

/** Token counts of one invocation, as Bedrock Converse reports them (`usage`). */
export interface TokenUsage {
  /** Input tokens neither read from nor written to the prompt cache. */
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Input tokens read from the prompt cache. */
  readonly cacheReadInputTokens?: number;
  /** Input tokens written to the prompt cache. */
  readonly cacheWriteInputTokens?: number;
}

/**
 * What one invocation cost, USD. Converse reports cache reads and writes apart from `inputTokens` (their sum with
 * input and output is `totalTokens`), and Bedrock bills them at their own rates: each count is priced once, at its
 * own price. A config without cache prices prices cache tokens as input, so cost is never under-counted.
 */
export function costUsd(pricing: ModelPricing, usage: TokenUsage): number {
  const per1k = (tokens: number | undefined, price: number) => ((tokens ?? 0) / 1000) * price;
  return (
    per1k(usage.inputTokens, pricing.inputPer1kTokensUsd) +
    per1k(usage.outputTokens, pricing.outputPer1kTokensUsd) +
    per1k(usage.cacheReadInputTokens, pricing.cacheReadInputPer1kTokensUsd ?? pricing.inputPer1kTokensUsd) +
    per1k(usage.cacheWriteInputTokens, pricing.cacheWriteInputPer1kTokensUsd ?? pricing.inputPer1kTokensUsd)
  );
}
