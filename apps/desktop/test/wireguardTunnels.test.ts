import { type ChildProcess, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UapiClient } from '@warren/core/node';
import { NetnsLab, netnsUnavailableReason } from '@warren/core/test-support/netns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desktopRouter } from '../src/main/ipc/desktopRouter';
import { withBusyLocalPort } from './support/busyLocalPort';
import { AGENT_BIN, DaemonProcess, freePort, REPO, untilRunning, waitFor } from './support/daemonProcess';
import { actionItem, desktopMain, workspaceItem } from './support/desktopWorld';

// The desktop's WireGuard mode end to end, every piece real: the built daemon with
// WARREN_WIREGUARD=1 on this host, the workspace's agent (placed by the real local provisioner,
// through a wrapper) in a network namespace of its own behind a veth pair, and the desktop's
// tunnel manager in this test process with its own wireguard-go device on the host side.
const unavailable = netnsUnavailableReason(['wireguard-go', 'wg']);
if (unavailable) console.warn(`Skipping the desktop WireGuard test: ${unavailable}.`);

/** The workspace's HTTP server, on the agent namespace's own loopback. */
const REMOTE_PORT = 8095;
const PAGE_BYTES = 256 * 1024;

const linkUp = (iface: string) => {
  try {
    execFileSync('ip', ['link', 'show', iface], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

async function page(port: number): Promise<string | undefined> {
  const response = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
  return response?.ok ? response.text() : undefined;
}

describe.skipIf(unavailable !== undefined)('local tunnels over WireGuard', () => {
  const lab = new NetnsLab();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-desktop-wg-'));
  /** The desktop's device, named by the lab so its cleanup finds whatever a crash left. */
  const clientInterface = lab.interfaceName('dk');
  const agentInterface = lab.interfaceName('ag');
  let daemon: DaemonProcess;
  let world: ReturnType<typeof desktopMain>;
  let server: ChildProcess;
  let localPort: number;

  /** What the desktop's own device counted, summed over its peers (UAPI, as `wg show` reads it). */
  async function counters() {
    const peers = (await new UapiClient(clientInterface).getDevice()).peers;
    return {
      rx: peers.reduce((sum, peer) => sum + peer.rxBytes, 0),
      tx: peers.reduce((sum, peer) => sum + peer.txBytes, 0),
    };
  }

  beforeAll(async () => {
    // The agent bundle carries the agent's WireGuard code; rebuilt here when its sources changed.
    execFileSync(process.execPath, ['build.mjs', '--if-stale'], { cwd: path.join(REPO, 'apps', 'agent') });
    const nsAgent = await lab.namespace('agent');
    const subnet = `10.213.${Number.parseInt(lab.id.slice(0, 2), 16)}`;
    await lab.connectHost(nsAgent, `${subnet}.1/30`, `${subnet}.2/30`);
    // The local provisioner runs `node <agent binary>`; this one moves the agent to its namespace.
    const wrapper = lab.writeAgentWrapper(
      path.join(tmp, 'agent-in-netns.mjs'),
      nsAgent,
      AGENT_BIN,
      agentInterface,
    );
    daemon = await DaemonProcess.start({
      host: `${subnet}.1`,
      env: { WARREN_WIREGUARD: '1', WARREN_AGENT_BINARY: wrapper },
    });
    const { token } = await daemon.owner();
    const api = daemon.client(token);
    await api.workspaces.create.mutate({
      name: 'dev',
      template: 'local',
      parameters: { file_server: false },
    });
    await untilRunning(api, 'dev');
    await waitFor("the agent's WireGuard device", async () =>
      (await lab.exec(nsAgent, 'ip', ['-o', 'link'])).includes(`: ${agentInterface}:`) ? true : undefined,
    );
    const repeat = PAGE_BYTES / 16;
    server = lab.spawn(nsAgent, process.execPath, [
      '-e',
      `require('http').createServer((q, s) => s.end('from the agent. '.repeat(${repeat}))).listen(${REMOTE_PORT}, '127.0.0.1')`,
    ]);
    world = desktopMain({ wireguard: { interfaceName: clientInterface } });
    await world.main.start();
    await world.main.addDeployment({ url: daemon.url, token });
    await world.main.workspaceState()?.until((s) => s.workspaces.some((w) => w.agent?.lifecycle === 'ready'));
  }, 120_000);

  afterAll(async () => {
    server?.kill('SIGKILL');
    await world?.close();
    await daemon?.close();
    await lab.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  it('with WireGuard on, a saved forward serves the workspace page through the desktop’s own device, counted by WireGuard', async () => {
    const desktop = desktopRouter(world.main).createCaller({});
    expect(await desktop.tunnels.wireguard()).toEqual({ on: false, notice: undefined });
    expect(await desktop.tunnels.setWireguard({ on: true })).toEqual({ on: true, notice: undefined });
    localPort = await freePort();
    await desktop.tunnels.addForward({ workspace: 'dev', spec: `${localPort}:${REMOTE_PORT}` });
    const connect = actionItem(workspaceItem(world.main.trayMenu().items, 'dev')?.items ?? [], 'Connect');
    if (!connect) throw new Error('no Connect item');
    await world.main.perform(connect.action);
    expect(world.main.tunnels().status().get('dev')).toMatchObject({
      state: 'connected',
      via: 'wireguard',
      notice: undefined,
    });
    expect(world.main.wireguardMode()?.interfaceName).toBe(clientInterface);

    const before = await counters();
    const body = await waitFor('the forwarded page', () => page(localPort));
    expect(body).toBe('from the agent. '.repeat(PAGE_BYTES / 16));
    const after = await counters();
    // Every byte of the page came in through the desktop's WireGuard device.
    expect(after.rx - before.rx).toBeGreaterThan(PAGE_BYTES);
    const [, rx] = execFileSync('wg', ['show', clientInterface, 'transfer'], { encoding: 'utf8' })
      .trim()
      .split(/\s+/);
    expect(Number(rx)).toBeGreaterThanOrEqual(after.rx);

    const dev = workspaceItem(world.main.trayMenu().items, 'dev');
    expect(dev?.label).toBe('● dev ⇄');
    expect(dev?.items).toContainEqual({ type: 'label', label: 'Ports — forwarding over WireGuard' });
    expect(dev?.items).toContainEqual({
      type: 'label',
      label: `localhost:${localPort} → port ${REMOTE_PORT}`,
    });
  });

  it('when the daemon restarts, the drop is announced and the forward comes back over WireGuard', async () => {
    const tunnels = world.main.tunnels();
    await daemon.stop();
    // The local provisioner's agent went with the daemon: the next connection finds no one there.
    expect(await page(localPort)).toBeUndefined();
    await waitFor('the tunnel to notice', () =>
      tunnels.status().get('dev')?.state === 'reconnecting' ? true : undefined,
    );
    expect(world.platform.notifications.map((n) => n.kind)).toContain('tunnelDropped');
    const labels = (workspaceItem(world.main.trayMenu().items, 'dev')?.items ?? []).map((item) =>
      'label' in item ? item.label : '',
    );
    expect(labels.some((label) => label.startsWith('Ports — reconnecting over WireGuard'))).toBe(true);

    await daemon.restart();
    // The new daemon never heard of the desktop's device: it registers again on the way back.
    expect(await waitFor('the page through the new daemon', () => page(localPort), 60_000)).toHaveLength(
      PAGE_BYTES,
    );
    expect(tunnels.status().get('dev')).toMatchObject({ state: 'connected', via: 'wireguard' });
    const before = await counters();
    expect(await page(localPort)).toHaveLength(PAGE_BYTES);
    expect((await counters()).rx - before.rx).toBeGreaterThan(PAGE_BYTES);
  });

  it('a busy local port is reported as a sentence naming it, over WireGuard as through the relay', async () => {
    const tunnels = world.main.tunnels();
    await tunnels.close('dev');
    await withBusyLocalPort(async (port) => {
      tunnels.addForward('dev', `${port}:${REMOTE_PORT}`);
      await expect(tunnels.open('dev')).rejects.toThrow(`Local port ${port} is already in use on 127.0.0.1`);
      expect(tunnels.status().get('dev')).toMatchObject({ state: 'failed', via: 'wireguard' });
      tunnels.removeForward('dev', port);
    });
    await tunnels.open('dev');
    expect(await waitFor('the page again', () => page(localPort))).toHaveLength(PAGE_BYTES);
  });

  it('turning WireGuard off moves the forward to the relay and removes the device', async () => {
    expect(await world.main.setWireguard(false)).toEqual({ on: false, notice: undefined });
    expect(world.main.tunnels().status().get('dev')).toMatchObject({ state: 'connected', via: 'relay' });
    expect(linkUp(clientInterface)).toBe(false);
    expect(await waitFor('the page through the relay', () => page(localPort))).toHaveLength(PAGE_BYTES);
    expect(world.main.deployments.active()?.wireguard).toBe(false);
  });

  it('signing out tears the device down: its interface goes and the agent drops it as a peer', async () => {
    await world.main.setWireguard(true);
    expect(world.main.tunnels().status().get('dev')).toMatchObject({ state: 'connected', via: 'wireguard' });
    expect(linkUp(clientInterface)).toBe(true);
    const agent = new UapiClient(agentInterface);
    expect((await agent.getDevice()).peers.length).toBeGreaterThan(0);
    const id = world.main.deployments.active()?.id ?? '';
    await world.main.removeDeployment(id);
    expect(linkUp(clientInterface)).toBe(false);
    await waitFor('the agent to drop the desktop’s device', async () =>
      (await agent.getDevice()).peers.length === 0 ? true : undefined,
    );
  });
});
