import type { WireguardNetworkMap } from '@warren/core';
import { generateWireguardKeyPair, WireguardGoProcess } from '@warren/core/node';
import { NetnsLab, netnsUnavailableReason } from '@warren/core/test-support/netns';
import { runTcpTransfer } from '@warren/core/test-support/runTcpTransfer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WireguardCoordinator, type WireguardNodeKey } from './WireguardCoordinator';

// WireGuard mode end to end, minus the sockets between daemon and nodes: an agent and a client
// in separate network namespaces, each with its own wireguard-go, configured only from the
// coordinator's network maps (register, apply the reply, apply every push).
const unavailable = netnsUnavailableReason(['wireguard-go']);
if (unavailable) console.warn(`Skipping the WireGuard mode test: ${unavailable}.`);

const BYTES = 4 * 1024 * 1024;

describe.skipIf(unavailable !== undefined)('WireGuard mode between an agent and a client namespace', () => {
  const lab = new NetnsLab();
  const coordinator = new WireguardCoordinator();
  const devices: WireguardGoProcess[] = [];
  const pushes: Promise<void>[] = [];
  let agent: WireguardGoProcess;
  let client: WireguardGoProcess;
  let nsAgent = '';
  let nsClient = '';

  /** What a node does with its maps: apply the registration reply, then every push, in order. */
  async function follow(device: WireguardGoProcess, key: WireguardNodeKey, first: WireguardNetworkMap) {
    const apply = async (map: WireguardNetworkMap) => {
      await device.applyNetworkMap(map);
      coordinator.acknowledge(key, map.version);
    };
    coordinator.subscribe(key, (map) => pushes.push(apply(map)));
    await apply(first);
  }

  beforeAll(async () => {
    nsAgent = await lab.namespace('agent');
    nsClient = await lab.namespace('client');
    await lab.connect(nsAgent, '192.168.78.1/24', nsClient, '192.168.78.2/24');

    const agentKeys = generateWireguardKeyPair();
    agent = await WireguardGoProcess.start({ interfaceName: lab.interfaceName('ag'), netns: nsAgent });
    devices.push(agent);
    await agent.client.configure({ privateKey: agentKeys.privateKey, listenPort: 51820 });
    const agentMap = coordinator.registerAgent({
      agentId: 'agent-1',
      workspaceId: 'ws-1',
      publicKey: agentKeys.publicKey,
      endpoint: '192.168.78.1:51820',
    });
    await follow(agent, 'agent:agent-1', agentMap);

    const clientKeys = generateWireguardKeyPair();
    client = await WireguardGoProcess.start({ interfaceName: lab.interfaceName('cl'), netns: nsClient });
    devices.push(client);
    await client.client.configure({ privateKey: clientKeys.privateKey });
    const clientMap = await coordinator.registerClient({
      clientId: 'laptop',
      userId: 'alice',
      publicKey: clientKeys.publicKey,
    });
    await follow(client, 'client:laptop', clientMap);
  });

  afterAll(async () => {
    for (const device of devices) await device.stop();
    await lab.cleanup();
  });

  it('after the tunnel opens, bytes reach the agent’s tunnel address through WireGuard', async () => {
    const started = performance.now();
    await coordinator.openTunnel('laptop', 'agent-1');
    await Promise.all(pushes);
    const agentAddress = coordinator.networkMap('agent:agent-1').addresses[0]?.split('/')[0] ?? '';
    expect(agentAddress).toBe('100.64.0.1');

    const { sink, source } = await runTcpTransfer(lab, {
      sinkNs: nsAgent,
      sourceNs: nsClient,
      host: agentAddress,
      port: 6001,
      bytes: BYTES,
    });
    expect(sink).toMatchObject({ bytes: BYTES, sha256: source.sha256 });
    // The agent had the client's key before the client's first handshake: no 5 s WireGuard retry.
    expect(performance.now() - started).toBeLessThan(4000);
    const [clientPeer] = (await agent.client.getDevice()).peers;
    expect(clientPeer?.rxBytes).toBeGreaterThan(BYTES);
    expect(clientPeer?.lastHandshakeAt).toBeInstanceOf(Date);
    // The agent was given no endpoint for the client; it learned one from the client's packets.
    expect(clientPeer?.endpoint).toMatch(/^192\.168\.78\.2:\d+$/);
  });

  it('stopping the workspace removes the agent from the client’s device at once', async () => {
    coordinator.dropWorkspace('ws-1');
    await Promise.all(pushes);
    expect((await client.client.getDevice()).peers).toEqual([]);
  });
});
