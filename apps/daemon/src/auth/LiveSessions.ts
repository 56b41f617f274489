/**
 * Long-lived requests (subscriptions) registered by user and API key, so that suspending a
 * user or revoking a key ends them at once instead of at the next request.
 */
export class LiveSessions {
  readonly #byKey = new Map<string, Set<{ userId: string; controller: AbortController }>>();

  track(userId: string, apiKeyId: string): { signal: AbortSignal; release(): void } {
    const entry = { userId, controller: new AbortController() };
    const set = this.#byKey.get(apiKeyId) ?? new Set();
    set.add(entry);
    this.#byKey.set(apiKeyId, set);
    return {
      signal: entry.controller.signal,
      release: () => {
        set.delete(entry);
        if (set.size === 0) this.#byKey.delete(apiKeyId);
      },
    };
  }

  endKey(apiKeyId: string): void {
    for (const entry of this.#byKey.get(apiKeyId) ?? []) entry.controller.abort();
    this.#byKey.delete(apiKeyId);
  }

  endUser(userId: string): void {
    for (const [keyId, set] of this.#byKey) {
      for (const entry of set) if (entry.userId === userId) entry.controller.abort();
      if ([...set].every((e) => e.controller.signal.aborted)) this.#byKey.delete(keyId);
    }
  }

  /** Server shutdown: end every stream so in-flight requests can finish. */
  endAll(): void {
    for (const set of this.#byKey.values()) for (const entry of set) entry.controller.abort();
    this.#byKey.clear();
  }
}
