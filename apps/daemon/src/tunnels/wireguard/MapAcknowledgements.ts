interface Waiter {
  key: string;
  version: number;
  resolve: () => void;
}

/**
 * Which network map version each node says it applied, and waits for "these nodes applied at
 * least version v". A wait never outlasts `timeoutMs`: a node that never acknowledges (an old
 * agent, a lost frame) delays its peers' maps by that much, it does not block them.
 */
export class MapAcknowledgements {
  readonly #applied = new Map<string, number>();
  readonly #waiters = new Set<Waiter>();

  constructor(private readonly timeoutMs: number) {}

  record(key: string, version: number): void {
    if (version > (this.#applied.get(key) ?? -1)) this.#applied.set(key, version);
    for (const waiter of this.#waiters)
      if (waiter.key === key && version >= waiter.version) this.#settle(waiter);
  }

  /** The node is gone: nobody should wait for it any more. */
  forget(key: string): void {
    this.#applied.delete(key);
    for (const waiter of this.#waiters) if (waiter.key === key) this.#settle(waiter);
  }

  allApplied(keys: readonly string[], version: number): boolean {
    return keys.every((key) => (this.#applied.get(key) ?? -1) >= version);
  }

  waitFor(keys: readonly string[], version: number): Promise<void> {
    const pending = keys.filter((key) => (this.#applied.get(key) ?? -1) < version);
    if (pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      let left = pending.length;
      const one = () => {
        left -= 1;
        if (left === 0) resolve();
      };
      for (const key of pending) {
        const waiter: Waiter = { key, version, resolve: one };
        this.#waiters.add(waiter);
        setTimeout(() => this.#settle(waiter), this.timeoutMs).unref();
      }
    });
  }

  #settle(waiter: Waiter): void {
    if (this.#waiters.delete(waiter)) waiter.resolve();
  }
}
