import { EventEmitter } from 'node:events';
import net from 'node:net';
import { WarrenError } from '../../errors/WarrenError';
import { Backoff } from '../../retry/Backoff';
import type { ForwardConnection, PortForward } from './ForwardConnection';

export type { ForwardConnection, PortForward } from './ForwardConnection';

export type ForwarderState = 'connecting' | 'connected' | 'reconnecting' | 'stopped';

export interface PortForwarderEvents {
  state: [state: ForwarderState, detail?: string];
  connection: [forward: PortForward];
  /** The workspace refused one forwarded connection (say, nothing listens on the port there). */
  refused: [forward: PortForward, reason: string];
}

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
 * Local TCP ports forwarded into a workspace over one connection (SSH through the relay or over
 * WireGuard, or a WireGuard tunnel carrying plain TCP). The listeners stay up while the
 * connection drops and is redialled with backoff; connections made meanwhile wait for it. A busy
 * local port fails `start` with a sentence naming the port.
 */
export class PortForwarder extends EventEmitter<PortForwarderEvents> {
  #servers: net.Server[] = [];
  #live: ForwardConnection | undefined;
  #dialing: Promise<ForwardConnection> | undefined;
  #state: ForwarderState = 'connecting';
  #stopped = false;
  /** Quick at first (a daemon restart or a blip is over in a second or two), then slower. */
  readonly #backoff = new Backoff({ initialMs: 250, maxMs: 15_000, factor: 1.5 });
  readonly #sockets = new Set<net.Socket>();

  constructor(
    private readonly connect: () => Promise<ForwardConnection>,
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
    this.#live?.close();
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all(this.#servers.map((server) => new Promise((resolve) => server.close(resolve))));
    this.#servers = [];
  }

  #listen(forward: PortForward): Promise<PortForward> {
    const host = forward.localHost ?? '127.0.0.1';
    // Half-open: a client that shuts down its sending side still gets the whole answer.
    const server = net.createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket, forward));
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
      await (await this.#connection()).carry(socket, forward);
      this.emit('connection', forward);
      socket.resume();
    } catch (error) {
      // The local client sees a reset; the refusal is said once, to whoever listens.
      socket.destroy();
      if (!this.#stopped) this.emit('refused', forward, (error as Error).message);
    }
  }

  /** The live connection, dialling (with backoff after failures) when there is none. */
  #connection(): Promise<ForwardConnection> {
    if (this.#live) return Promise.resolve(this.#live);
    this.#dialing ??= this.#dial().finally(() => {
      this.#dialing = undefined;
    });
    return this.#dialing;
  }

  async #dial(): Promise<ForwardConnection> {
    for (;;) {
      if (this.#stopped) throw new WarrenError('UNAVAILABLE', 'The port forward was stopped.');
      try {
        const live = await this.connect();
        // Stopped while dialling: this connection has no one to serve.
        if (this.#stopped) {
          live.close();
          throw new WarrenError('UNAVAILABLE', 'The port forward was stopped.');
        }
        this.#live = live;
        this.#backoff.reset();
        this.#setState('connected');
        live.onClose((reason) => {
          if (this.#live !== live) return;
          this.#live = undefined;
          if (this.#stopped) return;
          this.#setState('reconnecting', reason);
          void this.#connection().catch(() => {});
        });
        return live;
      } catch (error) {
        // A refusal that waiting cannot fix (signed out, not yours) ends the forward.
        if (error instanceof WarrenError && ['UNAUTHORIZED', 'NOT_FOUND', 'FORBIDDEN'].includes(error.code)) {
          await this.stop();
          throw error;
        }
        this.#setState('reconnecting', (error as Error).message);
        await new Promise((resolve) => setTimeout(resolve, this.#backoff.next()));
      }
    }
  }

  #setState(state: ForwarderState, detail?: string): void {
    if (this.#state === state && state !== 'reconnecting') return;
    this.#state = state;
    this.emit('state', state, detail);
  }
}
