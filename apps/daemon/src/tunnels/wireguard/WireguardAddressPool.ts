import { WarrenError } from '@warren/core';

/**
 * Tunnel addresses for WireGuard nodes: one IPv4 from the CGNAT range 100.64.0.0/10 (RFC 6598,
 * unlikely to clash with a LAN or a Docker network) and one IPv6 from a ULA prefix whose bytes
 * spell "warr", the same host number in both. A node puts them on its interface with the whole
 * range's prefix length, so the kernel routes all of Warren's range into the tunnel.
 */
export const WIREGUARD_IPV4_RANGE = '100.64.0.0/10';
export const WIREGUARD_IPV6_RANGE = 'fd7a:7761:7272::/48';
const IPV4_BASE = (100 << 24) | (64 << 16);
const HOST_BITS = 22;
const IPV6_PREFIX = 'fd7a:7761:7272::';

export interface WireguardAddresses {
  /** For `ip address add` on the node itself: 100.64.0.5/10 and fd7a:7761:7272::5/48. */
  interfaceAddresses: string[];
  /** For peers' allowed IPs: 100.64.0.5/32 and fd7a:7761:7272::5/128. */
  allowedIps: string[];
}

function ipv4(host: number): string {
  const n = (IPV4_BASE | host) >>> 0;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Written as Go and wg(8) print it (RFC 5952), so a device's own report compares equal. */
function ipv6(host: number): string {
  const high = host >>> 16;
  const low = (host & 0xffff).toString(16);
  return high === 0 ? `${IPV6_PREFIX}${low}` : `${IPV6_PREFIX}${high.toString(16)}:${low}`;
}

export function wireguardAddresses(host: number): WireguardAddresses {
  return {
    interfaceAddresses: [`${ipv4(host)}/10`, `${ipv6(host)}/48`],
    allowedIps: [`${ipv4(host)}/32`, `${ipv6(host)}/128`],
  };
}

/** Host numbers in use; the lowest free one is handed out, so numbers stay small and reused. */
export class WireguardAddressPool {
  readonly #used = new Set<number>();
  #next = 1;

  allocate(): number {
    const limit = 2 ** HOST_BITS - 1;
    for (let host = this.#next; host < limit; host++) {
      // x.x.x.0 and x.x.x.255 are valid /32 hosts, but too many tools treat them as special.
      const last = host & 255;
      if (this.#used.has(host) || last === 0 || last === 255) continue;
      this.#used.add(host);
      this.#next = host + 1;
      return host;
    }
    throw new WarrenError('UNAVAILABLE', `Every WireGuard address in ${WIREGUARD_IPV4_RANGE} is in use.`);
  }

  release(host: number): void {
    if (!this.#used.delete(host)) return;
    if (host < this.#next) this.#next = host;
  }
}
