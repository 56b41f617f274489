import { describe, expect, it } from 'vitest';
import { Scrollback } from '../../src/terminals/Scrollback';

describe('terminal scrollback', () => {
  it('keeps exactly the newest bytes, whatever the sizes of the writes', () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (const capacity of [1, 7, 64, 1000]) {
      const ring = new Scrollback(capacity);
      let all = Buffer.alloc(0);
      for (let i = 0; i < 500; i++) {
        const chunk = Buffer.from(Array.from({ length: rand(capacity * 2 + 2) }, () => rand(256)));
        ring.write(chunk);
        all = Buffer.concat([all, chunk]).subarray(-capacity * 3);
        expect(ring.snapshot().equals(all.subarray(Math.max(0, all.length - capacity)))).toBe(true);
      }
    }
  });

  it('hands out a copy that later output does not change', () => {
    const ring = new Scrollback(4);
    ring.write(Buffer.from('abcd'));
    const before = ring.snapshot();
    ring.write(Buffer.from('ef'));
    expect(before.toString()).toBe('abcd');
    expect(ring.snapshot().toString()).toBe('cdef');
  });
});
