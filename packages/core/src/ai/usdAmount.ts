/**
 * Money in the AI gateway. People write prices and budgets as USD decimals; they are stored as
 * exact integers: prices and budgets in micro-dollars (USD 1 = 10^6), call costs in pico-dollars
 * (USD 1 = 10^12), because tokens x micro-dollars per million tokens is exactly pico-dollars.
 */
export const MICROS_PER_USD = 1_000_000;
export const MAX_USD_DECIMALS = 6;

/** How many digits a number has after the decimal point, as JavaScript prints it (1e-7 has 7). */
export function decimalPlaces(value: number): number {
  const [mantissa = '', exponent = '0'] = String(value).toLowerCase().split('e');
  const fraction = mantissa.split('.')[1]?.length ?? 0;
  return Math.max(0, fraction - Number(exponent));
}

/** An amount of USD with at most 6 decimals as exact micro-dollars; undefined if it has more. */
export function usdToMicros(usd: number): number | undefined {
  if (!Number.isFinite(usd) || decimalPlaces(usd) > MAX_USD_DECIMALS) return undefined;
  // toFixed rounds the binary value at the 6th decimal, where the decimal the person wrote is exact.
  const [whole = '0', fraction = ''] = Math.abs(usd).toFixed(MAX_USD_DECIMALS).split('.');
  const micros = Number(whole) * MICROS_PER_USD + Number(fraction);
  return usd < 0 ? -micros : micros;
}

/** Micro-dollars as the USD number a person wrote (3000000 → 3, 75000 → 0.075). */
export function microsToUsd(micros: number): number {
  return micros / MICROS_PER_USD;
}

const PICOS_PER_USD = 10n ** 12n;

/**
 * Pico-dollars as an exact USD decimal string: "0.000123", "12.50". Trailing zeros go, but
 * at least two decimals stay, as people write money.
 */
export function formatPicoUsd(pico: bigint | number | string): string {
  const value = typeof pico === 'bigint' ? pico : BigInt(String(pico).split('.')[0] || '0');
  const sign = value < 0n ? '-' : '';
  const magnitude = value < 0n ? -value : value;
  const whole = magnitude / PICOS_PER_USD;
  const fraction = (magnitude % PICOS_PER_USD).toString().padStart(12, '0').replace(/0+$/, '');
  return `${sign}${whole}.${fraction.padEnd(2, '0')}`;
}
