import { EventEmitter } from 'node:events';
import { WarrenError } from '@warren/core';
import { type ForwardConnection, PortForwarder, parsePortForward } from '@warren/core/node';
import type { TunnelStore } from './TunnelStore';
import type { SavedForward, TunnelState, TunnelVia, WorkspaceTunnels } from './tunnelTypes';

export interface TunnelManagerEvents {
  change: [tunnels: ReadonlyMap<string, WorkspaceTunnels>];
  /** A connected workspace's tunnel lost its connection (it is redialling). */
  dropped: [workspace: string, detail: string];
}

/** How one workspace's forwards reach it, chosen each time its tunnel opens. */
export interface TunnelRoute {
  via: TunnelVia;
  /** Why WireGuard was asked for but the relay is used, as a sentence. */
  notice: string | undefined;
  /** Opens the connection the forwards ride on (and again after it drops). */
  connect: () => Promise<ForwardConnection>;
}

/** Picks the route for a workspace's tunnel: the relay, or WireGuard where it is on and can run. */
export type TunnelRouter = (workspace: string) => Promise<TunnelRoute>;

interface Live {
  forwarder: PortForwarder;
  state: TunnelState;
  detail: string | undefined;
  via: TunnelVia;
  notice: string | undefined;
}

interface Failed {
  detail: string;
  via: TunnelVia;
  notice: string | undefined;
}

/**
 * The desktop's local tunnels for one deployment: each workspace's saved port forwards, served on
 * localhost by a PortForwarder (one connection per workspace, SSH through the relay or plain TCP
 * over WireGuard, redialled with backoff while the listeners stay up). A busy local port or a
 * refused token stops that workspace's tunnel with a sentence saying why; a drop is announced so
 * the desktop can notify.
 */
export class TunnelManager extends EventEmitter<TunnelManagerEvents> {
  readonly #live = new Map<string, Live>();
  readonly #failed = new Map<string, Failed>();

  constructor(
    private readonly store: TunnelStore,
    private readonly deploymentId: string,
    private readonly route: TunnelRouter,
  ) {
    super();
  }

  saved(workspace: string): SavedForward[] {
    return this.store.get(this.deploymentId, workspace);
  }

  /** Saves a forward (`8080:3000` or `3000`) for the workspace; a connected tunnel picks it up on reconnect. */
  addForward(workspace: string, spec: string): SavedForward[] {
    const { localPort, remotePort } = parsePortForward(spec);
    const others = this.saved(workspace).filter((forward) => forward.localPort !== localPort);
    const saved = this.store.set(this.deploymentId, workspace, [...others, { localPort, remotePort }]);
    this.#changed();
    return saved;
  }

  removeForward(workspace: string, localPort: number): SavedForward[] {
    const saved = this.store.set(
      this.deploymentId,
      workspace,
      this.saved(workspace).filter((forward) => forward.localPort !== localPort),
    );
    this.#changed();
    return saved;
  }

  /**
   * Starts serving the workspace's saved forwards on localhost; resolves once they listen and the
   * first connection is up. A busy port rejects with the PortForwarder's sentence naming it.
   */
  async open(workspace: string): Promise<SavedForward[]> {
    const forwards = this.saved(workspace);
    if (forwards.length === 0)
      throw new WarrenError(
        'INVALID_INPUT',
        `Workspace "${workspace}" has no saved port forwards; add one first.`,
      );
    await this.close(workspace);
    return this.#openOn(workspace, forwards, await this.route(workspace));
  }

  /**
   * Moves each live tunnel whose route changed (WireGuard turned on or off, or no longer able to
   * run) onto the new one; the others keep their connections. A failure shows in its status.
   */
  async reroute(): Promise<void> {
    for (const [workspace, live] of [...this.#live]) {
      const route = await this.route(workspace);
      if (this.#live.get(workspace) !== live) continue;
      if (route.via === live.via && route.notice === live.notice) continue;
      await this.close(workspace);
      await this.#openOn(workspace, this.saved(workspace), route).catch(() => {});
    }
  }

  async #openOn(workspace: string, forwards: SavedForward[], route: TunnelRoute): Promise<SavedForward[]> {
    this.#failed.delete(workspace);
    const forwarder = new PortForwarder(route.connect, forwards);
    const { via, notice } = route;
    const live: Live = { forwarder, state: 'connecting', detail: undefined, via, notice };
    this.#live.set(workspace, live);
    forwarder.on('state', (state, detail) => this.#onState(workspace, live, state, detail));
    this.#changed();
    try {
      await forwarder.start();
    } catch (error) {
      if (this.#live.get(workspace) === live) this.#live.delete(workspace);
      this.#failed.set(workspace, { detail: (error as Error).message, via, notice });
      this.#changed();
      throw error;
    }
    return forwards;
  }

  async close(workspace: string): Promise<void> {
    const live = this.#live.get(workspace);
    this.#failed.delete(workspace);
    if (!live) return;
    this.#live.delete(workspace);
    await live.forwarder.stop();
    this.#changed();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#live.keys()].map((workspace) => this.close(workspace)));
  }

  /** Every workspace with saved forwards or a live tunnel, and its state. */
  status(workspaces: Iterable<string> = []): ReadonlyMap<string, WorkspaceTunnels> {
    const names = new Set([...workspaces, ...this.#live.keys(), ...this.#failed.keys()]);
    const out = new Map<string, WorkspaceTunnels>();
    for (const workspace of names) {
      const live = this.#live.get(workspace);
      const failed = this.#failed.get(workspace);
      const forwards = this.saved(workspace);
      if (!live && !failed && forwards.length === 0) continue;
      const current = live ?? failed;
      out.set(workspace, {
        workspace,
        state: live?.state ?? (failed ? 'failed' : 'off'),
        detail: current?.detail,
        via: current?.via,
        notice: current?.notice,
        forwards,
      });
    }
    return out;
  }

  #onState(workspace: string, live: Live, state: string, detail: string | undefined): void {
    if (this.#live.get(workspace) !== live) return;
    if (state === 'stopped') {
      // Still ours, so nobody closed it: the forwarder gave up (the server refused the token).
      this.#live.delete(workspace);
      this.#failed.set(workspace, {
        detail: detail ?? 'The server refused the connection; sign in again.',
        via: live.via,
        notice: live.notice,
      });
      this.#changed();
      return;
    }
    const wasConnected = live.state === 'connected';
    live.state = state as TunnelState;
    live.detail = state === 'connected' ? undefined : detail;
    if (wasConnected && state === 'reconnecting')
      this.emit('dropped', workspace, detail ?? 'the connection dropped');
    this.#changed();
  }

  #changed(): void {
    this.emit('change', this.status());
  }
}
