import { type ChildProcess, spawn } from 'node:child_process';
import { timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import {
  type AuthContext,
  type Connection,
  type ParsedKey,
  type PseudoTtyInfo,
  Server,
  type ServerChannel,
  type Session,
  utils,
} from 'ssh2';
import type { AgentLog } from '../AgentLog';
import type { HostKey } from './hostKey';
import { serveSftp } from './sftpServer';

/** A process on a pseudo-terminal, as the SSH server needs it. */
export interface PtyProcess {
  onData(listener: (data: Buffer | string) => void): void;
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  write(data: Buffer | string): void;
  resize(cols: number, rows: number): void;
  kill(signal?: string): void;
}

export interface PtySpawnOptions {
  file: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  cols: number;
  rows: number;
  term: string;
}

export interface SshServerOptions {
  hostKey: HostKey;
  /** Where shells start and relative SFTP paths resolve. */
  dir: string;
  log: AgentLog;
  /** Starts a process on a PTY; throws a WarrenError with a sentence when terminals are unavailable. */
  spawnPty?: (options: PtySpawnOptions) => PtyProcess;
  /** Told when a connection opens and closes (connection stats count as activity). */
  onConnectionChange?: (open: number) => void;
}

interface PtyRequest {
  cols: number;
  rows: number;
  term: string;
}

/**
 * The agent's SSH server. Connections arrive as byte streams the daemon relayed (never on a
 * listening port), and each accepts exactly one client key: the one the user presented when the
 * daemon opened that stream. Shell, exec, PTY, SFTP and direct-tcpip forwards are served.
 */
export class SshServer {
  #open = 0;

  constructor(private readonly options: SshServerOptions) {
    const parsed = utils.parseKey(options.hostKey.privateKey);
    if (parsed instanceof Error || Array.isArray(parsed)) throw new Error('The SSH host key cannot be read.');
  }

  get openConnections(): number {
    return this.#open;
  }

  /** Serves one SSH connection on `stream`, accepting only `clientKey` (OpenSSH public key form). */
  serve(stream: Duplex, clientKey: string): void {
    const allowed = utils.parseKey(clientKey);
    if (allowed instanceof Error || Array.isArray(allowed)) {
      this.options.log.warn('refusing an SSH stream whose client key cannot be read');
      stream.destroy();
      return;
    }
    const server = new Server({ hostKeys: [this.options.hostKey.privateKey] }, (client) => this.#onClient(client, allowed));
    server.on('error', () => stream.destroy());
    // ssh2 reads the remote address off the socket; a relayed stream has none.
    Object.assign(stream, { remoteAddress: 'relay', remotePort: 0, remoteFamily: 'relay' });
    server.injectSocket(stream as unknown as net.Socket);
  }

  #onClient(client: Connection, allowed: ParsedKey): void {
    this.#changeOpen(+1);
    let closed = false;
    const closeOnce = () => {
      if (closed) return;
      closed = true;
      this.#changeOpen(-1);
    };
    client.on('close', closeOnce);
    client.on('error', (error) => this.options.log.debug?.('ssh connection error', { error: error.message }));
    client.on('authentication', (ctx) => authenticate(ctx, allowed));
    client.on('ready', () => {
      client.on('session', (accept) => this.#onSession(accept()));
      client.on('tcpip', (accept, reject, info) => forwardTcp(accept, reject, info.destIP, info.destPort));
    });
  }

  #changeOpen(delta: number): void {
    this.#open += delta;
    this.options.onConnectionChange?.(this.#open);
  }

  #onSession(session: Session): void {
    let pty: PtyRequest | undefined;
    const env: Record<string, string> = {};
    let running: { resize(cols: number, rows: number): void } | undefined;
    session.on('pty', (accept, _reject, info: PseudoTtyInfo) => {
      pty = { cols: info.cols || 80, rows: info.rows || 24, term: info.term || 'xterm-256color' };
      accept?.();
    });
    session.on('window-change', (accept, _reject, info) => {
      if (pty) pty = { ...pty, cols: info.cols, rows: info.rows };
      running?.resize(info.cols, info.rows);
      accept?.();
    });
    session.on('env', (accept, _reject, info) => {
      // Names only from a safe set of characters; values reach the process environment as given.
      if (/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(info.key)) env[info.key] = info.val;
      accept?.();
    });
    session.on('shell', (accept) => {
      running = this.#run(accept(), undefined, pty, env);
    });
    session.on('exec', (accept, _reject, info) => {
      running = this.#run(accept(), info.command, pty, env);
    });
    session.on('sftp', (accept) => {
      serveSftp(accept(), { root: this.options.dir, log: this.options.log });
    });
    session.on('subsystem', (_accept, reject) => reject());
  }

  #run(
    channel: ServerChannel,
    command: string | undefined,
    pty: PtyRequest | undefined,
    sessionEnv: Record<string, string>,
  ): { resize(cols: number, rows: number): void } | undefined {
    const shell = process.env.SHELL || '/bin/sh';
    const args = command === undefined ? ['-l'] : ['-c', command];
    const env: NodeJS.ProcessEnv = { ...process.env, ...sessionEnv, WARREN_SSH: '1' };
    if (pty && this.options.spawnPty) {
      try {
        return this.#runOnPty(channel, { file: shell, args, cwd: this.options.dir, env, ...pty });
      } catch (error) {
        channel.stderr.write(`warren: ${(error as Error).message} Running without a terminal.\r\n`);
      }
    }
    this.#runPiped(channel, shell, args, env);
    return undefined;
  }

  #runOnPty(channel: ServerChannel, options: PtySpawnOptions): { resize(cols: number, rows: number): void } {
    const spawnPty = this.options.spawnPty;
    if (!spawnPty) throw new Error('no terminals');
    const child = spawnPty({ ...options, env: { ...options.env, TERM: options.term } });
    child.onData((data) => channel.write(data));
    channel.on('data', (data: Buffer) => child.write(data));
    child.onExit((code, signal) => finish(channel, code, signal));
    channel.on('close', () => child.kill('SIGHUP'));
    return { resize: (cols, rows) => child.resize(cols, rows) };
  }

  #runPiped(channel: ServerChannel, file: string, args: string[], env: NodeJS.ProcessEnv): void {
    let child: ChildProcess;
    try {
      child = spawn(file, args, { cwd: this.options.dir, env, stdio: 'pipe', detached: true });
    } catch (error) {
      channel.stderr.write(`warren: could not start ${file}: ${(error as Error).message}\n`);
      return finish(channel, 127, null);
    }
    child.stdout?.pipe(channel, { end: false });
    child.stderr?.pipe(channel.stderr, { end: false });
    channel.pipe(child.stdin as NodeJS.WritableStream);
    child.stdin?.on('error', () => {});
    child.once('error', (error) => {
      channel.stderr.write(`warren: could not start ${file}: ${error.message}\n`);
      finish(channel, 127, null);
    });
    child.once('close', (code, signal) => finish(channel, code, signal));
    // A client that hangs up ends the whole process group, as sshd does.
    channel.once('close', () => {
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        try {
          process.kill(-child.pid, 'SIGHUP');
        } catch {}
      }
    });
  }
}

function authenticate(ctx: AuthContext, allowed: ParsedKey): void {
  if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
  const presented = ctx.key;
  const expected = allowed.getPublicSSH();
  const same =
    presented.algo === allowed.type &&
    presented.data.length === expected.length &&
    timingSafeEqual(presented.data, expected);
  if (!same) return ctx.reject(['publickey']);
  // Without a signature the client only asks whether the key would do.
  if (!ctx.signature || !ctx.blob) return ctx.accept();
  if (allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) return ctx.accept();
  ctx.reject(['publickey']);
}

function forwardTcp(
  accept: () => ServerChannel,
  reject: () => void,
  host: string,
  port: number,
): void {
  const socket = net.connect({ host, port });
  socket.once('error', () => reject());
  socket.once('connect', () => {
    socket.removeAllListeners('error');
    const channel = accept();
    socket.on('error', () => channel.close());
    channel.on('error', () => socket.destroy());
    channel.on('close', () => socket.destroy());
    socket.on('close', () => channel.close());
    socket.setNoDelay(true);
    socket.pipe(channel).pipe(socket);
  });
}

function finish(channel: ServerChannel, code: number | null, signal: string | null): void {
  if (channel.destroyed) return;
  if (signal) channel.exit(signal.replace(/^SIG/, ''), false, '');
  else channel.exit(code ?? 0);
  channel.end();
}
