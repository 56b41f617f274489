import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ephemeralKeyPair } from '@warren/core/node';
import { Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentLog } from '../../src/AgentLog';
import { SshServer } from '../../src/ssh/SshServer';

// A standby stream's SSH server (the daemon relays such a stream; here a loopback TCP pair stands
// in for the relayed bytes, which SshServer sees as a Duplex either way).
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-ssh-standby-'));
const hostKey = ephemeralKeyPair();
const opens: number[] = [];
const ssh = new SshServer({
  hostKey,
  dir,
  log: new AgentLog([], () => {}),
  onConnectionChange: (open) => opens.push(open),
});
let listener: net.Server;
let port: number;
let assigners: ((clientKey: string) => boolean)[] = [];

beforeAll(async () => {
  listener = net.createServer((socket) => assigners.push(ssh.serveStandby(socket)));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => listener.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A standby: the socket on our side, its first bytes (read and put back), and its `assign`. */
async function standby() {
  assigners = [];
  const socket = net.connect(port, '127.0.0.1');
  const first = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
  socket.pause();
  socket.unshift(first);
  return { socket, first, assign: assigners[0] as (clientKey: string) => boolean };
}

function signIn(socket: net.Socket, privateKey: string): Promise<Client> {
  const client = new Client();
  return new Promise((resolve, reject) => {
    client.once('ready', () => resolve(client));
    client.once('error', reject);
    client.connect({
      sock: socket,
      username: 'dev',
      privateKey,
      hostVerifier: (key: Buffer) => key.toString('base64') === hostKey.publicKey.split(' ')[1],
      readyTimeout: 10_000,
    });
  });
}

function exec(client: Client, command: string): Promise<string> {
  return new Promise((resolve, reject) =>
    client.exec(command, (error, channel) => {
      if (error) return reject(error);
      let out = '';
      channel.on('data', (data: Buffer) => (out += data));
      channel.on('close', () => resolve(out));
    }),
  );
}

describe("a standby stream's SSH server", () => {
  it('speaks first, counts as open only once its key is given, and accepts that key', async () => {
    const key = ephemeralKeyPair();
    const { socket, first, assign } = await standby();
    // Its ident (and KEXINIT) leave before anyone uses it: a client reads them with `connected`.
    expect(first.toString('latin1')).toMatch(/^SSH-2\.0-/);
    expect(opens).toEqual([]);
    expect(assign(key.publicKey)).toBe(true);
    // One stream, one key: a second assignment changes nothing.
    expect(assign(ephemeralKeyPair().publicKey)).toBe(false);
    const client = await signIn(socket, key.privateKey);
    expect(ssh.openConnections).toBe(1);
    expect((await exec(client, 'echo standby-ok')).trim()).toBe('standby-ok');
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.end();
    await closed;
    await expect.poll(() => ssh.openConnections).toBe(0);
  });

  it('refuses every key until one is given, and then any other key', async () => {
    const early = await standby();
    await expect(signIn(early.socket, ephemeralKeyPair().privateKey)).rejects.toThrow(
      /authentication methods failed/,
    );
    const wrong = await standby();
    expect(wrong.assign(ephemeralKeyPair().publicKey)).toBe(true);
    await expect(signIn(wrong.socket, ephemeralKeyPair().privateKey)).rejects.toThrow(
      /authentication methods failed/,
    );
    const unreadable = await standby();
    expect(unreadable.assign('ssh-ed25519 not-a-key')).toBe(false);
    // The stream given the wrong key counted as open (as any used stream does) until it closed.
    for (const socket of [early.socket, wrong.socket, unreadable.socket]) socket.destroy();
    await expect.poll(() => ssh.openConnections).toBe(0);
  });
});
