import { describe, expect, it } from 'vitest';
import { Secret } from '../secrets/Secret';
import {
  CAPTURED_PEER_KEY,
  CAPTURED_PEER_KEY_HEX,
  CAPTURED_PRIVATE_KEY,
  CAPTURED_PRIVATE_KEY_HEX,
} from './testFixtures';
import { encodeUapiSetRequest } from './uapiSet';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a throw');
}

describe('encodeUapiSetRequest', () => {
  it('writes the lines wg(8) would send, keys as hex, in protocol order', () => {
    const text = encodeUapiSetRequest({
      privateKey: new Secret(CAPTURED_PRIVATE_KEY),
      listenPort: 51820,
      replacePeers: true,
      peers: [
        {
          publicKey: CAPTURED_PEER_KEY,
          endpoint: '[2001:db8::1]:51821',
          persistentKeepaliveSeconds: 25,
          replaceAllowedIps: true,
          allowedIps: ['100.64.0.2/32', 'fd7a::2/128'],
        },
      ],
    });
    expect(text).toBe(
      [
        'set=1',
        `private_key=${CAPTURED_PRIVATE_KEY_HEX}`,
        'listen_port=51820',
        'replace_peers=true',
        `public_key=${CAPTURED_PEER_KEY_HEX}`,
        'endpoint=[2001:db8::1]:51821',
        'persistent_keepalive_interval=25',
        'replace_allowed_ips=true',
        'allowed_ip=100.64.0.2/32',
        'allowed_ip=fd7a::2/128',
        '',
        '',
      ].join('\n'),
    );
  });

  it('removes keys with the all-zero key and peers with remove=true', () => {
    expect(
      encodeUapiSetRequest({ privateKey: null, peers: [{ publicKey: CAPTURED_PEER_KEY, remove: true }] }),
    ).toBe(`set=1\nprivate_key=${'0'.repeat(64)}\npublic_key=${CAPTURED_PEER_KEY_HEX}\nremove=true\n\n`);
    expect(
      encodeUapiSetRequest({
        peers: [{ publicKey: CAPTURED_PEER_KEY, updateOnly: true, presharedKey: null }],
      }),
    ).toBe(
      `set=1\npublic_key=${CAPTURED_PEER_KEY_HEX}\nupdate_only=true\npreshared_key=${'0'.repeat(64)}\n\n`,
    );
  });

  it('refuses a value that would smuggle another line onto the socket', () => {
    const smuggled = `1.2.3.4:5\nprivate_key=${'0'.repeat(64)}`;
    expect(
      message(() => encodeUapiSetRequest({ peers: [{ publicKey: CAPTURED_PEER_KEY, endpoint: smuggled }] })),
    ).toBe(
      'The WireGuard configuration is invalid. Field "peers.0.endpoint": must be an endpoint like 192.0.2.1:51820 or [2001:db8::1]:51820.',
    );
    expect(
      message(() =>
        encodeUapiSetRequest({ peers: [{ publicKey: CAPTURED_PEER_KEY, allowedIps: ['10.0.0.1/24\n'] }] }),
      ),
    ).toContain('peers.0.allowedIps.0');
  });

  it('explains a bad private key without printing it, and rejects settings on a removed peer', () => {
    const nearly = `${CAPTURED_PRIVATE_KEY.slice(0, 40)}!!!=`;
    const text = message(() => encodeUapiSetRequest({ privateKey: new Secret(nearly) }));
    expect(text).toBe(
      'The WireGuard configuration is invalid. Field "privateKey": must hold a WireGuard key: 44 characters of base64 ending in "=".',
    );
    expect(text).not.toContain(nearly.slice(0, 20));
    expect(
      message(() =>
        encodeUapiSetRequest({
          peers: [{ publicKey: CAPTURED_PEER_KEY, remove: true, endpoint: '1.2.3.4:5' }],
        }),
      ),
    ).toContain('a peer being removed takes no other settings');
    expect(message(() => encodeUapiSetRequest({ listenPort: 65536 }))).toContain('listenPort');
    expect(message(() => encodeUapiSetRequest({ bogus: 1 } as never))).toContain(
      '"bogus" is not a known field',
    );
  });
});
