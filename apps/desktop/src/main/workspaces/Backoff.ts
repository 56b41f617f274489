/** Doubling delays between reconnect attempts, reset once a connection holds. */
export class Backoff {
  #next: number;

  constructor(
    private readonly minMs = 250,
    private readonly maxMs = 15_000,
  ) {
    this.#next = minMs;
  }

  /** The delay before the next attempt; each call doubles the following one up to the cap. */
  next(): number {
    const delay = this.#next;
    this.#next = Math.min(this.#next * 2, this.maxMs);
    return delay;
  }

  reset(): void {
    this.#next = this.minMs;
  }
}
