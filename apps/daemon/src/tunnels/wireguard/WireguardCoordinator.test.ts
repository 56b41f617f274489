import { WarrenError, type WireguardNetworkMap, wireguardNetworkMapSchema } from '@warren/core';
import { describe, expect, it } from 'vitest';
import { WireguardCoordinator } from './WireguardCoordinator';

/** A distinct, well-formed public key per number (the daemon never needs real curve points). */
function key(n: number): string {
  const bytes = Buffer.alloc(32, 7);
  bytes.writeUInt32BE(n);
  return bytes.toString('base64');
}
const AGENT_KEY = key(1);
const LAPTOP_KEY = key(2);
const PHONE_KEY = key(3);
const OTHER_KEY = key(4);

async function setup() {
  // Nothing acknowledges in most of these tests, so client maps follow after this short wait.
  const coordinator = new WireguardCoordinator({ ackTimeoutMs: 5 });
  const agentMap = coordinator.registerAgent({
    agentId: 'agent-1',
    workspaceId: 'ws-1',
    publicKey: AGENT_KEY,
    endpoint: '192.0.2.10:51820',
  });
  const laptopMap = await coordinator.registerClient({
    clientId: 'laptop',
    userId: 'alice',
    publicKey: LAPTOP_KEY,
  });
  return { coordinator, agentMap, laptopMap };
}

/** Lets pushes that waited for an acknowledgement (or its timeout) go out. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

function collect(coordinator: WireguardCoordinator, key: `agent:${string}` | `client:${string}`) {
  const maps: WireguardNetworkMap[] = [];
  coordinator.subscribe(key, (map) => maps.push(map));
  return maps;
}

describe('WireguardCoordinator', () => {
  it('gives each node its own addresses in Warren’s range, and no peers before a tunnel opens', async () => {
    const { agentMap, laptopMap } = await setup();
    // Versions start from the clock, so a restarted daemon's maps are newer than any applied before.
    expect(agentMap).toEqual({
      version: expect.any(Number),
      addresses: ['100.64.0.1/10', 'fd7a:7761:7272::1/48'],
      peers: [],
    });
    expect(laptopMap.addresses).toEqual(['100.64.0.2/10', 'fd7a:7761:7272::2/48']);
    expect(wireguardNetworkMapSchema.safeParse(agentMap).success).toBe(true);
  });

  it('opening a tunnel pushes each side the other as a peer: the client with endpoint and keepalive', async () => {
    const { coordinator } = await setup();
    const agentMaps = collect(coordinator, 'agent:agent-1');
    const laptopMaps = collect(coordinator, 'client:laptop');
    await coordinator.openTunnel('laptop', 'agent-1');
    expect(laptopMaps.at(-1)?.peers).toEqual([
      {
        publicKey: AGENT_KEY,
        endpoint: '192.0.2.10:51820',
        allowedIps: ['100.64.0.1/32', 'fd7a:7761:7272::1/128'],
        persistentKeepaliveSeconds: 25,
      },
    ]);
    // The agent learns the client's endpoint from its packets, so it is given none.
    expect(agentMaps.at(-1)?.peers).toEqual([
      { publicKey: LAPTOP_KEY, allowedIps: ['100.64.0.2/32', 'fd7a:7761:7272::2/128'] },
    ]);
    for (const map of [...agentMaps, ...laptopMaps])
      expect(wireguardNetworkMapSchema.safeParse(map).success).toBe(true);
  });

  it('a tunnel to an agent that has not started yet appears when it registers, with a newer version', async () => {
    const coordinator = new WireguardCoordinator({ ackTimeoutMs: 5 });
    await coordinator.registerClient({ clientId: 'laptop', userId: 'alice', publicKey: LAPTOP_KEY });
    const laptopMaps = collect(coordinator, 'client:laptop');
    await coordinator.openTunnel('laptop', 'agent-late');
    expect(laptopMaps.at(-1)?.peers).toEqual([]);
    const before = laptopMaps.at(-1)?.version ?? 0;
    const agentMap = coordinator.registerAgent({
      agentId: 'agent-late',
      workspaceId: 'ws-1',
      publicKey: AGENT_KEY,
    });
    expect(agentMap.peers.map((p) => p.publicKey)).toEqual([LAPTOP_KEY]);
    coordinator.acknowledge('agent:agent-late', agentMap.version);
    await settle();
    expect(laptopMaps.at(-1)?.peers.map((p) => p.publicKey)).toEqual([AGENT_KEY]);
    expect(laptopMaps.at(-1)?.version).toBeGreaterThan(before);
  });

  it('an agent that re-registers with a new key keeps its address, and its clients get the new key', async () => {
    const { coordinator } = await setup();
    await coordinator.openTunnel('laptop', 'agent-1');
    const laptopMaps = collect(coordinator, 'client:laptop');
    const again = coordinator.registerAgent({
      agentId: 'agent-1',
      workspaceId: 'ws-1',
      publicKey: OTHER_KEY,
    });
    expect(again.addresses[0]).toBe('100.64.0.1/10');
    await settle(); // nothing acknowledges here: the client's map follows after the ack timeout
    expect(laptopMaps.at(-1)?.peers).toMatchObject([
      { publicKey: OTHER_KEY, allowedIps: ['100.64.0.1/32', 'fd7a:7761:7272::1/128'] },
    ]);
  });

  it('stopping a workspace or removing a device (key revoked, user suspended) drops its peers everywhere at once', async () => {
    const { coordinator } = await setup();
    await coordinator.registerClient({ clientId: 'phone', userId: 'alice', publicKey: PHONE_KEY });
    await coordinator.openTunnel('laptop', 'agent-1');
    await coordinator.openTunnel('phone', 'agent-1');
    const agentMaps = collect(coordinator, 'agent:agent-1');
    const laptopMaps = collect(coordinator, 'client:laptop');

    coordinator.removeClient('laptop');
    coordinator.removeClient('phone');
    expect(agentMaps.at(-1)?.peers).toEqual([]);
    expect(() => coordinator.networkMap('client:laptop')).toThrow('not registered');

    await coordinator.registerClient({ clientId: 'laptop', userId: 'alice', publicKey: LAPTOP_KEY });
    await coordinator.openTunnel('laptop', 'agent-1');
    const laptopAgain = collect(coordinator, 'client:laptop');
    coordinator.dropWorkspace('ws-1');
    expect(laptopAgain.at(-1)?.peers).toEqual([]);
    expect(laptopMaps).toHaveLength(0); // the dropped registration's listeners went with it
  });

  it('frees a removed node’s address for the next one, skipping addresses ending in .0 and .255', async () => {
    const coordinator = new WireguardCoordinator();
    const hosts: string[] = [];
    for (let i = 0; i < 256; i++) {
      const map = await coordinator.registerClient({
        clientId: `c${i}`,
        userId: 'u',
        publicKey: key(1000 + i),
      });
      hosts.push(map.addresses[0] ?? '');
    }
    expect(hosts).not.toContain('100.64.0.255/10');
    expect(hosts).not.toContain('100.64.1.0/10');
    expect(hosts.at(-1)).toBe('100.64.1.2/10'); // 254 in 100.64.0.x, then .1 and .2 of 100.64.1.x
    coordinator.removeClient('c4');
    const again = await coordinator.registerClient({ clientId: 'new', userId: 'u', publicKey: OTHER_KEY });
    expect(again.addresses[0]).toBe('100.64.0.5/10');
  });

  it('a new client’s agent gets its key first; the client’s map waits until the agent applied it', async () => {
    const coordinator = new WireguardCoordinator({ ackTimeoutMs: 60_000 });
    const agentMap = coordinator.registerAgent({
      agentId: 'agent-1',
      workspaceId: 'ws-1',
      publicKey: AGENT_KEY,
    });
    coordinator.acknowledge('agent:agent-1', agentMap.version);
    await coordinator.registerClient({ clientId: 'laptop', userId: 'alice', publicKey: LAPTOP_KEY });
    const agentMaps = collect(coordinator, 'agent:agent-1');
    const laptopMaps = collect(coordinator, 'client:laptop');

    let opened = false;
    const opening = coordinator.openTunnel('laptop', 'agent-1').then(() => {
      opened = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(agentMaps.at(-1)?.peers.map((p) => p.publicKey)).toEqual([LAPTOP_KEY]);
    expect(laptopMaps).toEqual([]);
    expect(opened).toBe(false);

    coordinator.acknowledge('agent:agent-1', agentMaps.at(-1)?.version ?? 0);
    await opening;
    expect(laptopMaps.at(-1)?.peers.map((p) => p.publicKey)).toEqual([AGENT_KEY]);
  });

  it('refuses a key another node holds, a node moving owner, bad input, and tunnels from unknown clients', async () => {
    const { coordinator } = await setup();
    const failure = async (work: () => unknown) => {
      try {
        await work();
      } catch (error) {
        expect(error).toBeInstanceOf(WarrenError);
        return (error as WarrenError).message;
      }
      throw new Error('expected a throw');
    };
    expect(
      await failure(() => coordinator.registerClient({ clientId: 'x', userId: 'eve', publicKey: AGENT_KEY })),
    ).toBe('Another WireGuard node already registered this public key.');
    expect(
      await failure(() =>
        coordinator.registerClient({ clientId: 'laptop', userId: 'eve', publicKey: LAPTOP_KEY }),
      ),
    ).toBe('WireGuard node client:laptop is registered for another user.');
    expect(
      await failure(() =>
        coordinator.registerAgent({
          agentId: 'a2',
          workspaceId: 'w',
          publicKey: OTHER_KEY,
          endpoint: 'example.com:1',
        }),
      ),
    ).toContain('Field "endpoint": must be an endpoint');
    expect(await failure(() => coordinator.openTunnel('ghost', 'agent-1'))).toBe(
      'This client device has not registered a WireGuard key yet.',
    );
  });
});
