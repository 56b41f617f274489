import { describe, expect, it } from 'vitest';
import { Backoff } from '../src/Backoff';

describe('Backoff', () => {
  it('doubles from 250 ms up to 10 s, each delay in the upper half of its step', () => {
    const low = new Backoff(250, 10_000, () => 0);
    const high = new Backoff(250, 10_000, () => 1);
    const lows = Array.from({ length: 10 }, () => low.next());
    const highs = Array.from({ length: 10 }, () => high.next());
    expect(highs).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000, 10_000]);
    expect(lows).toEqual(highs.map((d) => d / 2));
  });

  it('starts over after a reset', () => {
    const backoff = new Backoff(250, 10_000, () => 1);
    for (let i = 0; i < 5; i++) backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(250);
  });
});
