const WINDOW_MS = 60_000;
/**
 * Entries this close together share one (time, amount) pair, dated by the latest of them: a
 * busy user's window holds about 600 entries, not one per call (120,000 at 2,000 calls a
 * second, copied as the arrays grew). An entry then leaves the window up to 0.1 s late, which
 * only ever makes a limit stricter.
 */
const COALESCE_MS = 100;

/** (time, amount) entries of the last minute, oldest first, with their running total. */
class MinuteWindow {
  #times: number[] = [];
  #amounts: number[] = [];
  #head = 0;
  /** When the newest entry's first amount came in. */
  #newestSince = Number.NEGATIVE_INFINITY;
  total = 0;

  add(time: number, amount: number): void {
    const newest = this.#times.length - 1;
    this.total += amount;
    if (newest >= this.#head && time - this.#newestSince < COALESCE_MS) {
      this.#times[newest] = time;
      this.#amounts[newest] = (this.#amounts[newest] as number) + amount;
      return;
    }
    this.#times.push(time);
    this.#amounts.push(amount);
    this.#newestSince = time;
  }

  prune(now: number): void {
    const cutoff = now - WINDOW_MS;
    while (this.#head < this.#times.length && (this.#times[this.#head] as number) <= cutoff) {
      this.total -= this.#amounts[this.#head] as number;
      this.#head += 1;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#amounts = this.#amounts.slice(this.#head);
      this.#head = 0;
    }
  }

  get empty(): boolean {
    return this.#head === this.#times.length;
  }

  /** Milliseconds until the total drops below `limit` as old entries leave the window. */
  msUntilBelow(limit: number, now: number): number {
    let total = this.total;
    for (let i = this.#head; i < this.#times.length; i++) {
      total -= this.#amounts[i] as number;
      if (total < limit) return (this.#times[i] as number) + WINDOW_MS - now;
    }
    return WINDOW_MS;
  }
}

export interface RateLimits {
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
}

export interface RateRefusal {
  kind: 'requests' | 'tokens';
  limit: number;
  retryAfterSeconds: number;
}

/**
 * Per-user sliding one-minute windows, in memory: requests are counted when admitted, tokens
 * when a call finishes (only then are they known). A replica limits what passes through it.
 */
export class RateLimiter {
  readonly #requests = new Map<string, MinuteWindow>();
  readonly #tokens = new Map<string, MinuteWindow>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Admits and counts one request, or says which limit refuses it and for how long. */
  admit(userId: string, limits: RateLimits): RateRefusal | undefined {
    const { requestsPerMinute: rpm, tokensPerMinute: tpm } = limits;
    if (rpm === null && tpm === null) return undefined;
    const now = this.now();
    if (tpm !== null) {
      const tokens = this.#window(this.#tokens, userId, now);
      if (tokens.total >= tpm) return refusal('tokens', tpm, tokens.msUntilBelow(tpm, now));
    }
    if (rpm !== null) {
      const requests = this.#window(this.#requests, userId, now);
      if (requests.total >= rpm) return refusal('requests', rpm, requests.msUntilBelow(rpm, now));
      requests.add(now, 1);
    }
    return undefined;
  }

  /** Counts a finished call's tokens against the user's tokens-per-minute limit. */
  addTokens(userId: string, tokens: number): void {
    if (tokens <= 0) return;
    const now = this.now();
    this.#window(this.#tokens, userId, now).add(now, tokens);
  }

  #window(windows: Map<string, MinuteWindow>, userId: string, now: number): MinuteWindow {
    let window = windows.get(userId);
    if (!window) {
      if (windows.size >= 10_000) sweep(windows, now);
      window = new MinuteWindow();
      windows.set(userId, window);
    }
    window.prune(now);
    return window;
  }
}

function refusal(kind: RateRefusal['kind'], limit: number, waitMs: number): RateRefusal {
  return { kind, limit, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
}

/** Forgets users with nothing in their window, so the maps do not grow with every user ever seen. */
function sweep(windows: Map<string, MinuteWindow>, now: number): void {
  for (const [userId, window] of windows) {
    window.prune(now);
    if (window.empty) windows.delete(userId);
  }
}
