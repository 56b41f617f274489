import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../test-support/seededRandom';
import { WarrenError } from '../errors/WarrenError';
import {
  CAPTURED_GET_REPLY,
  CAPTURED_PEER_KEY,
  CAPTURED_PRIVATE_KEY,
  CAPTURED_PRIVATE_KEY_HEX,
} from './testFixtures';
import { parseUapiGetReply } from './uapiGet';
import { UapiReplyReader } from './uapiReply';
import { WireguardUapiError } from './WireguardUapiError';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('parseUapiGetReply', () => {
  it('reads the device and peer wireguard-go reported, keys in base64', () => {
    const device = parseUapiGetReply(CAPTURED_GET_REPLY, 'wg0');
    expect(device.privateKey?.reveal()).toBe(CAPTURED_PRIVATE_KEY);
    expect(device).toMatchObject({ listenPort: 51820, fwmark: 0 });
    expect(device.peers).toEqual([
      {
        publicKey: CAPTURED_PEER_KEY,
        presharedKey: undefined,
        endpoint: '192.168.77.2:51821',
        allowedIps: ['100.64.0.2/32', 'fd7a::2/128'],
        persistentKeepaliveSeconds: 25,
        lastHandshakeAt: undefined,
        rxBytes: 0,
        txBytes: 148,
        protocolVersion: 1,
      },
    ]);
  });

  it('turns the handshake seconds and nanoseconds into a time, and keeps peers apart', () => {
    const reply = CAPTURED_GET_REPLY.replace(
      'last_handshake_time_sec=0',
      'last_handshake_time_sec=1700000000',
    )
      .replace('last_handshake_time_nsec=0', 'last_handshake_time_nsec=123456789')
      .replace('errno=0', `public_key=${'ab'.repeat(32)}\nendpoint=[fe80::1%eth0]:7\nerrno=0`);
    const [first, second] = parseUapiGetReply(reply).peers;
    expect(first?.lastHandshakeAt?.toISOString()).toBe('2023-11-14T22:13:20.123Z');
    expect(first?.allowedIps).toHaveLength(2);
    expect(second).toMatchObject({
      endpoint: '[fe80::1%eth0]:7',
      allowedIps: [],
      lastHandshakeAt: undefined,
    });
  });

  it('reads an empty device, and skips keys a newer device may add', () => {
    expect(parseUapiGetReply('errno=0\n\n')).toEqual({
      privateKey: undefined,
      listenPort: 0,
      fwmark: 0,
      peers: [],
    });
    expect(parseUapiGetReply('listen_port=1\nshiny_new_key=yes\nerrno=0\n\n').listenPort).toBe(1);
  });

  it('reports a negative errno (as wireguard-go sends it) and a positive one as the same error', () => {
    for (const errno of [-22, 22]) {
      const error = thrown(() => parseUapiGetReply(`errno=${errno}\n\n`, 'wg7'));
      expect(error).toBeInstanceOf(WireguardUapiError);
      expect(error).toMatchObject({ errno, code: 'INVALID_INPUT' });
      expect((error as Error).message).toBe(
        `WireGuard interface wg7 refused the get request: a value in the request was invalid (errno ${errno}).`,
      );
    }
    expect(thrown(() => parseUapiGetReply('errno=-98\n\n'))).toMatchObject({ code: 'CONFLICT' });
    expect(thrown(() => parseUapiGetReply('errno=-4242\n\n'))).toMatchObject({
      code: 'UPSTREAM',
      errno: -4242,
    });
  });

  it('names the bad line but never repeats a private key, even a malformed one', () => {
    const badKey = `${CAPTURED_PRIVATE_KEY_HEX.slice(0, 63)}z`;
    const error = thrown(() =>
      parseUapiGetReply(CAPTURED_GET_REPLY.replace(CAPTURED_PRIVATE_KEY_HEX, badKey), 'wg0'),
    );
    expect((error as Error).message).toBe(
      'WireGuard interface wg0 sent a reply Warren cannot read: line 1: private_key is not 64 hex characters.',
    );
    const port = thrown(() => parseUapiGetReply('listen_port=70000\nerrno=0\n\n', 'wg0'));
    expect((port as Error).message).toContain(
      'line 1: listen_port "70000" is not a whole number from 0 to 65535',
    );
  });

  it('rejects replies that are cut short, unterminated or out of order', () => {
    const bad = [
      '',
      'errno=0\n',
      'listen_port=1\n\n',
      'errno=0\nlisten_port=1\n\n',
      'errno=0\nerrno=0\n\n',
      '=0\nerrno=0\n\n',
      'errno=zero\n\n',
      'tx_bytes\nerrno=0\n\n',
      `endpoint=1.2.3.4:5\npublic_key=${'ab'.repeat(32)}\nerrno=0\n\n`,
    ];
    for (const reply of bad)
      expect(
        thrown(() => parseUapiGetReply(reply)),
        JSON.stringify(reply),
      ).toMatchObject({ code: 'UPSTREAM' });
  });
});

describe('UapiReplyReader', () => {
  it('gives the same reply however the socket splits it, and nothing before the blank line', () => {
    const bytes = new TextEncoder().encode(`${CAPTURED_GET_REPLY}trailing`);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const reader = new UapiReplyReader('wg0');
      const first = reader.push(bytes.subarray(0, cut));
      const reply = first ?? reader.push(bytes.subarray(cut));
      expect(reply, `cut ${cut}`).toBe(CAPTURED_GET_REPLY);
    }
    expect(new UapiReplyReader('wg0').push('listen_port=1\n')).toBeUndefined();
  });

  it('refuses a reply that never ends instead of buffering without bound', () => {
    const reader = new UapiReplyReader('wg0');
    const line = `allowed_ip=${'1'.repeat(1024 * 1024)}\n`;
    expect(
      thrown(() => {
        for (let i = 0; i < 10; i++) reader.push(line);
      }),
    ).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });
});

describe('parseUapiGetReply under fuzzing', () => {
  const r = seededRandom(4);
  const KEYS = [
    'private_key',
    'listen_port',
    'fwmark',
    'public_key',
    'preshared_key',
    'endpoint',
    'allowed_ip',
    'last_handshake_time_sec',
    'last_handshake_time_nsec',
    'rx_bytes',
    'tx_bytes',
    'persistent_keepalive_interval',
    'protocol_version',
    'errno',
    'get',
    'set',
    '',
  ];
  const VALUES = [
    '0',
    '-1',
    '1',
    '65536',
    '18446744073709551615',
    '1e3',
    ' 1',
    'ab'.repeat(32),
    'AB'.repeat(32),
    '0'.repeat(64),
    '1.2.3.4:5',
    '[::1]:80',
    '[::1]',
    '1.2.3.4:0',
    '256.0.0.1:1',
    '10.0.0.0/8',
    '::/0',
    '10.0.0.0/33',
    '',
    '=',
    '\r',
    '\u0000',
  ];

  function neverThrowsButWarrenError(reply: string) {
    try {
      const device = parseUapiGetReply(reply);
      // What it accepts is well formed.
      for (const peer of device.peers) expect(peer.publicKey).toHaveLength(44);
    } catch (error) {
      if (!(error instanceof WarrenError)) throw error;
    }
  }

  it('survives 3,000 random byte strings', () => {
    for (let i = 0; i < 3000; i++) {
      const bytes = Uint8Array.from({ length: r.int(96) }, () => r.pick([10, 61, 48, 49, 45, r.int(256)]));
      neverThrowsButWarrenError(`${new TextDecoder().decode(bytes)}${r.next() < 0.5 ? '\n\n' : ''}`);
    }
  });

  it('survives 5,000 replies of random known keys and tricky values', () => {
    for (let i = 0; i < 5000; i++) {
      const lines = Array.from({ length: r.int(12) }, () => `${r.pick(KEYS)}=${r.pick(VALUES)}`);
      neverThrowsButWarrenError(`${lines.join('\n')}\nerrno=${r.pick(['0', '0', '-5', '5', 'x'])}\n\n`);
    }
  });

  it('survives 3,000 mutations of the captured reply', () => {
    for (let i = 0; i < 3000; i++) {
      const chars = [...CAPTURED_GET_REPLY];
      for (let n = 1 + r.int(4); n > 0; n--) {
        const at = r.int(chars.length);
        const op = r.int(3);
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, r.pick(['\n', '=', '0', 'f', ':', '/', '-']));
        else chars[at] = String.fromCharCode(r.int(128));
      }
      neverThrowsButWarrenError(chars.join(''));
    }
  });
});
