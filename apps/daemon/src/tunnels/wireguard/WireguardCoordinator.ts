/**
 * WireGuard mode's control plane. The daemon never carries WireGuard traffic: it hands out
 * addresses, public keys and endpoints, and tells each node which peers it should have.
 *
 * What a node does (agent inside a workspace, or a client such as the CLI or desktop):
 *  1. Generate a key pair (generateWireguardKeyPair) and keep the private key to itself.
 *  2. Start wireguard-go (WireguardGoProcess) and set its private key and listen port over UAPI.
 *     An agent reports the endpoint others can reach (e.g. the workspace's IP and that port);
 *     a client usually has none, it is reached at wherever its packets come from.
 *  3. Register (agent: a frame on its WebSocket; client: a tRPC mutation) with a body matching
 *     wireguardRegistrationSchema, and get a network map (wireguardNetworkMapSchema) back.
 *  4. Apply every map (the reply, then each push) with WireguardGoProcess.applyNetworkMap, which
 *     skips stale versions, sets the addresses and syncs peers over UAPI; then send the applied
 *     version back (a small `{ version }` frame -> coordinator.acknowledge). Agents must: below.
 *  5. Reach peers at their addresses; SSH and port forwards run over them as over the relay.
 * Clients keep a 25 s keepalive towards agents so NAT mappings stay open both ways.
 *
 * Order matters on the first connection: a client sends its handshake as soon as it has the agent
 * as a peer, and an agent that does not know the client's key yet drops it; WireGuard retries
 * only after 5 s (REKEY_TIMEOUT). So a change that adds a client to an agent reaches the agent
 * first, and the client's map (or registration reply) follows once the agent acknowledged it, or
 * after ACK_TIMEOUT_MS if it never does.
 *
 * Access is enforced in two layers. WireGuard: an agent has a client device as a peer from the
 * first tunnel the router opened for it until the device or the agent leaves (key revoked, user
 * suspended, device unregistered, workspace stopped), and drops packets from keys it does not
 * know. SSH: each connection still needs a grant (`wireguard_accept`, at most
 * MAX_WIREGUARD_GRANT_SECONDS) for that one client key, so a peer without a fresh grant from the
 * router gets no shell; port forwards (plain TCP) likewise need a ticket (`wireguard_ticket`) the
 * client renews before it runs out. A peer that leaves an agent's map loses its grants and its
 * open connections there. Tunnels are not closed one by one: the router decides who may reach which
 * workspace, and this service only records tunnels and drops nodes. State is in memory: after a
 * daemon restart every node re-registers and gets fresh addresses.
 */
import {
  describeIssues,
  WarrenError,
  type WireguardNetworkMap,
  type WireguardPeerSpec,
  type WireguardRegistration,
  wireguardRegistrationSchema,
} from '@warren/core';
import { z } from 'zod';
import { MapAcknowledgements } from './MapAcknowledgements';
import { type WireguardAddresses, WireguardAddressPool, wireguardAddresses } from './WireguardAddressPool';

export const CLIENT_KEEPALIVE_SECONDS = 25;
/** How long a client's map waits for its agents to acknowledge theirs: well under REKEY_TIMEOUT. */
export const ACK_TIMEOUT_MS = 2000;

type NodeKind = 'agent' | 'client';
/** `agent:<agentId>` or `client:<clientId>`: agents and client devices are told apart by kind. */
export type WireguardNodeKey = `${NodeKind}:${string}`;

interface WireguardNode {
  kind: NodeKind;
  id: string;
  /** The agent's workspace, or the client's user: what access is revoked by. */
  ownerId: string;
  registration: WireguardRegistration;
  host: number;
  addresses: WireguardAddresses;
}

const idSchema = z.string().min(1).max(128);
const agentInputSchema = wireguardRegistrationSchema.extend({ agentId: idSchema, workspaceId: idSchema });
const clientInputSchema = wireguardRegistrationSchema.extend({ clientId: idSchema, userId: idSchema });

function parse<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success)
    throw new WarrenError(
      'INVALID_INPUT',
      `Invalid WireGuard ${what}. ${describeIssues(parsed.error.issues)}`,
    );
  return parsed.data;
}

export type MapListener = (map: WireguardNetworkMap) => void;

export class WireguardCoordinator {
  readonly #pool = new WireguardAddressPool();
  readonly #nodes = new Map<WireguardNodeKey, WireguardNode>();
  /** Open tunnels, both directions: client key -> agent keys and agent key -> client keys. */
  readonly #tunnels = new Map<WireguardNodeKey, Set<WireguardNodeKey>>();
  readonly #listeners = new Map<WireguardNodeKey, Set<MapListener>>();
  readonly #acks: MapAcknowledgements;
  /** Starts from the clock, so a restarted daemon's maps are newer than any an agent applied before. */
  #version = Date.now();

  constructor(options: { ackTimeoutMs?: number } = {}) {
    this.#acks = new MapAcknowledgements(options.ackTimeoutMs ?? ACK_TIMEOUT_MS);
  }

  /** Registers (or re-registers, e.g. with a new key) a workspace agent; returns its map. */
  registerAgent(
    input: { agentId: string; workspaceId: string } & WireguardRegistration,
  ): WireguardNetworkMap {
    const { agentId, workspaceId, ...registration } = parse(agentInputSchema, input, 'agent registration');
    return this.#register('agent', agentId, workspaceId, registration);
  }

  /**
   * Registers (or re-registers) a client device of a user; resolves to its map once the agents it
   * has tunnels to applied its (new) key.
   */
  async registerClient(
    input: { clientId: string; userId: string } & WireguardRegistration,
  ): Promise<WireguardNetworkMap> {
    const { clientId, userId, ...registration } = parse(clientInputSchema, input, 'client registration');
    const key: WireguardNodeKey = `client:${clientId}`;
    this.#register('client', clientId, userId, registration);
    await this.#acks.waitFor(this.#registeredPeers(key), this.#version);
    return this.networkMap(key);
  }

  /** A node applied the map with this version (and so every older one). */
  acknowledge(key: WireguardNodeKey, version: number): void {
    if (this.#nodes.has(key)) this.#acks.record(key, version);
  }

  /**
   * Opens a tunnel from a client device to an agent, after the caller checked that the client's
   * user may reach the agent's workspace. The agent need not be registered yet: the peers appear
   * on both sides when it is. Resolves once the client's new map was pushed.
   */
  async openTunnel(clientId: string, agentId: string): Promise<void> {
    const client: WireguardNodeKey = `client:${clientId}`;
    const agent: WireguardNodeKey = `agent:${agentId}`;
    if (!this.#nodes.has(client))
      throw new WarrenError('NOT_FOUND', 'This client device has not registered a WireGuard key yet.');
    if (this.#edges(client).has(agent)) return;
    this.#edges(client).add(agent);
    this.#edges(agent).add(client);
    await this.#changed([client, agent]);
  }

  /** An agent disconnected for good (its workspace stopped): its peers drop it at once. */
  removeAgent(agentId: string): void {
    this.#remove(`agent:${agentId}`);
  }

  removeClient(clientId: string): void {
    this.#remove(`client:${clientId}`);
  }

  /** The workspace stopped or was deleted: every client loses its agents as peers now. */
  dropWorkspace(workspaceId: string): void {
    for (const node of this.#nodesOwnedBy('agent', workspaceId)) this.#remove(`agent:${node.id}`);
  }

  /** The map a node should apply now. */
  networkMap(key: WireguardNodeKey): WireguardNetworkMap {
    const node = this.#nodes.get(key);
    if (!node) throw new WarrenError('NOT_FOUND', `WireGuard node ${key} is not registered.`);
    const peers: WireguardPeerSpec[] = [];
    for (const otherKey of this.#tunnels.get(key) ?? []) {
      const other = this.#nodes.get(otherKey);
      if (other) peers.push(this.#peerSpec(node, other));
    }
    return { version: this.#version, addresses: node.addresses.interfaceAddresses, peers };
  }

  /**
   * Calls `listener` with the node's new map whenever it changes (not with the current one: that
   * is the registration's reply). Returns the unsubscribe function.
   */
  subscribe(key: WireguardNodeKey, listener: MapListener): () => void {
    const set = this.#listeners.get(key) ?? new Set<MapListener>();
    this.#listeners.set(key, set);
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#listeners.get(key) === set) this.#listeners.delete(key);
    };
  }

  #register(
    kind: NodeKind,
    id: string,
    ownerId: string,
    registration: WireguardRegistration,
  ): WireguardNetworkMap {
    const key: WireguardNodeKey = `${kind}:${id}`;
    for (const [otherKey, other] of this.#nodes)
      if (otherKey !== key && other.registration.publicKey === registration.publicKey)
        throw new WarrenError('CONFLICT', 'Another WireGuard node already registered this public key.');
    const existing = this.#nodes.get(key);
    if (existing && existing.ownerId !== ownerId)
      throw new WarrenError(
        'CONFLICT',
        `WireGuard node ${key} is registered for another ${kind === 'agent' ? 'workspace' : 'user'}.`,
      );
    const host = existing?.host ?? this.#pool.allocate();
    this.#nodes.set(key, { kind, id, ownerId, registration, host, addresses: wireguardAddresses(host) });
    // The node applies its own reply; an agent's clients wait for it to acknowledge that.
    void this.#changed([...(this.#tunnels.get(key) ?? []), key], key);
    return this.networkMap(key);
  }

  #remove(key: WireguardNodeKey): void {
    const node = this.#nodes.get(key);
    const peers = [...(this.#tunnels.get(key) ?? [])];
    for (const other of peers) this.#tunnels.get(other)?.delete(key);
    this.#tunnels.delete(key);
    this.#listeners.delete(key);
    this.#acks.forget(key);
    if (!node) return;
    this.#nodes.delete(key);
    this.#pool.release(node.host);
    void this.#changed(peers);
  }

  #peerSpec(self: WireguardNode, other: WireguardNode): WireguardPeerSpec {
    const spec: WireguardPeerSpec = {
      publicKey: other.registration.publicKey,
      allowedIps: other.addresses.allowedIps,
    };
    if (other.registration.endpoint) spec.endpoint = other.registration.endpoint;
    if (self.kind === 'client') spec.persistentKeepaliveSeconds = CLIENT_KEEPALIVE_SECONDS;
    return spec;
  }

  #edges(key: WireguardNodeKey): Set<WireguardNodeKey> {
    const set = this.#tunnels.get(key) ?? new Set<WireguardNodeKey>();
    this.#tunnels.set(key, set);
    return set;
  }

  #nodesOwnedBy(kind: NodeKind, ownerId: string): WireguardNode[] {
    return [...this.#nodes.values()].filter((node) => node.kind === kind && node.ownerId === ownerId);
  }

  #registeredPeers(key: WireguardNodeKey): WireguardNodeKey[] {
    return [...(this.#tunnels.get(key) ?? [])].filter((peer) => this.#nodes.has(peer));
  }

  /**
   * Bumps the version and pushes the new map to each affected, registered node except `skip`:
   * agents at once, clients once those agents acknowledged it (see the ordering note on top).
   */
  async #changed(keys: WireguardNodeKey[], skip?: WireguardNodeKey): Promise<void> {
    const version = ++this.#version;
    const live = keys.filter((key) => this.#nodes.has(key));
    const agents = live.filter((key) => key.startsWith('agent:'));
    for (const agent of agents) if (agent !== skip) this.#push(agent);
    const clients = live.filter((key) => key.startsWith('client:') && key !== skip);
    if (clients.length === 0) return;
    // Without an await in the way the clients get their maps synchronously: a revocation is
    // pushed before the call that caused it returns.
    if (!this.#acks.allApplied(agents, version)) await this.#acks.waitFor(agents, version);
    for (const client of clients) this.#push(client);
  }

  #push(key: WireguardNodeKey): void {
    const listeners = this.#listeners.get(key);
    if (!listeners?.size || !this.#nodes.has(key)) return;
    const map = this.networkMap(key);
    for (const listener of listeners) {
      try {
        listener(map);
      } catch {
        // One node's failed push must not stop the others; that node resyncs when it re-registers.
      }
    }
  }
}
