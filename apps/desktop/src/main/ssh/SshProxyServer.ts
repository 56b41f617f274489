import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { openSshTunnel, rememberHostKey, type TunnelTarget } from '@warren/core/node';
import type { Logger } from '../log/desktopLog';
import { MAX_HELLO_BYTES, type ProxyAnswer, type ProxyHello, proxyHello } from './sshProxyProtocol';

export interface SshProxyServerOptions {
  /** Unix socket path (or \\.\pipe\NAME on Windows) the proxy program connects to. */
  socketPath: string;
  /** A file holding the shared key, readable by this user only. */
  keyFile: string;
  knownHostsFile: string;
  /** This computer's public key, shown to the daemon for each connection. */
  publicKey: () => string;
  /** The active deployment; undefined when signed in nowhere. */
  target: () => TunnelTarget | undefined;
  log: Logger;
}

/**
 * What the desktop's SSH config entries' ProxyCommand talks to: for each OpenSSH connection it
 * opens a relay tunnel to the workspace with the desktop's token, records the host key the daemon
 * pinned, and carries the bytes. SSH itself runs end to end between OpenSSH and the agent.
 */
export class SshProxyServer {
  #server: net.Server | undefined;
  readonly #sockets = new Set<net.Socket>();
  #key = '';

  constructor(private readonly options: SshProxyServerOptions) {}

  async start(): Promise<void> {
    const { socketPath, keyFile } = this.options;
    this.#key = randomBytes(32).toString('hex');
    fs.mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 });
    fs.writeFileSync(keyFile, this.#key, { mode: 0o600 });
    // A socket left by a crashed run would make listen fail with EADDRINUSE.
    if (process.platform !== 'win32') fs.rmSync(socketPath, { force: true });
    const server = net.createServer((socket) => void this.#serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    if (process.platform !== 'win32') fs.chmodSync(socketPath, 0o600);
    this.#server = server;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => (this.#server ? this.#server.close(resolve) : resolve(undefined)));
    this.#server = undefined;
  }

  async #serve(socket: net.Socket): Promise<void> {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    try {
      const { hello, rest } = await readHello(socket);
      if (!this.#checkKey(hello))
        return answer(socket, {
          ok: false,
          error: 'The SSH proxy key does not match this Warren desktop; restart Warren.',
        });
      const target = this.options.target();
      if (!target)
        return answer(socket, { ok: false, error: 'Warren desktop is not signed in to a server.' });
      const opened = await openSshTunnel(target, hello.workspace, this.options.publicKey());
      if (opened.connected.hostKey)
        rememberHostKey(this.options.knownHostsFile, hello.alias, opened.connected.hostKey);
      answer(socket, { ok: true }, false);
      if (rest.length > 0) opened.stream.write(rest);
      socket.pipe(opened.stream).pipe(socket);
      opened.stream.once('close', () => socket.destroy());
      socket.once('close', () => opened.socket.close());
      this.options.log.info('ssh proxy connected', { workspace: hello.workspace });
    } catch (error) {
      this.options.log.warn('ssh proxy refused', { error: (error as Error).message });
      answer(socket, { ok: false, error: (error as Error).message });
    }
  }

  /** Checked in constant time: the key is what separates this user's programs from others'. */
  #checkKey(hello: ProxyHello): boolean {
    const a = Buffer.from(hello.key);
    const b = Buffer.from(this.#key);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

function answer(socket: net.Socket, reply: ProxyAnswer, end = true): void {
  socket.write(`${JSON.stringify(reply)}\n`);
  if (end) socket.end();
}

/** The first line as a validated hello, and whatever bytes came after it in the same reads. */
function readHello(socket: net.Socket): Promise<{ hello: ProxyHello; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const newline = buffered.indexOf(0x0a);
      if (newline < 0) {
        if (buffered.length > MAX_HELLO_BYTES) fail('The SSH proxy sent an oversized greeting.');
        return;
      }
      socket.off('data', onData);
      socket.pause();
      let json: unknown;
      try {
        json = JSON.parse(buffered.subarray(0, newline).toString('utf8'));
      } catch {}
      const parsed = proxyHello.safeParse(json);
      if (!parsed.success)
        return fail('The SSH proxy sent a greeting Warren does not understand; update Warren.');
      resolve({ hello: parsed.data, rest: buffered.subarray(newline + 1) });
    };
    const fail = (message: string) => {
      socket.off('data', onData);
      reject(new Error(message));
    };
    socket.on('data', onData);
  });
}
