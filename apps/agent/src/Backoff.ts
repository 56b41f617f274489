/**
 * Reconnect delays: doubling from `initialMs` up to `maxMs`, each drawn from the upper half of
 * its step so that many agents dropped by one daemon restart do not come back in lockstep.
 */
export class Backoff {
  #attempt = 0;

  constructor(
    private readonly initialMs = 250,
    private readonly maxMs = 10_000,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const step = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt += 1;
    return Math.round(step / 2 + (this.random() * step) / 2);
  }

  reset(): void {
    this.#attempt = 0;
  }
}
