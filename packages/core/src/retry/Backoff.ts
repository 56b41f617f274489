export interface BackoffOptions {
  /** The first step. */
  initialMs?: number;
  /** No step grows past this. */
  maxMs?: number;
  /** How much each step grows on the one before. */
  factor?: number;
  random?: () => number;
}

/**
 * Reconnect delays: growing by `factor` from `initialMs` up to `maxMs`, each drawn from the upper
 * half of its step, so that many clients dropped by one daemon restart do not come back in
 * lockstep. Reset once a connection holds.
 */
export class Backoff {
  #attempt = 0;
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #random: () => number;

  constructor({ initialMs = 250, maxMs = 10_000, factor = 2, random = Math.random }: BackoffOptions = {}) {
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
    this.#factor = factor;
    this.#random = random;
  }

  next(): number {
    const step = Math.min(this.#maxMs, this.#initialMs * this.#factor ** Math.min(this.#attempt, 64));
    this.#attempt += 1;
    return Math.round(step / 2 + (this.#random() * step) / 2);
  }

  reset(): void {
    this.#attempt = 0;
  }
}
