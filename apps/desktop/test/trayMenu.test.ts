import { describe, expect, it } from 'vitest';
import type { WorkspaceView } from '../src/main/api/daemonClient';
import type { Deployment } from '../src/main/deployments/deploymentSchemas';
import { terminalCommand } from '../src/main/platform/terminalCommand';
import { buildTrayMenu } from '../src/main/tray/buildTrayMenu';
import { type TrayItem, vscodeUri } from '../src/main/tray/trayActions';
import type { WorkspaceTunnels } from '../src/main/tunnels/tunnelTypes';
import type { WorkspaceSnapshot } from '../src/main/workspaces/WorkspaceState';
import { actionItem, workspaceItem } from './support/desktopWorld';

const deployment = (id: string, active: boolean): Deployment => ({
  id,
  name: id,
  url: `https://${id}.example`,
  active,
  addedAt: '2026-01-01T00:00:00Z',
  wireguard: false,
});
/** A running workspace whose agent is ready. */
const ws = {
  name: 'dev',
  owner: 'ann',
  status: 'running',
  agent: { lifecycle: 'ready', connected: true },
} as WorkspaceView;
const snapshot = (patch: Partial<WorkspaceSnapshot>): WorkspaceSnapshot => ({
  connection: 'connected',
  detail: undefined,
  workspaces: [],
  chats: undefined,
  me: 'ann',
  ...patch,
});

describe('the tray menu, built as data', () => {
  it('offers sign-in when no deployment is active, with the signed-out icon', () => {
    const menu = buildTrayMenu({ deployments: [], snapshot: undefined, tunnels: new Map() });
    expect(menu.icon).toBe('tray-signed-out');
    expect(actionItem(menu.items, 'Sign in')?.action).toEqual({ kind: 'openWindow' });
    expect(actionItem(menu.items, 'Quit Warren')?.action).toEqual({ kind: 'quit' });
  });

  it('shows reconnecting with the offline icon and disables workspace actions meanwhile', () => {
    const menu = buildTrayMenu({
      deployments: [deployment('work', true)],
      snapshot: snapshot({ connection: 'reconnecting', workspaces: [ws] }),
      tunnels: new Map(),
    });
    expect(menu.icon).toBe('tray-offline');
    expect(menu.tooltip).toBe('Warren — work: reconnecting…');
    const items = workspaceItem(menu.items, 'dev')?.items ?? [];
    expect(actionItem(items, 'Stop')?.enabled).toBe(false);
    // Copying the SSH command needs no server.
    expect(actionItem(items, 'Copy SSH command')?.enabled).toBe(true);
  });

  it('lists recent chats and lets you switch deployments, but only when there is more than one', () => {
    const menu = buildTrayMenu({
      deployments: [deployment('work', true), deployment('home', false)],
      snapshot: snapshot({ chats: [{ id: 'c1', title: null, updatedAt: '2026-01-01T00:00:00Z' }] }),
      tunnels: new Map(),
    });
    const chats = menu.items.find((item) => item.type === 'submenu' && item.label === 'Recent chats');
    expect(chats).toMatchObject({
      items: [{ label: 'Untitled chat', action: { kind: 'openChat', chatId: 'c1' } }],
    });
    const servers = menu.items.find((item) => item.type === 'submenu' && item.label === 'Switch server');
    expect(servers).toMatchObject({
      items: [
        { label: '✓ work', enabled: false },
        { label: 'home', enabled: true, action: { kind: 'switchDeployment', deploymentId: 'home' } },
      ],
    });
    expect(
      buildTrayMenu({ deployments: [deployment('work', true)], snapshot: snapshot({}), tunnels: new Map() })
        .items,
    ).not.toContainEqual(expect.objectContaining({ label: 'Switch server' }));
  });

  it('marks forwards over WireGuard, and says in a sentence when WireGuard was asked for but the relay is used', () => {
    const menu = (tunnels: WorkspaceTunnels) =>
      workspaceItem(
        buildTrayMenu({
          deployments: [deployment('work', true)],
          snapshot: snapshot({ workspaces: [ws] }),
          tunnels: new Map([['dev', tunnels]]),
        }).items,
        'dev',
      )?.items ?? [];
    const forwards = [{ localPort: 8080, remotePort: 3000 }];
    const notice = 'WireGuard is off: wireguard-go was not found on PATH; using the relay.';
    const relayed = menu({
      workspace: 'dev',
      state: 'connected',
      detail: undefined,
      via: 'relay',
      notice,
      forwards,
    });
    expect(relayed).toContainEqual({ type: 'label', label: 'Ports — forwarding' });
    expect(relayed).toContainEqual({ type: 'label', label: notice });
    const wired = menu({
      workspace: 'dev',
      state: 'connected',
      detail: undefined,
      via: 'wireguard',
      notice: undefined,
      forwards,
    });
    expect(wired).toContainEqual({ type: 'label', label: 'Ports — forwarding over WireGuard' });
    expect(wired.filter((item) => item.type === 'label' && item.label.startsWith('WireGuard'))).toEqual([]);
  });

  it('offers "Restart to update to X" once an update is ready, naming the forwarded ports a restart closes', () => {
    const tunnels = (...names: string[]) =>
      new Map(
        names.map((name): [string, WorkspaceTunnels] => [
          name,
          {
            workspace: name,
            state: 'connected',
            detail: undefined,
            via: 'relay',
            notice: undefined,
            forwards: [{ localPort: 8080, remotePort: 3000 }],
          },
        ]),
      );
    const menu = (updates: Parameters<typeof buildTrayMenu>[0]['updates'], live = tunnels()) =>
      buildTrayMenu({
        deployments: [deployment('work', true)],
        snapshot: snapshot({ workspaces: [ws] }),
        tunnels: live,
        updates,
      }).items;
    const labels = (items: TrayItem[]) =>
      items.flatMap((item) => (item.type === 'label' || item.type === 'action' ? [item.label] : []));

    const ready = menu({ state: 'ready', version: '1.2.3' });
    expect(actionItem(ready, 'Restart to update')).toEqual({
      type: 'action',
      label: 'Restart to update to 1.2.3',
      action: { kind: 'restartToUpdate' },
      enabled: true,
    });
    // It sits with the app's own items, just above "Open Warren".
    const at = labels(ready);
    expect(at.indexOf('Restart to update to 1.2.3')).toBe(at.indexOf('Open Warren') - 1);
    expect(actionItem(menu({ state: 'ready', version: '1.2.3' }, tunnels('dev')), 'Restart')?.label).toBe(
      'Restart to update to 1.2.3 (closes the ports of dev)',
    );
    expect(
      actionItem(menu({ state: 'ready', version: '1.2.3' }, tunnels('a', 'b', 'c')), 'Restart')?.label,
    ).toBe('Restart to update to 1.2.3 (closes the ports of 3 workspaces)');

    expect(labels(menu({ state: 'downloading', version: '1.2.3' }))).toContain('Downloading Warren 1.2.3…');
    expect(actionItem(menu({ state: 'idle' }), 'Check for updates')?.action).toEqual({
      kind: 'checkForUpdates',
    });
    expect(actionItem(menu({ state: 'failed', error: 'offline' }), 'Check for updates')).toBeDefined();
    // Off (a dev build, WARREN_DESKTOP_UPDATES=off) or no updater: nothing about updates at all.
    for (const off of [{ state: 'off', reason: 'off' } as const, undefined])
      expect(labels(menu(off)).filter((label) => /update/i.test(label))).toEqual([]);
  });

  it('opens VS Code on the SSH alias and folder, and terminals with each OS own tool', () => {
    expect(vscodeUri('warren.dev', '/home/ann/my project')).toBe(
      'vscode://vscode-remote/ssh-remote+warren.dev/home/ann/my%20project',
    );
    expect(terminalCommand('darwin', 'ssh warren.dev').file).toBe('osascript');
    expect(terminalCommand('win32', 'ssh warren.dev').args).toEqual([
      '/c',
      'start',
      'cmd.exe',
      '/k',
      'ssh warren.dev',
    ]);
    expect(terminalCommand('linux', 'ssh warren.dev', (bin) => bin === 'konsole')).toEqual({
      file: 'konsole',
      args: ['-e', 'ssh', 'warren.dev'],
    });
  });
});
