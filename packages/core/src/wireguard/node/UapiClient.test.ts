import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsLab, netnsUnavailableReason } from '../../../test-support/netns';
import { runTcpTransfer } from '../../../test-support/runTcpTransfer';
import { WireguardUapiError } from '../WireguardUapiError';
import { generateWireguardKeyPair, type WireguardKeyPair } from './generateWireguardKeyPair';
import { UapiClient } from './UapiClient';
import { WireguardGoProcess } from './WireguardGoProcess';

// Two hosts (network namespaces joined by a veth), each running wireguard-go that is configured
// only through UapiClient; wg(8) is used only to check what UAPI reported.
const unavailable = netnsUnavailableReason(['wireguard-go', 'wg']);
if (unavailable) console.warn(`Skipping the wireguard-go tests: ${unavailable}.`);

const run = promisify(execFile);
const TRANSFER_BYTES = 8 * 1024 * 1024;

describe.skipIf(unavailable !== undefined)('UapiClient against wireguard-go in two namespaces', () => {
  const lab = new NetnsLab();
  const devices: WireguardGoProcess[] = [];
  let nsA = '';
  let nsB = '';
  let a: WireguardGoProcess;
  let b: WireguardGoProcess;
  let keysA: WireguardKeyPair;
  let keysB: WireguardKeyPair;

  beforeAll(async () => {
    nsA = await lab.namespace('a');
    nsB = await lab.namespace('b');
    await lab.connect(nsA, '192.168.77.1/24', nsB, '192.168.77.2/24');
    keysA = generateWireguardKeyPair();
    keysB = generateWireguardKeyPair();
    a = await WireguardGoProcess.start({
      interfaceName: lab.interfaceName('wa'),
      netns: nsA,
      addresses: ['100.64.0.1/24'],
    });
    devices.push(a);
    b = await WireguardGoProcess.start({
      interfaceName: lab.interfaceName('wb'),
      netns: nsB,
      addresses: ['100.64.0.2/24'],
    });
    devices.push(b);
  });

  afterAll(async () => {
    for (const device of devices) await device.stop();
    await lab.cleanup();
  });

  it('reads back exactly the keys, port and peer it set', async () => {
    await a.client.configure({
      privateKey: keysA.privateKey,
      listenPort: 51820,
      peers: [{ publicKey: keysB.publicKey, endpoint: '192.168.77.2:51821', allowedIps: ['100.64.0.2/32'] }],
    });
    // B is told no endpoint: it learns A's from A's first authenticated packet.
    await b.client.configure({
      privateKey: keysB.privateKey,
      listenPort: 51821,
      peers: [{ publicKey: keysA.publicKey, allowedIps: ['100.64.0.1/32'], persistentKeepaliveSeconds: 25 }],
    });
    const device = await a.client.getDevice();
    expect(device.privateKey?.reveal()).toBe(keysA.privateKey.reveal());
    expect(device.listenPort).toBe(51820);
    expect(device.peers).toMatchObject([
      {
        publicKey: keysB.publicKey,
        endpoint: '192.168.77.2:51821',
        allowedIps: ['100.64.0.2/32'],
        lastHandshakeAt: undefined,
      },
    ]);
  });

  it('carries a TCP transfer between the WireGuard addresses, and UAPI counts its bytes and handshake', async () => {
    const before = Date.now();
    const { sink, source } = await runTcpTransfer(lab, {
      sinkNs: nsB,
      sourceNs: nsA,
      host: '100.64.0.2',
      port: 5001,
      bytes: TRANSFER_BYTES,
    });
    expect(sink.bytes).toBe(TRANSFER_BYTES);
    expect(sink.sha256).toBe(source.sha256);

    const [peerOfA] = (await a.client.getDevice()).peers;
    const [peerOfB] = (await b.client.getDevice()).peers;
    // The bytes crossed WireGuard: each side counts them (plus headers) in its encrypted counters.
    expect(peerOfA?.txBytes).toBeGreaterThan(TRANSFER_BYTES);
    expect(peerOfB?.rxBytes).toBeGreaterThan(TRANSFER_BYTES);
    expect(peerOfA?.rxBytes).toBeGreaterThan(0);
    expect(peerOfA?.lastHandshakeAt?.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(peerOfA?.lastHandshakeAt?.getTime()).toBeLessThanOrEqual(Date.now());
    // Roaming: B learned A's endpoint from the handshake.
    expect(peerOfB?.endpoint).toBe('192.168.77.1:51820');

    // wg(8) reads the same socket and must agree (counters only grow between the two reads).
    const dump = (await run('wg', ['show', a.interfaceName, 'dump'])).stdout.trim().split('\n');
    const peerLine = dump[1]?.split('\t') ?? [];
    expect(peerLine[0]).toBe(keysB.publicKey);
    expect(Number(peerLine[4]) * 1000).toBe(
      Math.floor((peerOfA?.lastHandshakeAt?.getTime() ?? 0) / 1000) * 1000,
    );
    expect(Number(peerLine[6])).toBeGreaterThanOrEqual(peerOfA?.txBytes ?? Number.NaN);
    expect(Number(peerLine[5])).toBeGreaterThanOrEqual(peerOfA?.rxBytes ?? Number.NaN);
  });

  it('reports a failed set with its errno and the state it left behind, since a set is not transactional', async () => {
    const c = await WireguardGoProcess.start({
      interfaceName: lab.interfaceName('wc'),
      netns: nsA,
      addresses: ['100.64.1.1/24'],
    });
    devices.push(c);
    const keysC = generateWireguardKeyPair();
    let error: unknown;
    try {
      // The private key line applies; the port, taken by device A in the same namespace, fails.
      await c.client.configure({ privateKey: keysC.privateKey, listenPort: 51820 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(WireguardUapiError);
    expect(error).toMatchObject({ errno: -98, code: 'CONFLICT' });
    expect((error as Error).message).toContain('the listen port is already in use');
    expect((error as Error).message).not.toContain(keysC.privateKey.reveal());
    expect((error as WireguardUapiError).deviceAfter?.privateKey?.reveal()).toBe(keysC.privateKey.reveal());
    await c.stop();
  });

  it('removes a peer, so the device no longer lists it', async () => {
    await a.client.configure({ peers: [{ publicKey: keysB.publicKey, remove: true }] });
    expect((await a.client.getDevice()).peers).toEqual([]);
  });

  it('says plainly when an interface is not running', async () => {
    await expect(new UapiClient(lab.interfaceName('none')).getDevice()).rejects.toThrow(
      `WireGuard interface ${lab.interfaceName('none')} is not running: nothing listens on /var/run/wireguard/${lab.interfaceName('none')}.sock.`,
    );
  });
});
