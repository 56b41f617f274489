import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointFor } from '../../src/tunnels/wireguard/WireguardService';
import { rememberSecret, startTestDaemon, type TestDaemon } from '../harness';
import { SAMPLE_SSH_KEY } from '../procedureCatalog';
import { addPerson } from '../signIn';

// The client side of WireGuard mode over the real API (no wireguard-go needed): devices belong to
// the person and the API key that registered them. The full data path is wireguardNetns.test.ts.
const wgKey = () => randomBytes(32).toString('base64');

describe('WireGuard devices through the API', () => {
  let t: TestDaemon;
  let owner: string;

  beforeAll(async () => {
    t = await startTestDaemon('sqlite');
    owner = (await t.setupOwner()).token;
  });
  afterAll(() => t?.close());

  it('the server says whether it runs WireGuard mode, so a client knows before starting a device', async () => {
    // startTestDaemon leaves WARREN_WIREGUARD unset: the mode is off.
    expect(await t.client(owner).wireguard.status.query()).toEqual({ enabled: false });
  });

  it('a registered device gets its own tunnel address in Warren’s range and no peers yet', async () => {
    const { map } = await t
      .client(owner)
      .wireguard.registerDevice.mutate({ deviceId: 'laptop', publicKey: wgKey() });
    expect(map.addresses[0]).toMatch(/^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.\d+\.\d+\/10$/);
    expect(map.peers).toEqual([]);
  });

  it('two people may name their devices alike without touching each other’s', async () => {
    const other = await addPerson(t, owner, 'devices-bob');
    const mine = await t.client(owner).wireguard.map.query({ deviceId: 'laptop' });
    const { map } = await t
      .client(other.token)
      .wireguard.registerDevice.mutate({ deviceId: 'laptop', publicKey: wgKey() });
    expect(map.addresses).not.toEqual(mine.map.addresses);
    const after = (await t.client(owner).wireguard.map.query({ deviceId: 'laptop' })).map;
    expect({ addresses: after.addresses, peers: after.peers }).toEqual({
      addresses: mine.map.addresses,
      peers: [],
    });
  });

  it('a tunnel needs a registered device and a workspace the person may reach, said in sentences', async () => {
    const api = t.client(owner).wireguard;
    await expect(
      api.openTunnel.mutate({ deviceId: 'never-registered', name: 'dev', sshPublicKey: SAMPLE_SSH_KEY }),
    ).rejects.toThrow(/This device has not registered a WireGuard key yet/);
    await expect(
      api.openTunnel.mutate({ deviceId: 'laptop', name: 'nope', sshPublicKey: SAMPLE_SSH_KEY }),
    ).rejects.toThrow(/No workspace is named "nope"/);
    await expect(
      api.registerDevice.mutate({ deviceId: 'bad id!', publicKey: 'not a key' }),
    ).rejects.toMatchObject({ data: { code: 'INVALID_INPUT' } });
  });

  it('revoking the API key that registered a device removes the device at once', async () => {
    const created = await t.client(owner).tokens.create.mutate({ name: 'wg-device' });
    const token = rememberSecret(created.token);
    await t.client(token).wireguard.registerDevice.mutate({ deviceId: 'desktop', publicKey: wgKey() });
    expect((await t.client(owner).wireguard.map.query({ deviceId: 'desktop' })).map.peers).toEqual([]);
    await t.client(owner).tokens.revoke.mutate({ id: created.id });
    await expect(t.client(owner).wireguard.map.query({ deviceId: 'desktop' })).rejects.toThrow(
      /has not registered a WireGuard key/,
    );
  });

  it('an agent’s endpoint is the address its socket came from, written as UAPI wants it', () => {
    expect(endpointFor('::ffff:192.0.2.7', 51820)).toBe('192.0.2.7:51820');
    expect(endpointFor('2001:db8::7', 51820)).toBe('[2001:db8::7]:51820');
    expect(endpointFor(undefined, 51820)).toBeUndefined();
  });
});
