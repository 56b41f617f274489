import { z } from 'zod';

/**
 * The address forms UAPI uses: an endpoint is `IPv4:port` or `[IPv6]:port` (an IP, never a host
 * name: `wg(8)` resolves names before it talks to the socket), an allowed IP is a CIDR prefix.
 */
const ipv4 = z.ipv4();
const ipv6 = z.ipv6();
const cidrv4 = z.cidrv4();
const cidrv6 = z.cidrv6();

function isPort(text: string): boolean {
  if (!/^[0-9]{1,5}$/.test(text)) return false;
  const port = Number(text);
  return port >= 1 && port <= 65535;
}

/** Longer than any IPv6 endpoint with a zone; bounds the work on hostile input. */
const MAX_ADDRESS_CHARS = 64;

export function isWireguardEndpoint(text: string): boolean {
  if (text.length > MAX_ADDRESS_CHARS) return false;
  if (text.startsWith('[')) {
    const close = text.indexOf(']:');
    if (close < 0) return false;
    // A link-local address may carry a zone (`fe80::1%eth0`); the zone is not part of the address.
    const host = text.slice(1, close).replace(/%[A-Za-z0-9_.-]{1,15}$/, '');
    return ipv6.safeParse(host).success && isPort(text.slice(close + 2));
  }
  const colon = text.lastIndexOf(':');
  return colon > 0 && ipv4.safeParse(text.slice(0, colon)).success && isPort(text.slice(colon + 1));
}

export function isIpPrefix(text: string): boolean {
  if (text.length > MAX_ADDRESS_CHARS) return false;
  return cidrv4.safeParse(text).success || cidrv6.safeParse(text).success;
}

export const wireguardEndpointSchema = z.string().refine(isWireguardEndpoint, {
  message: 'must be an endpoint like 192.0.2.1:51820 or [2001:db8::1]:51820',
});

export const ipPrefixSchema = z
  .string()
  .refine(isIpPrefix, { message: 'must be an IP prefix like 100.64.0.2/32 or fd7a::2/128' });
