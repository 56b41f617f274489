import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Secret } from '@warren/core';
import { describe, expect, it } from 'vitest';
import { loadSecretBox, SecretBox } from './SecretBox';

describe('SecretBox', () => {
  const key = () => randomBytes(32);

  it('round-trips a secret and never stores it in the clear', () => {
    const box = new SecretBox(key());
    const stored = box.encrypt(new Secret('sk-live-abcdef123456'));
    expect(stored).not.toContain('sk-live');
    expect(stored).toMatch(/^v1:[\w-]{8}:[\w-]+:[\w-]+$/);
    expect(box.decrypt(stored).reveal()).toBe('sk-live-abcdef123456');
    // A fresh IV each time: the same secret never encrypts to the same text.
    expect(box.encrypt(new Secret('sk-live-abcdef123456'))).not.toBe(stored);
  });

  it('refuses a tampered value instead of returning garbage', () => {
    const box = new SecretBox(key());
    const stored = box.encrypt(new Secret('value'));
    const parts = stored.split(':');
    const data = Buffer.from(parts[3] ?? '', 'base64url');
    data[0] = (data[0] ?? 0) ^ 1;
    expect(() => box.decrypt([...parts.slice(0, 3), data.toString('base64url')].join(':'))).toThrow();
  });

  it('after a rotation, old values still decrypt and are reported stale', () => {
    const [oldKey, newKey] = [key(), key()];
    const before = new SecretBox(oldKey).encrypt(new Secret('rotate-me'));
    const rotated = new SecretBox(newKey, [oldKey]);
    expect(rotated.decrypt(before).reveal()).toBe('rotate-me');
    expect(rotated.isStale(before)).toBe(true);
    expect(rotated.isStale(rotated.encrypt(new Secret('x')))).toBe(false);
    expect(() => new SecretBox(newKey).decrypt(before)).toThrow(/key this server does not have/);
  });

  it('creates a private key file in the data directory on first start, and reuses it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-secrets-'));
    const first = loadSecretBox(dir, {});
    const stored = first.encrypt(new Secret('kept'));
    expect(fs.statSync(path.join(dir, 'secrets.key')).mode & 0o777).toBe(0o600);
    expect(loadSecretBox(dir, {}).decrypt(stored).reveal()).toBe('kept');
    expect(() => loadSecretBox(dir, { WARREN_SECRETS_KEY: 'short' })).toThrow(/64 hex characters/);
    fs.rmSync(dir, { recursive: true });
  });
});
