import type { AuthResult, AuthService } from '../auth/AuthService';
import type { LiveSessions } from '../auth/LiveSessions';

/** How long a token that authenticated is trusted without asking the database again. */
export const AUTH_CACHE_MS = 2000;
const MAX_ENTRIES = 10_000;

interface Entry {
  result: Promise<AuthResult>;
  until: number;
  release?: () => void;
}

/**
 * Warren tokens presented to the gateway, remembered for a moment so a burst of model calls
 * costs one authentication, not one per call. Each remembered token is registered with
 * LiveSessions like a subscription, so revoking it or suspending its user forgets it at once
 * (on this replica; other replicas within AUTH_CACHE_MS).
 */
export class GatewayAuth {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly auth: AuthService,
    private readonly live: LiveSessions,
    private readonly now: () => number = Date.now,
    private readonly cacheMs = AUTH_CACHE_MS,
  ) {}

  authenticate(raw: string): Promise<AuthResult> {
    // Keyed by the token itself: hashing it would cost more than the rest of the lookup, and
    // the same bytes sit in the request's own buffers anyway.
    const id = raw;
    const now = this.now();
    const known = this.#entries.get(id);
    if (known && known.until > now) return known.result;
    if (known) this.#forget(id, known);
    if (this.#entries.size >= MAX_ENTRIES) this.#sweep(now);
    const entry: Entry = { result: this.auth.authenticate(raw), until: now + this.cacheMs };
    this.#entries.set(id, entry);
    entry.result.then(
      (result) => {
        if (!('actor' in result)) return this.#forget(id, entry);
        if (this.#entries.get(id) !== entry) return;
        const session = this.live.track(result.actor.userId, result.actor.apiKeyId);
        entry.release = session.release;
        session.signal.addEventListener('abort', () => this.#forget(id, entry), { once: true });
      },
      () => this.#forget(id, entry),
    );
    return entry.result;
  }

  /** Forgets every remembered token (shutdown). */
  clear(): void {
    for (const [id, entry] of this.#entries) this.#forget(id, entry);
  }

  #forget(id: string, entry: Entry): void {
    if (this.#entries.get(id) === entry) this.#entries.delete(id);
    entry.release?.();
    entry.release = undefined;
  }

  #sweep(now: number): void {
    for (const [id, entry] of this.#entries) if (entry.until <= now) this.#forget(id, entry);
  }
}
