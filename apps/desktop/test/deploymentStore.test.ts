import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeploymentStore } from '../src/main/deployments/DeploymentStore';
import { memorySafeStorage } from './support/fakeSafeStorage';

const TOKEN = 'wrn_abcdef0123456789_SECRETPART';
const dirs: string[] = [];
const userData = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-desktop-store-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the deployment store', () => {
  it('round-trips several deployments with their tokens, switching the active one', () => {
    const dir = userData();
    const safe = memorySafeStorage();
    const store = new DeploymentStore(dir, safe);
    const work = store.add({ url: 'https://warren.example.com/', token: TOKEN, name: 'Work' });
    const home = store.add({ url: 'http://127.0.0.1:7080', token: 'home-token-0123456789' });
    expect(home).toMatchObject({ name: '127.0.0.1:7080', active: true });

    const reopened = new DeploymentStore(dir, safe);
    expect(reopened.list().map((d) => [d.name, d.url, d.active])).toEqual([
      ['Work', 'https://warren.example.com', false],
      ['127.0.0.1:7080', 'http://127.0.0.1:7080', true],
    ]);
    reopened.switchTo(work.id);
    expect(new DeploymentStore(dir, safe).active()?.name).toBe('Work');
    expect(reopened.target(work.id).token.reveal()).toBe(TOKEN);
    // What lists return (and so what the renderer could be handed) has no token in any form.
    expect(JSON.stringify(reopened.list())).not.toContain('token');
  });

  it('keeps the WireGuard choice per deployment across restarts, off by default and after signing in again', () => {
    const dir = userData();
    const safe = memorySafeStorage();
    const store = new DeploymentStore(dir, safe);
    const work = store.add({ url: 'https://warren.example.com', token: TOKEN });
    const home = store.add({ url: 'http://127.0.0.1:7080', token: 'home-token-0123456789' });
    expect(work.wireguard).toBe(false);
    store.setWireguard(work.id, true);
    // A new token for the same server keeps the person's choice.
    store.add({ url: 'https://warren.example.com', token: `${TOKEN}2` });
    const reopened = new DeploymentStore(dir, safe);
    expect(reopened.list().map((d) => [d.id, d.wireguard])).toEqual([
      [work.id, true],
      [home.id, false],
    ]);
    expect(reopened.setWireguard(work.id, false).wireguard).toBe(false);
    expect(new DeploymentStore(dir, safe).list().some((d) => d.wireguard)).toBe(false);
  });

  it('never writes a token in the clear, and the file is readable by this user only', () => {
    const dir = userData();
    const store = new DeploymentStore(dir, memorySafeStorage());
    store.add({ url: 'https://warren.example.com', token: TOKEN });
    const raw = fs.readFileSync(store.file);
    expect(raw.toString('utf8')).not.toContain(TOKEN);
    expect(raw.toString('utf8')).not.toContain(Buffer.from(TOKEN).toString('base64'));
    expect(raw.includes(Buffer.from('SECRETPART'))).toBe(false);
    expect(fs.statSync(store.file).mode & 0o777).toBe(0o600);
  });

  it('refuses to save a token where the OS offers no encryption', () => {
    const store = new DeploymentStore(userData(), memorySafeStorage(false));
    expect(() => store.add({ url: 'https://warren.example.com', token: TOKEN })).toThrow(/no secure storage/);
    expect(fs.existsSync(store.file)).toBe(false);
  });

  it('says what is wrong with an address or a token', () => {
    const store = new DeploymentStore(userData(), memorySafeStorage());
    expect(() => store.add({ url: 'ftp://x', token: TOKEN })).toThrow(
      /must start with https:\/\/ or http:\/\//,
    );
    expect(() => store.add({ url: 'https://user:pw@x.example', token: TOKEN })).toThrow(/not in the address/);
    expect(() => store.add({ url: 'https://x.example', token: '  ' })).toThrow(/Paste an API token/);
    expect(() => store.switchTo('nope')).toThrow(/no saved Warren server/);
  });

  it('asks to sign in again when the keyring can no longer decrypt a token', () => {
    const dir = userData();
    const added = new DeploymentStore(dir, memorySafeStorage()).add({
      url: 'https://x.example',
      token: TOKEN,
    });
    expect(() => new DeploymentStore(dir, memorySafeStorage()).target(added.id)).toThrow(
      /sign in to it again/,
    );
  });
});
