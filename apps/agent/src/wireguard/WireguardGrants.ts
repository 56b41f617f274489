/** One `wireguard_accept`: this SSH key may connect from this WireGuard peer until `expiresAt`. */
interface Grant {
  clientKey: string;
  expiresAt: number;
}

/**
 * SSH client keys the daemon granted per WireGuard peer (its public key), each for a short
 * time: a WireGuard connection is accepted only with a key the daemon registered for that
 * device and user, as a relayed stream is only with the key presented when it opened.
 */
export class WireguardGrants {
  readonly #byPeer = new Map<string, Grant[]>();

  constructor(private readonly now: () => number = Date.now) {}

  add(peer: string, clientKey: string, seconds: number): void {
    const grants = this.#live(peer);
    grants.push({ clientKey, expiresAt: this.now() + seconds * 1000 });
    this.#byPeer.set(peer, grants);
  }

  /** The keys `peer` may use now. */
  keys(peer: string): string[] {
    const grants = this.#live(peer);
    if (grants.length === 0) this.#byPeer.delete(peer);
    else this.#byPeer.set(peer, grants);
    return grants.map((grant) => grant.clientKey);
  }

  /** The peer left the map: whatever it was granted goes with it. */
  forget(peer: string): void {
    this.#byPeer.delete(peer);
  }

  #live(peer: string): Grant[] {
    const now = this.now();
    return (this.#byPeer.get(peer) ?? []).filter((grant) => grant.expiresAt > now);
  }
}
