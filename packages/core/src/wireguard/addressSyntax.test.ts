import { describe, expect, it } from 'vitest';
import { prefixNetwork } from './addressSyntax';

describe('prefixNetwork', () => {
  it('clears the host bits of IPv4 and IPv6 prefixes, as `ip route` needs them', () => {
    expect(prefixNetwork('100.64.0.5/10')).toBe('100.64.0.0/10');
    expect(prefixNetwork('100.127.255.254/10')).toBe('100.64.0.0/10');
    expect(prefixNetwork('192.168.81.2/24')).toBe('192.168.81.0/24');
    expect(prefixNetwork('203.0.113.9/32')).toBe('203.0.113.9/32');
    expect(prefixNetwork('10.1.2.3/0')).toBe('0.0.0.0/0');
    expect(prefixNetwork('fd7a:7761:7272::5/48')).toBe('fd7a:7761:7272:0:0:0:0:0/48');
    expect(prefixNetwork('fd7a:7761:7272:1:2::5/64')).toBe('fd7a:7761:7272:1:0:0:0:0/64');
    expect(prefixNetwork('::1/128')).toBe('0:0:0:0:0:0:0:1/128');
    expect(prefixNetwork('2001:db8:ffff::/33')).toBe('2001:db8:8000:0:0:0:0:0/33');
  });

  it('refuses what is not a prefix with a sentence', () => {
    expect(() => prefixNetwork('100.64.0.5')).toThrow(/is not an address prefix/);
    expect(() => prefixNetwork('100.64.0.5/33')).toThrow(/is not an address prefix/);
    expect(() => prefixNetwork('route add 1.2.3.4/8; rm -rf /')).toThrow(/is not an address prefix/);
  });
});
