import { randomBytes } from 'node:crypto';
import {
  type AgentWireguardRegisterFrame,
  type DaemonToAgentFrame,
  FORWARD_TICKET_BYTES,
  isWireguardEndpoint,
  type OpenedWireguardTunnel,
  type OpenWireguardTunnelInput,
  type RegisterWireguardDeviceInput,
  WarrenError,
  WIREGUARD_FORWARD_PORT,
  WIREGUARD_SSH_PORT,
  type WireguardNetworkMap,
  type WorkspaceStatus,
} from '@warren/core';
import type { AgentService } from '../../agents/AgentService';
import type { LiveSessions } from '../../auth/LiveSessions';
import type { Actor } from '../../auth/policy';
import type { EventBus } from '../../events/EventBus';
import type { WorkspacesService } from '../../workspaces/WorkspacesService';
import { WireguardCoordinator } from './WireguardCoordinator';

/** How long an agent accepts a connection's client key after the client asked for the tunnel. */
export const GRANT_SECONDS = 60;
/**
 * How long an agent accepts port forwards with one ticket. A ticket serves every forward of a
 * `port-forward` for this long, then the client asks again, which checks its access again.
 */
export const TICKET_SECONDS = 300;

const ENDED = new Set<WorkspaceStatus>(['stopping', 'stopped', 'failed', 'canceled', 'deleting', 'deleted']);

/** Sends a frame on an agent's control socket; false when the agent is not connected here. */
export type AgentSender = (agentId: string, frame: DaemonToAgentFrame) => boolean;

interface AgentLinkState {
  workspaceId: string;
  publicKey: string;
  unsubscribe: () => void;
}

interface DeviceState {
  userId: string;
  publicKey: string;
  /** Ends the device's registration's tie to its API key (see registerDevice). */
  release: () => void;
}

export interface WireguardServiceDeps {
  agents: Pick<AgentService, 'currentAgent'>;
  workspaces: Pick<WorkspacesService, 'get' | 'byId'>;
  live: LiveSessions;
  send: AgentSender;
  /** Whether agents are asked to start WireGuard (their manifest says so). */
  enabled: boolean;
}

/**
 * WireGuard mode for the daemon: the coordinator's control plane wired to agent sockets (frames)
 * and to clients (tRPC). It decides who may reach what (the workspace policy, like the relay),
 * and ends access the moment it ends: a stopped workspace's agent leaves every map, and a device
 * registered with an API key leaves every map when that key is revoked or its user suspended
 * (LiveSessions), so agents drop the device as a peer and close its SSH connections.
 */
export class WireguardService {
  readonly coordinator: WireguardCoordinator;
  /** Whether agents are asked to start WireGuard. */
  get enabled(): boolean {
    return this.deps.enabled;
  }

  readonly #agents = new Map<string, AgentLinkState>();
  readonly #devices = new Map<string, DeviceState>();
  /** Workspaces whose agents registered (connected now or not): what a stop must drop. */
  readonly #workspaces = new Set<string>();

  constructor(
    private readonly deps: WireguardServiceDeps,
    coordinator = new WireguardCoordinator(),
  ) {
    this.coordinator = coordinator;
  }

  /**
   * An agent registered its device on its control socket: record it, answer with its map and
   * push every later one. `remoteAddress` is where the daemon sees the agent's socket come from;
   * with the agent's UDP port it is the endpoint clients send to, unless the agent named one.
   */
  attachAgent(
    agent: { agentId: string; workspaceId: string; remoteAddress: string | undefined },
    frame: AgentWireguardRegisterFrame,
  ): void {
    const endpoint = frame.endpoint ?? endpointFor(agent.remoteAddress, frame.listenPort);
    this.#agents.get(agent.agentId)?.unsubscribe();
    const push = (map: WireguardNetworkMap) => {
      this.deps.send(agent.agentId, { type: 'wireguard_map', map });
    };
    const unsubscribe = this.coordinator.subscribe(`agent:${agent.agentId}`, push);
    this.#agents.set(agent.agentId, {
      workspaceId: agent.workspaceId,
      publicKey: frame.publicKey,
      unsubscribe,
    });
    this.#workspaces.add(agent.workspaceId);
    const map = this.coordinator.registerAgent({
      agentId: agent.agentId,
      workspaceId: agent.workspaceId,
      publicKey: frame.publicKey,
      ...(endpoint ? { endpoint } : {}),
    });
    push(map);
  }

  acknowledgeAgent(agentId: string, version: number): void {
    this.coordinator.acknowledge(`agent:${agentId}`, version);
  }

  /**
   * The agent's socket closed. Its node stays (a reconnect re-registers with the same key and
   * keeps its address, so open connections survive a blip); pushes stop until it is back.
   */
  detachAgent(agentId: string): void {
    this.#agents.get(agentId)?.unsubscribe();
    this.#agents.delete(agentId);
  }

  /** The workspace stopped or was deleted: its agent leaves every client's map now. */
  dropWorkspace(workspaceId: string): void {
    for (const [agentId, state] of this.#agents)
      if (state.workspaceId === workspaceId) this.detachAgent(agentId);
    this.coordinator.dropWorkspace(workspaceId);
    this.#workspaces.delete(workspaceId);
  }

  /** Stopping or deleting a workspace drops its agent from WireGuard at once (like the relay). */
  async watchWorkspaces(events: EventBus, signal: AbortSignal): Promise<void> {
    for await (const event of events.subscribe<{ workspaceId: string }>('workspaces', signal)) {
      if (!this.#workspaces.has(event.workspaceId)) continue;
      const view = await this.deps.workspaces.byId(event.workspaceId).catch(() => undefined);
      // Not "not running": an agent registers while its workspace is still starting.
      if (!view || ENDED.has(view.status)) this.dropWorkspace(event.workspaceId);
    }
  }

  /**
   * Registers (or re-registers) one of the caller's devices. The registration lives as long as
   * the API key that made it: revoking the key or suspending the user removes the device from
   * every agent at once.
   */
  async registerDevice(actor: Actor, input: RegisterWireguardDeviceInput): Promise<WireguardNetworkMap> {
    const id = deviceNodeId(actor, input.deviceId);
    const map = await this.coordinator.registerClient({
      clientId: id,
      userId: actor.userId,
      publicKey: input.publicKey,
      ...(input.endpoint ? { endpoint: input.endpoint } : {}),
    });
    this.#devices.get(id)?.release();
    const session = this.deps.live.track(actor.userId, actor.apiKeyId);
    const ended = () => this.removeDevice(actor, input.deviceId);
    session.signal.addEventListener('abort', ended, { once: true });
    this.#devices.set(id, {
      userId: actor.userId,
      publicKey: input.publicKey,
      release: () => {
        session.signal.removeEventListener('abort', ended);
        session.release();
      },
    });
    return map;
  }

  removeDevice(actor: Actor, deviceId: string): void {
    const id = deviceNodeId(actor, deviceId);
    this.#devices.get(id)?.release();
    this.#devices.delete(id);
    this.coordinator.removeClient(id);
  }

  acknowledgeDevice(actor: Actor, deviceId: string, version: number): void {
    this.coordinator.acknowledge(`client:${deviceNodeId(actor, deviceId)}`, version);
  }

  /** The device's current map (a client that missed a change polls this). */
  deviceMap(actor: Actor, deviceId: string): WireguardNetworkMap {
    const id = deviceNodeId(actor, deviceId);
    if (!this.#devices.has(id)) throw notRegistered();
    return this.coordinator.networkMap(`client:${id}`);
  }

  /**
   * Opens (or reuses) the tunnel from one of the caller's devices to a workspace they may write
   * to, and tells the agent to accept this connection's SSH key from that device, or (no key)
   * port forwards presenting a fresh ticket.
   */
  async openTunnel(actor: Actor, input: OpenWireguardTunnelInput): Promise<OpenedWireguardTunnel> {
    const id = deviceNodeId(actor, input.deviceId);
    const device = this.#devices.get(id);
    if (!device) throw notRegistered();
    const workspace = await this.deps.workspaces.get(
      actor,
      { owner: input.owner, name: input.name },
      'write',
    );
    if (workspace.status !== 'running')
      throw new WarrenError(
        'CONFLICT',
        `The workspace "${workspace.name}" is ${workspace.status}; start it first (warren start ${workspace.name}).`,
      );
    const agentRow = await this.deps.agents.currentAgent(workspace.id);
    const agent = agentRow ? this.#agents.get(agentRow.id) : undefined;
    if (!agentRow || !agent)
      throw new WarrenError(
        'UNAVAILABLE',
        this.deps.enabled
          ? `The agent of "${workspace.name}" has not set up WireGuard: its host may lack wireguard-go, root or a TUN device. Connect without --wireguard.`
          : 'WireGuard mode is off on this server (WARREN_WIREGUARD=1 turns it on); connect without --wireguard.',
      );
    if (!agentRow.ssh_host_key)
      throw new WarrenError(
        'UNAVAILABLE',
        "The workspace's agent has not reported an SSH host key; restart the workspace.",
      );
    // Before the map: the agent handles frames in order, so the grant is in place by the time it
    // acknowledges the map that lets this device's packets in.
    const grant = grantFor(device.publicKey, input.sshPublicKey);
    if (!this.deps.send(agentRow.id, grant.frame))
      throw new WarrenError('UNAVAILABLE', `The agent of "${workspace.name}" is not connected right now.`);
    await this.coordinator.openTunnel(id, agentRow.id);
    const agentAddress = this.coordinator.networkMap(`agent:${agentRow.id}`).addresses[0]?.split('/')[0];
    if (!agentAddress) throw new WarrenError('INTERNAL', 'The agent has no WireGuard address.');
    return {
      workspace: { id: workspace.id, owner: workspace.owner, name: workspace.name },
      map: this.coordinator.networkMap(`client:${id}`),
      agentAddress,
      sshPort: WIREGUARD_SSH_PORT,
      hostKey: agentRow.ssh_host_key,
      ...(grant.forward ? { forward: grant.forward } : {}),
    };
  }

  /** Daemon shutdown: nothing is pushed any more and no key keeps a device alive. */
  close(): void {
    for (const agentId of [...this.#agents.keys()]) this.detachAgent(agentId);
    for (const device of this.#devices.values()) device.release();
    this.#devices.clear();
  }
}

/**
 * What the agent is told to accept from the device: this SSH key, or (without one) forwards with
 * a fresh ticket, which only the client and the agent learn.
 */
function grantFor(
  peer: string,
  sshPublicKey: string | undefined,
): { frame: DaemonToAgentFrame; forward?: NonNullable<OpenedWireguardTunnel['forward']> } {
  if (sshPublicKey)
    return { frame: { type: 'wireguard_accept', peer, clientKey: sshPublicKey, seconds: GRANT_SECONDS } };
  const ticket = randomBytes(FORWARD_TICKET_BYTES).toString('base64url');
  return {
    frame: { type: 'wireguard_ticket', peer, ticket, seconds: TICKET_SECONDS },
    forward: { port: WIREGUARD_FORWARD_PORT, ticket, seconds: TICKET_SECONDS },
  };
}

/** Devices are per user: two people may both call their laptop "laptop". */
function deviceNodeId(actor: Actor, deviceId: string): string {
  return `${actor.userId}.${deviceId}`;
}

function notRegistered(): WarrenError {
  return new WarrenError(
    'NOT_FOUND',
    'This device has not registered a WireGuard key yet (wireguard.registerDevice).',
  );
}

/** `ip:port` for UAPI from a socket's remote address; undefined when there is none usable. */
export function endpointFor(remoteAddress: string | undefined, port: number): string | undefined {
  if (!remoteAddress) return undefined;
  const address = remoteAddress.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  const endpoint = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
  return isWireguardEndpoint(endpoint) ? endpoint : undefined;
}
