import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { ephemeralKeyPair } from './keyPair';

const { utils } = ssh2;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-keypair-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The public key OpenSSH's own ssh-keygen derives from a private key file. */
function opensshPublicKey(privateKey: string, name: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, privateKey, { mode: 0o600 });
  return execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim();
}

/** ssh2 signs with the private half and verifies with the public half. */
function signsAndVerifies(pair: { privateKey: string; publicKey: string }): boolean {
  const priv = utils.parseKey(pair.privateKey);
  const pub = utils.parseKey(pair.publicKey);
  if (priv instanceof Error || Array.isArray(priv) || pub instanceof Error || Array.isArray(pub))
    return false;
  const data = Buffer.from('a session identifier');
  return pub.verify(data, priv.sign(data)) === true && priv.getPublicSSH().equals(pub.getPublicSSH());
}

describe('ephemeralKeyPair', () => {
  it('writes a private key that OpenSSH reads back to the same public key', () => {
    for (let i = 0; i < 3; i++) {
      const pair = ephemeralKeyPair();
      expect(pair.privateKey).toMatch(
        /^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\n-----END OPENSSH PRIVATE KEY-----\n$/,
      );
      expect(pair.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43}=?$/);
      expect(opensshPublicKey(pair.privateKey, `key${i}`).split(' ').slice(0, 2).join(' ')).toBe(
        pair.publicKey,
      );
    }
  });

  it('gives keys ssh2 signs and verifies with, including public keys that start with a zero byte', () => {
    let leadingZero = 0;
    for (let i = 0; i < 4000 && leadingZero < 2; i++) {
      const pair = ephemeralKeyPair();
      const raw = Buffer.from(pair.publicKey.split(' ')[1] ?? '', 'base64').subarray(19);
      expect(raw).toHaveLength(32);
      if (raw[0] !== 0) continue;
      leadingZero += 1;
      expect(signsAndVerifies(pair)).toBe(true);
      expect(opensshPublicKey(pair.privateKey, `zero${leadingZero}`).split(' ').slice(0, 2).join(' ')).toBe(
        pair.publicKey,
      );
    }
    // One key in 256 starts with a zero byte: none in 4,000 would be a one-in-six-million fluke.
    expect(leadingZero).toBeGreaterThan(0);
    expect(signsAndVerifies(ephemeralKeyPair())).toBe(true);
  });

  it('never makes the same key twice', () => {
    const keys = new Set(Array.from({ length: 200 }, () => ephemeralKeyPair().publicKey));
    expect(keys.size).toBe(200);
  });
});
