import { WarrenError } from '@warren/core';

export interface ThrottleLimits {
  /** Failed attempts for one account within the window before it is locked for the rest of it. */
  perUser: number;
  /** Failed attempts from one address within the window, across accounts. */
  perIp: number;
  windowMs: number;
}

export const defaultThrottleLimits: ThrottleLimits = { perUser: 5, perIp: 30, windowMs: 10 * 60_000 };

/**
 * Counts failed logins per account and per source address in a sliding window. Only failures
 * count, so people behind one NAT who type their passwords right are never slowed down.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, number[]>();

  constructor(
    private readonly limits: ThrottleLimits = defaultThrottleLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws TOO_MANY_REQUESTS when either the account or the address is over its limit. */
  check(account: string, ip: string): void {
    for (const [key, limit, what] of [
      [`user:${account}`, this.limits.perUser, 'this account'],
      [`ip:${ip}`, this.limits.perIp, 'your address'],
    ] as const) {
      const recent = this.#recent(key);
      if (recent.length >= limit) {
        const oldest = recent[0] ?? this.now();
        const retryAfter = Math.max(1, Math.ceil((oldest + this.limits.windowMs - this.now()) / 1000));
        throw new WarrenError(
          'TOO_MANY_REQUESTS',
          `Too many failed sign-in attempts for ${what}. Try again in ${retryAfter} seconds.`,
          { retryAfter },
        );
      }
    }
  }

  recordFailure(account: string, ip: string): void {
    for (const key of [`user:${account}`, `ip:${ip}`]) {
      const recent = this.#recent(key);
      recent.push(this.now());
      this.#failures.set(key, recent);
    }
  }

  recordSuccess(account: string): void {
    this.#failures.delete(`user:${account}`);
  }

  #recent(key: string): number[] {
    const cutoff = this.now() - this.limits.windowMs;
    const recent = (this.#failures.get(key) ?? []).filter((t) => t > cutoff);
    if (recent.length === 0) this.#failures.delete(key);
    return recent;
  }
}
