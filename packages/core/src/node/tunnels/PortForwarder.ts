import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { WarrenError } from '../../errors/WarrenError';
import { spliceChannel } from './spliceChannel';
import type { WorkspaceSsh } from './workspaceSsh';

export interface PortForward {
  localPort: number;
  remotePort: number;
  /** Default 127.0.0.1: forwards are for this machine unless asked otherwise. */
  localHost?: string;
  /** Where the agent connects inside the workspace; default 127.0.0.1. */
  remoteHost?: string;
}

export type ForwarderState = 'connecting' | 'connected' | 'reconnecting' | 'stopped';

export interface PortForwarderEvents {
  state: [state: ForwarderState, detail?: string];
  connection: [forward: PortForward];
}

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 15_000;

/** `8080:3000` or `3000` (the same port on both sides). */
export function parsePortForward(spec: string): PortForward {
  const match = /^(?:(\d{1,5}):)?(\d{1,5})$/.exec(spec.trim());
  const local = Number(match?.[1] ?? match?.[2]);
  const remote = Number(match?.[2]);
  if (!match || !validPort(local) || !validPort(remote))
    throw new WarrenError(
      'INVALID_INPUT',
      `"${spec}" is not a port forward; use LOCAL:REMOTE, e.g. 8080:3000.`,
    );
  return { localPort: local, remotePort: remote };
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/**
 * Local TCP ports forwarded into a workspace over one SSH connection through the relay. The
 * listeners stay up while the connection drops and is redialled with backoff; connections made
 * meanwhile wait for it. A busy local port fails `start` with a sentence naming the port.
 */
export class PortForwarder extends EventEmitter<PortForwarderEvents> {
  #servers: net.Server[] = [];
  #ssh: WorkspaceSsh | undefined;
  #dialing: Promise<WorkspaceSsh> | undefined;
  #state: ForwarderState = 'connecting';
  #stopped = false;
  #backoffMs = MIN_BACKOFF_MS;
  readonly #sockets = new Set<net.Socket>();

  constructor(
    private readonly connect: () => Promise<WorkspaceSsh>,
    readonly forwards: readonly PortForward[],
  ) {
    super();
  }

  get state(): ForwarderState {
    return this.#state;
  }

  /** Binds every local port, then connects; resolves with the bound ports (0 picks a free one). */
  async start(): Promise<PortForward[]> {
    const bound: PortForward[] = [];
    try {
      for (const forward of this.forwards) bound.push(await this.#listen(forward));
    } catch (error) {
      await this.stop();
      throw error;
    }
    await this.#connection();
    return bound;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#setState('stopped');
    this.#ssh?.close();
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all(this.#servers.map((server) => new Promise((resolve) => server.close(resolve))));
    this.#servers = [];
  }

  #listen(forward: PortForward): Promise<PortForward> {
    const host = forward.localHost ?? '127.0.0.1';
    const server = net.createServer((socket) => this.#accept(socket, forward));
    return new Promise((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new WarrenError(
            'CONFLICT',
            error.code === 'EADDRINUSE'
              ? `Local port ${forward.localPort} is already in use on ${host}; pick another (LOCAL:REMOTE).`
              : `Could not listen on ${host}:${forward.localPort}: ${error.message}.`,
          ),
        ),
      );
      server.listen(forward.localPort, host, () => {
        this.#servers.push(server);
        const address = server.address();
        resolve({
          ...forward,
          localPort: typeof address === 'object' && address ? address.port : forward.localPort,
        });
      });
    });
  }

  async #accept(socket: net.Socket, forward: PortForward): Promise<void> {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setNoDelay(true);
    socket.pause();
    try {
      const ssh = await this.#connection();
      const channel = await new Promise<Duplex>((resolve, reject) =>
        ssh.client.forwardOut(
          socket.remoteAddress ?? '127.0.0.1',
          socket.remotePort ?? 0,
          forward.remoteHost ?? '127.0.0.1',
          forward.remotePort,
          (error, stream) => (error ? reject(error) : resolve(stream)),
        ),
      );
      this.emit('connection', forward);
      spliceChannel(socket, channel);
      socket.resume();
    } catch {
      // Nothing listens on the remote port, or the connection is gone: the local client sees a reset.
      socket.destroy();
    }
  }

  /** The live SSH connection, dialling (with backoff after failures) when there is none. */
  #connection(): Promise<WorkspaceSsh> {
    if (this.#ssh) return Promise.resolve(this.#ssh);
    this.#dialing ??= this.#dial().finally(() => {
      this.#dialing = undefined;
    });
    return this.#dialing;
  }

  async #dial(): Promise<WorkspaceSsh> {
    for (;;) {
      if (this.#stopped) throw new WarrenError('UNAVAILABLE', 'The port forward was stopped.');
      try {
        const ssh = await this.connect();
        // Stopped while dialling: this connection has no one to serve.
        if (this.#stopped) {
          ssh.close();
          throw new WarrenError('UNAVAILABLE', 'The port forward was stopped.');
        }
        this.#ssh = ssh;
        this.#backoffMs = MIN_BACKOFF_MS;
        this.#setState('connected');
        ssh.client.once('close', () => {
          if (this.#ssh !== ssh) return;
          this.#ssh = undefined;
          if (this.#stopped) return;
          this.#setState('reconnecting', 'the connection to the workspace dropped');
          void this.#connection().catch(() => {});
        });
        return ssh;
      } catch (error) {
        // A refusal that waiting cannot fix (signed out, not yours) ends the forward.
        if (error instanceof WarrenError && ['UNAUTHORIZED', 'NOT_FOUND', 'FORBIDDEN'].includes(error.code)) {
          await this.stop();
          throw error;
        }
        this.#setState('reconnecting', (error as Error).message);
        await new Promise((resolve) => setTimeout(resolve, this.#backoffMs));
        this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS);
      }
    }
  }

  #setState(state: ForwarderState, detail?: string): void {
    if (this.#state === state && state !== 'reconnecting') return;
    this.#state = state;
    this.emit('state', state, detail);
  }
}
