import { describe, expect, it } from 'vitest';
import { Backoff } from './Backoff';

describe('Backoff', () => {
  it('doubles from 250 ms up to 10 s, each delay in the upper half of its step', () => {
    const low = new Backoff({ initialMs: 250, maxMs: 10_000, random: () => 0 });
    const high = new Backoff({ initialMs: 250, maxMs: 10_000, random: () => 1 });
    const lows = Array.from({ length: 10 }, () => low.next());
    const highs = Array.from({ length: 10 }, () => high.next());
    expect(highs).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000, 10_000]);
    expect(lows).toEqual(highs.map((d) => d / 2));
  });

  it('grows by the factor it is given', () => {
    const backoff = new Backoff({ initialMs: 200, maxMs: 1000, factor: 1.5, random: () => 1 });
    expect(Array.from({ length: 6 }, () => backoff.next())).toEqual([200, 300, 450, 675, 1000, 1000]);
  });

  it('starts over after a reset', () => {
    const backoff = new Backoff({ random: () => 1 });
    for (let i = 0; i < 5; i++) backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(250);
  });
});
