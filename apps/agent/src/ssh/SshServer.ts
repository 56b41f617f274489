import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { spliceChannel } from '@warren/core/node';
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
import type { TerminalAttachment, TerminalSink } from '../terminals/ReconnectingPty';
import type { HostKey } from './hostKey';
import { serveSftp } from './sftpServer';

/** The agent's terminals, as the SSH server uses them for pty sessions (see TerminalSessions). */
export interface SshTerminals {
  attach(
    id: string,
    options: { command?: string; env?: Record<string, string>; cols: number; rows: number },
    sink: TerminalSink,
  ): Promise<TerminalAttachment>;
  close(id: string): boolean;
}

export interface SshServerOptions {
  hostKey: HostKey;
  /** Where shells start and relative SFTP paths resolve. */
  dir: string;
  log: AgentLog;
  /** Terminals for pty sessions; without them (or when they fail) sessions run without a pty. */
  terminals?: SshTerminals;
  /** Told when a connection opens and closes (connection stats count as activity). */
  onConnectionChange?: (open: number) => void;
}

interface PtyRequest {
  cols: number;
  rows: number;
  term: string;
}

/** Warren's ssh2 patch (patches/ssh2@1.17.0.patch): KEXINIT leaves with the ident, half a round trip sooner. */
const EARLY_KEXINIT = { earlyKexInit: true } as const;

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

  /**
   * Serves one SSH connection on `stream`, accepting only `clientKey` (OpenSSH public key form),
   * or any one of several (WireGuard: every key granted to the connecting peer just now).
   */
  serve(stream: Duplex, clientKey: string | readonly string[]): void {
    const keys = parseClientKeys(typeof clientKey === 'string' ? [clientKey] : clientKey);
    if (keys.length === 0) {
      this.options.log.warn('refusing an SSH stream whose client key cannot be read');
      stream.destroy();
      return;
    }
    this.#start(stream, { keys });
  }

  /**
   * Starts SSH on a standby stream before anyone uses it: the ident and KEXINIT leave at once and
   * wait at the daemon, so a client that takes this stream reads them with `connected`. Until the
   * returned `assign` gets the client key (from the daemon's `stream` frame, which arrives before
   * any of the client's bytes), no key is accepted and the connection does not count as open.
   * `assign` is false when the key cannot be read.
   */
  serveStandby(stream: Duplex): (clientKey: string) => boolean {
    const allowed: ClientKeys = {};
    this.#start(stream, allowed);
    return (clientKey) => {
      if (allowed.keys) return false;
      const keys = parseClientKeys([clientKey]);
      if (keys.length === 0) return false;
      allowed.keys = keys;
      allowed.onAssigned?.();
      return true;
    };
  }

  #start(stream: Duplex, allowed: ClientKeys): void {
    const server = new Server({ hostKeys: [this.options.hostKey.privateKey], ...EARLY_KEXINIT }, (client) =>
      this.#onClient(client, allowed),
    );
    server.on('error', () => stream.destroy());
    // ssh2 reads the remote address off the socket; a relayed stream has none (a TCP socket does).
    if (!(stream instanceof net.Socket))
      Object.assign(stream, { remoteAddress: 'relay', remotePort: 0, remoteFamily: 'relay' });
    server.injectSocket(stream as unknown as net.Socket);
  }

  #onClient(client: Connection, allowed: ClientKeys): void {
    let counted = false;
    let closed = false;
    const count = () => {
      if (counted || closed) return;
      counted = true;
      this.#changeOpen(+1);
    };
    if (allowed.keys) count();
    else allowed.onAssigned = count;
    client.on('close', () => {
      if (closed) return;
      closed = true;
      if (counted) this.#changeOpen(-1);
    });
    client.on('error', (error) => this.options.log.debug?.('ssh connection error', { error: error.message }));
    client.on('authentication', (ctx) => authenticate(ctx, allowed.keys ?? []));
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
    const env: NodeJS.ProcessEnv = { ...process.env, ...sessionEnv, WARREN_SSH: '1' };
    if (pty && this.options.terminals)
      return this.#runOnPty(channel, this.options.terminals, command, pty, sessionEnv);
    this.#runPiped(channel, shell, command === undefined ? ['-l'] : ['-c', command], env);
    return undefined;
  }

  /** A pty session is a terminal of its own that ends with the channel (no reattaching over SSH). */
  #runOnPty(
    channel: ServerChannel,
    terminals: SshTerminals,
    command: string | undefined,
    pty: PtyRequest,
    sessionEnv: Record<string, string>,
  ): { resize(cols: number, rows: number): void } {
    const id = `ssh-${randomUUID()}`;
    let attachment: TerminalAttachment | undefined;
    const early: Buffer[] = [];
    let size = { cols: pty.cols, rows: pty.rows };
    channel.on('data', (data: Buffer) => (attachment ? attachment.write(data) : early.push(data)));
    channel.once('close', () => terminals.close(id));
    terminals
      .attach(
        id,
        { command, env: { ...sessionEnv, TERM: pty.term, WARREN_SSH: '1' }, cols: pty.cols, rows: pty.rows },
        {
          // A slow client holds the terminal (its writes block) instead of the agent buffering output.
          data: (chunk) => {
            if (!channel.write(chunk) && attachment) {
              attachment.pause();
              channel.once('drain', () => attachment?.resume());
            }
          },
          exit: (code, signal) => finish(channel, code, signal),
        },
      )
      .then((attached) => {
        attachment = attached;
        attached.resize(size.cols, size.rows);
        for (const data of early.splice(0)) attached.write(data);
      })
      .catch((error: Error) => {
        channel.stderr.write(`warren: ${error.message}\r\n`);
        finish(channel, 1, null);
      });
    return {
      resize: (cols, rows) => {
        size = { cols, rows };
        attachment?.resize(cols, rows);
      },
    };
  }

  #runPiped(channel: ServerChannel, file: string, args: string[], env: NodeJS.ProcessEnv): void {
    let child: ChildProcess;
    try {
      child = spawn(file, args, { cwd: this.options.dir, env, stdio: 'pipe', detached: true });
    } catch (error) {
      channel.stderr.write(`warren: could not start ${file}: ${(error as Error).message}\n`);
      finish(channel, 127, null);
      return;
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

/** The client keys one connection accepts; a standby's arrive later, with its `stream` frame. */
interface ClientKeys {
  keys?: readonly ParsedKey[];
  onAssigned?: () => void;
}

function parseClientKeys(keys: readonly string[]): ParsedKey[] {
  const parsed: ParsedKey[] = [];
  for (const key of keys) {
    const one = utils.parseKey(key);
    if (!(one instanceof Error) && !Array.isArray(one)) parsed.push(one);
  }
  return parsed;
}

function authenticate(ctx: AuthContext, keys: readonly ParsedKey[]): void {
  if (ctx.method !== 'publickey') {
    ctx.reject(['publickey']);
    return;
  }
  const presented = ctx.key;
  const allowed = keys.find((key) => {
    const expected = key.getPublicSSH();
    return (
      presented.algo === key.type &&
      presented.data.length === expected.length &&
      timingSafeEqual(presented.data, expected)
    );
  });
  // Without a signature the client only asks whether the key would do.
  const accepted =
    allowed !== undefined &&
    (!ctx.signature || !ctx.blob || allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true);
  if (accepted) ctx.accept();
  else ctx.reject(['publickey']);
}

function forwardTcp(accept: () => ServerChannel, reject: () => void, host: string, port: number): void {
  const socket = net.connect({ host, port });
  socket.once('error', () => reject());
  socket.once('connect', () => {
    socket.removeAllListeners('error');
    socket.setNoDelay(true);
    spliceChannel(socket, accept());
  });
}

function finish(channel: ServerChannel, code: number | null, signal: string | null): void {
  if (channel.destroyed) return;
  if (signal) channel.exit(signal.replace(/^SIG/, ''), false, '');
  else channel.exit(code ?? 0);
  channel.end();
}
