import { describe, expect, it } from 'vitest';
import { RateLimiter } from './RateLimiter';

describe('RateLimiter', () => {
  it('admits N requests a minute, then says when the oldest leaves the window', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(() => now);
    const limits = { requestsPerMinute: 3, tokensPerMinute: null };
    for (let i = 0; i < 3; i++) {
      expect(limiter.admit('u1', limits)).toBeUndefined();
      now += 10_000;
    }
    expect(limiter.admit('u1', limits)).toEqual({ kind: 'requests', limit: 3, retryAfterSeconds: 30 });
    expect(limiter.admit('u2', limits), 'another user has their own window').toBeUndefined();
    now += 30_001;
    expect(limiter.admit('u1', limits)).toBeUndefined();
  });

  it('refuses once the tokens of finished calls reach the limit, until they age out', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    const limits = { requestsPerMinute: null, tokensPerMinute: 1000 };
    expect(limiter.admit('u1', limits)).toBeUndefined();
    limiter.addTokens('u1', 600);
    now = 20_000;
    limiter.addTokens('u1', 500);
    expect(limiter.admit('u1', limits)).toEqual({ kind: 'tokens', limit: 1000, retryAfterSeconds: 40 });
    now = 60_001;
    expect(limiter.admit('u1', limits)).toBeUndefined();
  });

  it('holds a busy user to the limit with entries 0.1 s apart, never letting more through', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    const limits = { requestsPerMinute: null, tokensPerMinute: 150_000 };
    // 2,000 calls a second for 10 s, 10 tokens each: 200,000 tokens.
    for (let i = 0; i < 20_000; i++) {
      now = i / 2;
      limiter.addTokens('u1', 10);
    }
    expect(limiter.admit('u1', limits)?.kind).toBe('tokens');
    // A minute after 2.5 s, exactly 149,990 tokens are younger than a minute: a per-call window
    // would admit. Entries dated by their latest call count up to 0.1 s longer: still refused...
    now = 62_500;
    expect(limiter.admit('u1', limits)?.kind).toBe('tokens');
    // ...and admitted 0.1 s later.
    now = 62_600;
    expect(limiter.admit('u1', limits)).toBeUndefined();
  });
});
