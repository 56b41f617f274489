import { timingSafeEqual } from 'node:crypto';

/** One grant: a value this peer may present until `expiresAt`. */
interface Grant<T> {
  value: T;
  expiresAt: number;
}

/** A peer asking for tunnel after tunnel cannot grow the agent's memory past this. */
const MAX_GRANTS_PER_PEER = 64;

/**
 * What the daemon granted each WireGuard peer (by its public key), each for a short time: SSH
 * client keys (`wireguard_accept`) and port forward tickets (`wireguard_ticket`). A connection
 * over WireGuard is served only with a key or ticket the daemon granted for that device and user,
 * as a relayed stream is only with the key presented when it opened. A peer that leaves the map
 * takes its grants with it.
 */
export class WireguardGrants {
  readonly #keys = new Map<string, Grant<string>[]>();
  readonly #tickets = new Map<string, Grant<Buffer>[]>();

  constructor(private readonly now: () => number = Date.now) {}

  add(peer: string, clientKey: string, seconds: number): void {
    this.#add(this.#keys, peer, clientKey, seconds);
  }

  addTicket(peer: string, ticket: Buffer, seconds: number): void {
    this.#add(this.#tickets, peer, ticket, seconds);
  }

  /** The keys `peer` may use now. */
  keys(peer: string): string[] {
    return this.#live(this.#keys, peer).map((grant) => grant.value);
  }

  /** Whether `presented` is a ticket `peer` may use now; every live ticket is compared in full. */
  hasTicket(peer: string, presented: Uint8Array): boolean {
    let found = false;
    for (const { value } of this.#live(this.#tickets, peer))
      if (value.byteLength === presented.byteLength && timingSafeEqual(value, presented)) found = true;
    return found;
  }

  /** The peer left the map: whatever it was granted goes with it. */
  forget(peer: string): void {
    this.#keys.delete(peer);
    this.#tickets.delete(peer);
  }

  #add<T>(grants: Map<string, Grant<T>[]>, peer: string, value: T, seconds: number): void {
    const live = this.#live(grants, peer);
    live.push({ value, expiresAt: this.now() + seconds * 1000 });
    grants.set(peer, live.slice(-MAX_GRANTS_PER_PEER));
  }

  /** The peer's unexpired grants; expired ones are dropped on the way. */
  #live<T>(grants: Map<string, Grant<T>[]>, peer: string): Grant<T>[] {
    const now = this.now();
    const live = (grants.get(peer) ?? []).filter((grant) => grant.expiresAt > now);
    if (live.length === 0) grants.delete(peer);
    else grants.set(peer, live);
    return live;
  }
}
