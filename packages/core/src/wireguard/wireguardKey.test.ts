import { describe, expect, it } from 'vitest';
import { WarrenError } from '../errors/WarrenError';
import {
  CAPTURED_PEER_KEY,
  CAPTURED_PEER_KEY_HEX,
  CAPTURED_PRIVATE_KEY,
  CAPTURED_PRIVATE_KEY_HEX,
} from './testFixtures';
import { isWireguardKey, wireguardKeyFromHex, wireguardKeySchema, wireguardKeyToHex } from './wireguardKey';

describe('WireGuard keys', () => {
  it('converts between the base64 wg prints and the hex UAPI carries, both ways', () => {
    expect(wireguardKeyToHex(CAPTURED_PRIVATE_KEY)).toBe(CAPTURED_PRIVATE_KEY_HEX);
    expect(wireguardKeyToHex(CAPTURED_PEER_KEY)).toBe(CAPTURED_PEER_KEY_HEX);
    expect(wireguardKeyFromHex(CAPTURED_PEER_KEY_HEX)).toBe(CAPTURED_PEER_KEY);
    expect(wireguardKeyFromHex(CAPTURED_PEER_KEY_HEX.toUpperCase())).toBe(CAPTURED_PEER_KEY);
  });

  it('rejects what is not a 32-byte key with a sentence that does not repeat the value', () => {
    const nearlyAKey = `${CAPTURED_PRIVATE_KEY.slice(0, 42)}B=`; // 32 bytes would need trailing zero bits
    for (const bad of ['', 'abc', nearlyAKey, `${CAPTURED_PRIVATE_KEY}=`, CAPTURED_PRIVATE_KEY_HEX]) {
      expect(isWireguardKey(bad)).toBe(false);
      let error: unknown;
      try {
        wireguardKeyToHex(bad, 'private key');
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(WarrenError);
      expect((error as WarrenError).message).toBe(
        'The private key is not a WireGuard key (44 characters of base64).',
      );
    }
    expect(() => wireguardKeyFromHex('xyz')).toThrow('64 hex characters');
    expect(wireguardKeySchema.safeParse(CAPTURED_PEER_KEY).success).toBe(true);
    expect(wireguardKeySchema.safeParse(nearlyAKey).success).toBe(false);
  });
});
