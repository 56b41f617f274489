import { checkWireguardHelper } from '@warren/core/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonClient } from '../src/main/api/daemonClient';
import { withBusyLocalPort } from './support/busyLocalPort';
import { DaemonProcess, freePort, inWorkspace, untilRunning, waitFor } from './support/daemonProcess';
import { actionItem, desktopMain, workspaceItem } from './support/desktopWorld';

const page = async (port: number) => {
  const response = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
  return response?.ok ? response.text() : undefined;
};

describe('local tunnels: saved port forwards to localhost', () => {
  let daemon: DaemonProcess;
  let token: string;
  let api: DaemonClient;
  let world: ReturnType<typeof desktopMain>;
  let remotePort: number;

  beforeAll(async () => {
    daemon = await DaemonProcess.start();
    token = (await daemon.owner()).token;
    api = daemon.client(token);
    await api.workspaces.create.mutate({
      name: 'dev',
      template: 'local',
      parameters: { file_server: false },
    });
    await untilRunning(api, 'dev');
    world = desktopMain();
    await world.main.start();
    await world.main.addDeployment({ url: daemon.url, token });
    await world.main.workspaceState()?.until((s) => s.workspaces.some((w) => w.agent?.lifecycle === 'ready'));
    // An HTTP server inside the workspace, detached so it outlives the SSH session and a daemon restart.
    remotePort = await freePort();
    const script = `require('http').createServer((q, s) => s.end('served from the workspace')).listen(${remotePort}, '127.0.0.1')`;
    await inWorkspace(
      daemon,
      token,
      'dev',
      `setsid nohup node -e "${script}" >/dev/null 2>&1 < /dev/null & echo $! > http.pid`,
    );
  });
  afterAll(async () => {
    await inWorkspace(daemon, token, 'dev', 'kill $(cat http.pid)').catch(() => {});
    await world?.close();
    await api?.workspaces.stop.mutate({ name: 'dev' }).catch(() => {});
    await waitFor('dev to stop', async () =>
      (await api.workspaces.get.query({ name: 'dev' })).status === 'stopped' ? true : undefined,
    ).catch(() => {});
    await daemon?.close();
  });

  it('a saved forward serves the workspace HTTP server to a fetch on localhost, and shows in the tray', async () => {
    const localPort = await freePort();
    world.main.tunnels().addForward('dev', `${localPort}:${remotePort}`);
    const connect = actionItem(workspaceItem(world.main.trayMenu().items, 'dev')?.items ?? [], 'Connect');
    if (!connect) throw new Error('no Connect item');
    await world.main.perform(connect.action);
    expect(await waitFor('the forwarded page', () => page(localPort))).toBe('served from the workspace');
    const dev = workspaceItem(world.main.trayMenu().items, 'dev');
    expect(dev?.label).toBe('● dev ⇄');
    expect(dev?.items).toContainEqual({
      type: 'label',
      label: `localhost:${localPort} → port ${remotePort}`,
    });
    expect(dev?.items).toContainEqual({ type: 'label', label: 'Ports — forwarding' });
  });

  it('reconnects after the daemon restarts, telling the person it dropped', async () => {
    const tunnels = world.main.tunnels();
    const [forward] = tunnels.saved('dev');
    if (!forward) throw new Error('no saved forward');
    await daemon.stop();
    await waitFor('the tunnel to notice', () =>
      tunnels.status().get('dev')?.state === 'reconnecting' ? true : undefined,
    );
    expect(world.platform.notifications.map((n) => n.kind)).toContain('tunnelDropped');
    expect(workspaceItem(world.main.trayMenu().items, 'dev')?.label).toBe('● dev ⇄…');
    await daemon.restart();
    const began = Date.now();
    expect(await waitFor('the page through the new daemon', () => page(forward.localPort), 60_000)).toBe(
      'served from the workspace',
    );
    expect(tunnels.status().get('dev')?.state).toBe('connected');
    console.info(`tunnel back ${Date.now() - began} ms after the daemon was listening again`);
  });

  it('reports a busy local port as a sentence naming it, in the error and the tray', async () => {
    const tunnels = world.main.tunnels();
    await tunnels.close('dev');
    await withBusyLocalPort(async (port) => {
      tunnels.addForward('dev', `${port}:${remotePort}`);
      await expect(tunnels.open('dev')).rejects.toThrow(`Local port ${port} is already in use on 127.0.0.1`);
      expect(tunnels.status().get('dev')).toMatchObject({ state: 'failed' });
      const labels = (workspaceItem(world.main.trayMenu().items, 'dev')?.items ?? []).map((item) =>
        'label' in item ? item.label : '',
      );
      expect(labels).toContain(
        `Ports — stopped: Local port ${port} is already in use on 127.0.0.1; pick another (LOCAL:REMOTE).`,
      );
    });
  });

  it('refuses a forward that is not LOCAL:REMOTE, and keeps saved forwards per workspace across restarts of the app', () => {
    const tunnels = world.main.tunnels();
    expect(() => tunnels.addForward('dev', '80:99999')).toThrow(/is not a port forward; use LOCAL:REMOTE/);
    expect(tunnels.saved('dev').length).toBe(2);
    expect(tunnels.saved('other')).toEqual([]);
  });

  it('with WireGuard asked for on a server that does not run it, forwards use the relay and say why', async () => {
    const local = checkWireguardHelper();
    // This daemon runs without WARREN_WIREGUARD; a machine without the helper says that first.
    const reason = local.available
      ? 'the server has WireGuard mode turned off (WARREN_WIREGUARD=1 turns it on)'
      : local.reason;
    const notice = `WireGuard is off: ${reason}; using the relay.`;
    expect(await world.main.setWireguard(true)).toEqual({ on: true, notice });
    const tunnels = world.main.tunnels();
    await tunnels.open('dev');
    expect(tunnels.status().get('dev')).toMatchObject({ state: 'connected', via: 'relay', notice });
    expect(workspaceItem(world.main.trayMenu().items, 'dev')?.items).toContainEqual({
      type: 'label',
      label: notice,
    });
    const [forward] = tunnels.saved('dev');
    expect(await waitFor('the page through the relay', () => page(forward?.localPort ?? 0))).toBe(
      'served from the workspace',
    );
    expect(await world.main.setWireguard(false)).toEqual({ on: false, notice: undefined });
    expect(tunnels.status().get('dev')).toMatchObject({
      state: 'connected',
      via: 'relay',
      notice: undefined,
    });
  });
});
