import type { TokenUsage } from './usage';

/** A model's prices in micro-dollars per million tokens (USD 3.00 per million = 3_000_000). */
export interface ModelPrices {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/**
 * The exact cost of a call in pico-dollars (USD 1 = 10^12): one token at P micro-dollars per
 * million tokens costs P pico-dollars, so the sum is an integer with nothing rounded.
 *
 * With usage normalised (see usage.ts) this is each provider's own formula: OpenAI bills
 * (prompt − cached) × input + cached × cache read + completion × output; Anthropic bills
 * input × input + cache read × cache read + cache creation × cache write + output × output.
 */
export function costPico(usage: TokenUsage, prices: ModelPrices): number {
  // BigInt keeps huge token counts times huge prices exact; a real call stays far below 2^53.
  const total =
    BigInt(usage.input) * BigInt(prices.input) +
    BigInt(usage.cacheRead) * BigInt(prices.cacheRead) +
    BigInt(usage.cacheWrite) * BigInt(prices.cacheWrite) +
    BigInt(usage.output) * BigInt(prices.output);
  return Number(total);
}
