import type { AuthResult, AuthService } from '../auth/AuthService';
import type { LiveSessions } from '../auth/LiveSessions';
import type { Actor } from '../auth/policy';

/** How long a token that authenticated is trusted without asking the database again. */
export const AUTH_CACHE_MS = 2000;
const MAX_ENTRIES = 10_000;

interface Entry {
  result: Promise<AuthResult>;
  until: number;
  /** From then on, a call starts reading the token again behind the remembered answer. */
  refreshAt: number;
  refreshing: boolean;
  release?: () => void;
}

/**
 * Warren tokens presented to the gateway, remembered for a moment so a burst of model calls
 * costs one authentication, not one per call. Each remembered token is registered with
 * LiveSessions like a subscription, so revoking it or suspending its user forgets it at once
 * (on this replica; other replicas within AUTH_CACHE_MS). A token in use is read again in the
 * background once half that time has passed, so a steady client never waits on the database;
 * no answer is used longer than AUTH_CACHE_MS after the read that produced it began.
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
    if (known && known.until > now) {
      if (now >= known.refreshAt && !known.refreshing) this.#refresh(id, known, now);
      return known.result;
    }
    if (known) this.#forget(id, known);
    if (this.#entries.size >= MAX_ENTRIES) this.#sweep(now);
    const entry = this.#read(id, now);
    this.#entries.set(id, entry);
    entry.result.then(
      (result) => {
        if (!('actor' in result)) this.#forget(id, entry);
        else if (this.#entries.get(id) === entry) this.#track(id, entry, result);
      },
      () => this.#forget(id, entry),
    );
    return entry.result;
  }

  /** Forgets every remembered token (shutdown). */
  clear(): void {
    for (const [id, entry] of this.#entries) this.#forget(id, entry);
  }

  #read(id: string, now: number): Entry {
    const half = this.cacheMs / 2;
    return {
      result: this.auth.authenticate(id),
      until: now + this.cacheMs,
      refreshAt: now + half,
      refreshing: false,
    };
  }

  /**
   * Reads `known`'s token again; the answer replaces it once it is in. A refusal forgets it, so
   * the next call asks the database itself (and is refused); a failed read leaves it to lapse.
   */
  #refresh(id: string, known: Entry, now: number): void {
    known.refreshing = true;
    const entry = this.#read(id, now);
    entry.result.then(
      (result) => {
        // Forgotten meanwhile (revoked or suspended here): the older read must not bring it back.
        if (this.#entries.get(id) !== known) return;
        this.#forget(id, known);
        if (!('actor' in result)) return;
        this.#entries.set(id, entry);
        this.#track(id, entry, result);
      },
      () => {},
    );
  }

  #track(id: string, entry: Entry, result: { actor: Actor }): void {
    const session = this.live.track(result.actor.userId, result.actor.apiKeyId);
    entry.release = session.release;
    session.signal.addEventListener('abort', () => this.#forget(id, entry), { once: true });
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
