import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkWireguardHelper, hasAmbientNetAdmin } from './wireguardHelper';

describe.skipIf(process.platform !== 'linux')('the WireGuard helper check', () => {
  it('names a missing wireguard-go, on PATH or at the configured path', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-nowg-'));
    try {
      expect(checkWireguardHelper({ env: { PATH: empty } })).toEqual({
        available: false,
        reason: 'wireguard-go was not found on PATH',
      });
      expect(checkWireguardHelper({ binary: path.join(empty, 'wireguard-go') })).toEqual({
        available: false,
        reason: `wireguard-go was not found at ${path.join(empty, 'wireguard-go')}`,
      });
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('reads CAP_NET_ADMIN from the ambient set only', () => {
    expect(hasAmbientNetAdmin('CapEff:\t0000000000001000\nCapAmb:\t0000000000000000\n')).toBe(false);
    expect(hasAmbientNetAdmin('CapInh:\t0000000000001000\nCapAmb:\t0000000000001000\n')).toBe(true);
    expect(hasAmbientNetAdmin('CapAmb:\t000001ffffffffff\n')).toBe(true);
    expect(hasAmbientNetAdmin('Name:\tnode\n')).toBe(false);
  });
});
