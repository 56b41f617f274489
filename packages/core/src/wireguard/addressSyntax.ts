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

/**
 * The network an interface prefix lies in, as `ip route` takes it: 100.64.0.5/10 gives
 * 100.64.0.0/10, fd7a:7761:7272::5/48 gives fd7a:7761:7272:0:0:0:0:0/48.
 */
export function prefixNetwork(prefix: string): string {
  if (!isIpPrefix(prefix)) throw new Error(`"${prefix.slice(0, 64)}" is not an address prefix.`);
  const [address = '', bits = ''] = prefix.split('/');
  const length = Number(bits);
  if (!address.includes(':')) {
    const value = address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
    const network = length === 0 ? 0 : (value & (0xffffffff << (32 - length))) >>> 0;
    return `${[network >>> 24, (network >>> 16) & 255, (network >>> 8) & 255, network & 255].join('.')}/${length}`;
  }
  if (address.includes('.'))
    throw new Error(`"${prefix}": IPv6 with an embedded IPv4 part is not supported.`);
  const [head = '', tail] = address.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const written = [...groups(head), ...groups(tail)];
  const full =
    tail === undefined ? written : [...groups(head), ...Array(8 - written.length).fill('0'), ...groups(tail)];
  const value = full.reduce((n, group) => (n << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
  const hostBits = BigInt(128 - length);
  const network = (value >> hostBits) << hostBits;
  const out = Array.from({ length: 8 }, (_, i) => ((network >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return `${out.join(':')}/${length}`;
}

export const wireguardEndpointSchema = z.string().refine(isWireguardEndpoint, {
  message: 'must be an endpoint like 192.0.2.1:51820 or [2001:db8::1]:51820',
});

export const ipPrefixSchema = z
  .string()
  .refine(isIpPrefix, { message: 'must be an IP prefix like 100.64.0.2/32 or fd7a::2/128' });
