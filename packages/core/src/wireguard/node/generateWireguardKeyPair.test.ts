import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Secret } from '../../secrets/Secret';
import { CAPTURED_PRIVATE_KEY, CAPTURED_PUBLIC_KEY } from '../testFixtures';
import { wireguardKeyToHex } from '../wireguardKey';
import { generateWireguardKeyPair, wireguardPublicKey } from './generateWireguardKeyPair';

const wg = spawnSync('sh', ['-c', 'command -v wg']).status === 0;

describe('generateWireguardKeyPair', () => {
  it('derives the public key wg computed for a known private key', () => {
    expect(wireguardPublicKey(new Secret(CAPTURED_PRIVATE_KEY))).toBe(CAPTURED_PUBLIC_KEY);
  });

  it('makes distinct clamped keys, in base64 and hex, whose private half never prints', () => {
    const pair = generateWireguardKeyPair();
    const other = generateWireguardKeyPair();
    expect(pair.publicKey).not.toBe(other.publicKey);
    const raw = Buffer.from(pair.privateKey.reveal(), 'base64');
    expect(raw).toHaveLength(32);
    expect((raw[0] as number) & 7).toBe(0);
    expect((raw[31] as number) & 0xc0).toBe(0x40);
    expect(pair.privateKeyHex.reveal()).toBe(wireguardKeyToHex(pair.privateKey.reveal()));
    expect(pair.publicKeyHex).toBe(wireguardKeyToHex(pair.publicKey));
    expect(JSON.stringify(pair)).not.toContain(pair.privateKey.reveal());
  });

  it.skipIf(!wg)('agrees with `wg pubkey` on a generated key', () => {
    const pair = generateWireguardKeyPair();
    const out = spawnSync('wg', ['pubkey'], { input: `${pair.privateKey.reveal()}\n`, encoding: 'utf8' });
    expect(out.stdout.trim()).toBe(pair.publicKey);
  });
});
