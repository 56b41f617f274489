import { describe, expect, it } from 'vitest';
import { decimalPlaces, formatPicoUsd, microsToUsd, usdToMicros } from './usdAmount';

describe('USD amounts', () => {
  it('turns decimals of up to six places into exact micro-dollars', () => {
    expect(usdToMicros(0.075)).toBe(75_000);
    expect(usdToMicros(3)).toBe(3_000_000);
    expect(usdToMicros(0.3)).toBe(300_000);
    expect(usdToMicros(3.75)).toBe(3_750_000);
    expect(usdToMicros(0.000001)).toBe(1);
    expect(usdToMicros(123456.654321)).toBe(123_456_654_321);
    expect(usdToMicros(0)).toBe(0);
  });

  it('refuses a seventh decimal, however JavaScript prints it', () => {
    expect(usdToMicros(0.0750001)).toBeUndefined();
    expect(usdToMicros(1e-7)).toBeUndefined();
    expect(usdToMicros(0.1 + 0.2)).toBeUndefined();
    expect(decimalPlaces(1.5e-7)).toBe(8);
    expect(decimalPlaces(1e21)).toBe(0);
  });

  it('gives back the number that was written', () => {
    for (const usd of [0.075, 3, 0.3, 15, 3.75, 0.000001, 999999.999999]) {
      expect(microsToUsd(usdToMicros(usd) ?? Number.NaN)).toBe(usd);
    }
  });

  it('prints pico-dollars exactly, beyond what a double holds', () => {
    expect(formatPicoUsd(0n)).toBe('0.00');
    expect(formatPicoUsd(123_000_000n)).toBe('0.000123');
    expect(formatPicoUsd(12_500_000_000_000n)).toBe('12.50');
    expect(formatPicoUsd('123456789012345678901')).toBe('123456789.012345678901');
    expect(formatPicoUsd(1)).toBe('0.000000000001');
    expect(formatPicoUsd(-2_000_000_000_000n)).toBe('-2.00');
  });
});
