import { describe, expect, it } from 'vitest';
import { planPeerSync, SESSION_LIFETIME_MS } from './peerSync';
import type { WireguardDeviceState, WireguardPeerState } from './WireguardDevice';

const KEY_A = `${'A'.repeat(43)}=`;
const KEY_B = `${'B'.repeat(42)}A=`;
const KEY_C = `${'C'.repeat(42)}A=`;
const NOW = 1_800_000_000_000;

function peer(publicKey: string, extra: Partial<WireguardPeerState> = {}): WireguardPeerState {
  return {
    publicKey,
    presharedKey: undefined,
    endpoint: undefined,
    allowedIps: [],
    persistentKeepaliveSeconds: 0,
    lastHandshakeAt: undefined,
    rxBytes: 0,
    txBytes: 0,
    protocolVersion: 1,
    ...extra,
  };
}

const device = (peers: WireguardPeerState[]): WireguardDeviceState => ({
  privateKey: undefined,
  listenPort: 51820,
  fwmark: 0,
  peers,
});

describe('planPeerSync', () => {
  it('adds missing peers and removes peers the coordinator no longer lists', () => {
    const plan = planPeerSync(
      device([peer(KEY_A, { allowedIps: ['100.64.0.2/32'] }), peer(KEY_B)]),
      [
        { publicKey: KEY_A, allowedIps: ['100.64.0.2/32'] },
        {
          publicKey: KEY_C,
          endpoint: '192.0.2.3:51820',
          allowedIps: ['100.64.0.3/32'],
          persistentKeepaliveSeconds: 25,
        },
      ],
      NOW,
    );
    expect(plan).toEqual({
      peers: [
        { publicKey: KEY_B, remove: true },
        {
          publicKey: KEY_C,
          endpoint: '192.0.2.3:51820',
          persistentKeepaliveSeconds: 25,
          replaceAllowedIps: true,
          allowedIps: ['100.64.0.3/32'],
        },
      ],
    });
  });

  it('does nothing when the device already matches, whatever the order of allowed IPs', () => {
    const have = peer(KEY_A, { allowedIps: ['fd7a::2/128', '100.64.0.2/32'], endpoint: '192.0.2.1:1' });
    expect(
      planPeerSync(
        device([have]),
        [{ publicKey: KEY_A, endpoint: '192.0.2.1:1', allowedIps: ['100.64.0.2/32', 'fd7a::2/128'] }],
        NOW,
      ),
    ).toBeUndefined();
  });

  it('keeps the endpoint a live session roamed to, and resets it once the session has expired', () => {
    const roamed = { endpoint: '198.51.100.9:40000', allowedIps: ['100.64.0.2/32'] };
    const want = [{ publicKey: KEY_A, endpoint: '192.0.2.1:51820', allowedIps: ['100.64.0.2/32'] }];
    const live = peer(KEY_A, { ...roamed, lastHandshakeAt: new Date(NOW - 10_000) });
    expect(planPeerSync(device([live]), want, NOW)).toBeUndefined();
    const expired = peer(KEY_A, { ...roamed, lastHandshakeAt: new Date(NOW - SESSION_LIFETIME_MS - 1) });
    expect(planPeerSync(device([expired]), want, NOW)).toEqual({
      peers: [{ publicKey: KEY_A, endpoint: '192.0.2.1:51820' }],
    });
  });

  it('replaces allowed IPs that changed, leaving the rest of the peer alone', () => {
    const have = peer(KEY_A, { allowedIps: ['100.64.0.2/32'], persistentKeepaliveSeconds: 25 });
    expect(
      planPeerSync(
        device([have]),
        [{ publicKey: KEY_A, allowedIps: ['100.64.0.9/32'], persistentKeepaliveSeconds: 25 }],
        NOW,
      ),
    ).toEqual({ peers: [{ publicKey: KEY_A, replaceAllowedIps: true, allowedIps: ['100.64.0.9/32'] }] });
  });
});
