import { createHash } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AgentToDaemonFrame,
  type AgentWireguardAcceptFrame,
  type AgentWireguardTicketFrame,
  WIREGUARD_FORWARD_PORT,
  WIREGUARD_SSH_PORT,
  type WireguardNetworkMap,
} from '@warren/core';
import { coalesceSocketWrites, generateWireguardKeyPair, WireguardGoProcess } from '@warren/core/node';
import type { AgentLog } from '../AgentLog';
import type { SshServer } from '../ssh/SshServer';
import { serveWireguardForward } from './serveWireguardForward';
import { WireguardGrants } from './WireguardGrants';
import { wireguardUnavailableReason } from './wireguardHost';

export interface WireguardAgentOptions {
  ssh: SshServer;
  log: AgentLog;
  /** Sends a frame on the control socket (dropped while it is down: a reconnect re-registers). */
  send: (frame: AgentToDaemonFrame) => void;
  /** A line for the workspace's agent log, which people read in the UI. */
  note: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** A connection may arrive a moment before its grant frame is handled; it waits this long for it. */
const GRANT_WAIT_MS = 3000;
/**
 * A revoked peer's connections are reset this long before its key leaves the device, so the
 * resets still reach the client (whose forwards then end at once rather than hang).
 */
const RESET_FLUSH_MS = 100;

/**
 * The agent's side of WireGuard mode: a wireguard-go device configured over UAPI from the
 * daemon's maps, and on the device's own address the agent's SSH server and its port forwards
 * (plain TCP: WireGuard already encrypts and authenticates the peer). A connection there is
 * served only if it comes from a peer in the current map, with a key or ticket the daemon granted
 * to that peer; when a map drops a peer (workspace stopping, user suspended, token revoked), its
 * connections are closed too.
 *
 * Settings (environment): WARREN_AGENT_WIREGUARD=0 turns it off, WARREN_WIREGUARD_PORT fixes the
 * UDP port (default: any free one), WARREN_WIREGUARD_INTERFACE names the device, WARREN_WIREGUARD_ENDPOINT (ip:port) is what clients send to
 * when the address the daemon sees the agent at is not reachable for them.
 */
export class WireguardAgent {
  readonly #grants = new WireguardGrants();
  #device: WireguardGoProcess | undefined;
  #starting: Promise<WireguardGoProcess | undefined> | undefined;
  #registration: Extract<AgentToDaemonFrame, { type: 'wireguard_register' }> | undefined;
  #listeners: net.Server[] = [];
  #listenAddress: string | undefined;
  /** Tunnel address of each peer in the current map -> its WireGuard public key. */
  #peers = new Map<string, string>();
  #mapVersion = -1;
  /** Every open socket a peer's connection uses (forwards: both ends) -> the peer. */
  readonly #connections = new Map<net.Socket, string>();
  #stopped = false;

  constructor(private readonly options: WireguardAgentOptions) {}

  get device(): WireguardGoProcess | undefined {
    return this.#device;
  }

  /** The daemon enabled WireGuard (manifest): start the device once, and (re-)register it. */
  async enable(agentId: string): Promise<void> {
    this.#starting ??= this.#start(agentId);
    const device = await this.#starting;
    if (device && this.#registration && !this.#stopped) this.options.send(this.#registration);
  }

  async #start(agentId: string): Promise<WireguardGoProcess | undefined> {
    const env = this.options.env ?? process.env;
    const reason = wireguardUnavailableReason(env);
    if (reason) {
      this.options.note(`WireGuard is not available here (${reason}); connections use the relay`);
      return undefined;
    }
    const keys = generateWireguardKeyPair();
    // One device per agent: several local workspaces may share a host.
    const interfaceName =
      env.WARREN_WIREGUARD_INTERFACE?.trim() ||
      `wgw${createHash('sha256').update(agentId).digest('hex').slice(0, 8)}`;
    let device: WireguardGoProcess | undefined;
    try {
      device = await WireguardGoProcess.start({ interfaceName });
      // A crashed agent must not leave its device behind (wireguard-go runs on without it).
      const kill = () => device?.child.kill('SIGTERM');
      process.once('exit', kill);
      void device.exited.then(() => process.removeListener('exit', kill));
      const port = Number(env.WARREN_WIREGUARD_PORT ?? 0);
      await device.client.configure({ privateKey: keys.privateKey, listenPort: port });
      const { listenPort } = await device.client.getDevice();
      const endpoint = env.WARREN_WIREGUARD_ENDPOINT?.trim();
      this.#registration = {
        type: 'wireguard_register',
        publicKey: keys.publicKey,
        listenPort,
        ...(endpoint ? { endpoint } : {}),
      };
      this.#device = device;
      this.options.log.info('WireGuard device started', { interface: interfaceName, listenPort });
      return device;
    } catch (error) {
      await device?.stop();
      this.options.note(`WireGuard could not start (${(error as Error).message}); connections use the relay`);
      return undefined;
    }
  }

  /** Applies a map from the daemon, then acknowledges it (the daemon holds clients until then). */
  async applyMap(map: WireguardNetworkMap): Promise<void> {
    const device = this.#device;
    if (!device || this.#stopped || map.version <= this.#mapVersion) return;
    this.#mapVersion = map.version;
    // Access ends before the device changes: no new connection from a dropped peer is served.
    const before = new Set(this.#peers.values());
    this.#peers = peerAddresses(map);
    const known = new Set(this.#peers.values());
    for (const peer of before) if (!known.has(peer)) this.#grants.forget(peer);
    if (this.#closeConnections((peer) => !known.has(peer))) await sleep(RESET_FLUSH_MS);
    try {
      await device.applyNetworkMap(map);
    } catch (error) {
      this.options.log.warn('a WireGuard map could not be applied', { error: (error as Error).message });
      return;
    }
    await this.#listenOn(map.addresses[0]?.split('/')[0]);
    this.options.send({ type: 'wireguard_ack', version: map.version });
  }

  accept(frame: AgentWireguardAcceptFrame): void {
    this.#grants.add(frame.peer, frame.clientKey, frame.seconds);
  }

  grantTicket(frame: AgentWireguardTicketFrame): void {
    this.#grants.addTicket(frame.peer, Buffer.from(frame.ticket, 'base64url'), frame.seconds);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const listener of this.#listeners) listener.close();
    if (this.#closeConnections(() => true)) await sleep(RESET_FLUSH_MS);
    await this.#device?.stop();
  }

  /** Resets the connections of the peers `which` picks; whether there were any. */
  #closeConnections(which: (peer: string) => boolean): boolean {
    let closed = false;
    for (const [socket, peer] of this.#connections)
      if (which(peer)) {
        socket.resetAndDestroy();
        closed = true;
      }
    return closed;
  }

  /** The SSH server and the forward port on the device's own address, moved when it changes. */
  async #listenOn(address: string | undefined): Promise<void> {
    if (!address || address === this.#listenAddress) return;
    for (const listener of this.#listeners) listener.close();
    this.#listeners = [];
    const ssh = await this.#listen(address, WIREGUARD_SSH_PORT, 'SSH server', {}, (socket, peer) =>
      this.#serveSsh(socket, peer),
    );
    // Half-open: a forwarded client that shuts down its sending side still gets the whole answer.
    const forwards = await this.#listen(
      address,
      WIREGUARD_FORWARD_PORT,
      'port forwards',
      { allowHalfOpen: true },
      (socket, peer) =>
        serveWireguardForward(socket, {
          admits: (ticket) => this.#waitForGrant(socket, () => this.#grants.hasTicket(peer, ticket)),
          track: (target) => this.#track(target, peer),
        }),
    );
    this.#listeners = [ssh, forwards].filter((listener) => listener !== undefined);
    // Either failing is tried again with the next map.
    if (ssh && forwards) this.#listenAddress = address;
  }

  async #listen(
    address: string,
    port: number,
    what: string,
    options: net.ServerOpts,
    serve: (socket: net.Socket, peer: string) => Promise<void> | void,
  ): Promise<net.Server | undefined> {
    const listener = net.createServer(options, (socket) => {
      socket.on('error', () => socket.destroy());
      const peer = this.#peers.get(normalise(socket.remoteAddress));
      if (!peer) return void socket.destroy();
      socket.setNoDelay(true);
      this.#track(socket, peer);
      void Promise.resolve(serve(socket, peer)).catch((error: Error) => {
        this.options.log.warn(`a WireGuard connection to the ${what} failed`, { error: error.message });
        socket.destroy();
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        listener.once('error', reject);
        listener.listen(port, address, () => resolve());
      });
    } catch (error) {
      this.options.log.warn(`the ${what} cannot listen on the WireGuard address`, {
        error: (error as Error).message,
      });
      return undefined;
    }
    listener.on('error', (error) =>
      this.options.log.warn(`the WireGuard listener of the ${what} failed`, { error: error.message }),
    );
    return listener;
  }

  #track(socket: net.Socket, peer: string): void {
    this.#connections.set(socket, peer);
    socket.once('close', () => this.#connections.delete(socket));
  }

  /** Whether `granted()` holds, waiting up to GRANT_WAIT_MS for a grant frame still on its way. */
  async #waitForGrant(socket: net.Socket, granted: () => boolean): Promise<boolean> {
    for (let waited = 0; !granted(); waited += 50) {
      if (waited >= GRANT_WAIT_MS || socket.destroyed) return false;
      await sleep(50);
    }
    return !socket.destroyed;
  }

  async #serveSsh(socket: net.Socket, peer: string): Promise<void> {
    coalesceSocketWrites(socket);
    if (!(await this.#waitForGrant(socket, () => this.#grants.keys(peer).length > 0)))
      return void socket.destroy();
    try {
      this.options.ssh.serve(socket, this.#grants.keys(peer));
    } catch (error) {
      this.options.log.warn('a WireGuard SSH connection could not be served', { error: String(error) });
      socket.destroy();
    }
  }
}

/** Each peer's tunnel addresses (without prefix length) -> its public key. */
function peerAddresses(map: WireguardNetworkMap): Map<string, string> {
  const peers = new Map<string, string>();
  for (const peer of map.peers)
    for (const prefix of peer.allowedIps) peers.set(normalise(prefix.split('/')[0]), peer.publicKey);
  return peers;
}

function normalise(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
}
