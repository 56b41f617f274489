import { sshHostAlias } from '@warren/core/node';
import type { WorkspaceView } from '../api/daemonClient';
import type { Deployment } from '../deployments/deploymentSchemas';
import type { WorkspaceTunnels } from '../tunnels/tunnelTypes';
import type { UpdateStatus } from '../updates/AppUpdates';
import type { WorkspaceSnapshot } from '../workspaces/WorkspaceState';
import type { TrayIcon, TrayItem, TrayMenu, WorkspaceActionKind } from './trayActions';

export interface TrayMenuInput {
  deployments: Deployment[];
  /** The active deployment's workspace state; undefined when signed in nowhere. */
  snapshot: WorkspaceSnapshot | undefined;
  tunnels: ReadonlyMap<string, WorkspaceTunnels>;
  /** The app's update state; undefined (or off) shows nothing. */
  updates?: UpdateStatus;
}

const STATUS_MARK: Record<string, string> = {
  running: '●',
  starting: '◐',
  pending: '◐',
  stopping: '◑',
  stopped: '○',
  failed: '✕',
  canceled: '○',
  canceling: '◑',
  deleting: '◑',
};

/**
 * The tray menu as data, from the deployments, the live workspace state and the tunnels: the
 * Electron layer turns it into a Menu and rebuilds it on every change. Pure, so every state the
 * tray can show is a plain test.
 */
export function buildTrayMenu(input: TrayMenuInput): TrayMenu {
  const active = input.deployments.find((deployment) => deployment.active);
  const snapshot = input.snapshot;
  const items: TrayItem[] = [];
  if (!active || !snapshot) {
    items.push({ type: 'label', label: 'Not signed in to a Warren server' });
    items.push({ type: 'action', label: 'Sign in…', action: { kind: 'openWindow' }, enabled: true });
  } else {
    items.push({ type: 'label', label: `${active.name} — ${connectionLabel(snapshot)}` });
    items.push({ type: 'separator' });
    if (snapshot.workspaces.length === 0 && snapshot.connection === 'connected')
      items.push({ type: 'label', label: 'No workspaces yet' });
    for (const workspace of snapshot.workspaces)
      items.push(workspaceSubmenu(workspace, snapshot, input.tunnels.get(workspace.name)));
    if (snapshot.chats && snapshot.chats.length > 0) {
      items.push({ type: 'separator' });
      items.push({
        type: 'submenu',
        label: 'Recent chats',
        items: snapshot.chats.map((chat) => ({
          type: 'action',
          label: chat.title ?? 'Untitled chat',
          action: { kind: 'openChat', chatId: chat.id },
          enabled: true,
        })),
      });
    }
  }
  if (input.deployments.length > 1) {
    items.push({ type: 'separator' });
    items.push({
      type: 'submenu',
      label: 'Switch server',
      items: input.deployments.map((deployment) => ({
        type: 'action',
        label: `${deployment.active ? '✓ ' : ''}${deployment.name}`,
        action: { kind: 'switchDeployment', deploymentId: deployment.id },
        enabled: !deployment.active,
      })),
    });
  }
  items.push({ type: 'separator' });
  items.push(...updateItems(input.updates, input.tunnels));
  items.push({ type: 'action', label: 'Open Warren', action: { kind: 'openWindow' }, enabled: true });
  items.push({ type: 'action', label: 'Quit Warren', action: { kind: 'quit' }, enabled: true });
  return { icon: trayIcon(active, snapshot), tooltip: tooltip(active, snapshot), items };
}

function updateItems(
  updates: UpdateStatus | undefined,
  tunnels: ReadonlyMap<string, WorkspaceTunnels>,
): TrayItem[] {
  switch (updates?.state) {
    case undefined:
    case 'off':
      return [];
    case 'idle':
    case 'failed':
      return [
        { type: 'action', label: 'Check for updates…', action: { kind: 'checkForUpdates' }, enabled: true },
      ];
    case 'checking':
      return [{ type: 'label', label: 'Checking for updates…' }];
    case 'downloading':
      return [{ type: 'label', label: `Downloading Warren ${updates.version}…` }];
    case 'ready': {
      // Restarting drops the forwarded ports: the label says whose, so the click is an informed one.
      const live = [...tunnels.values()].filter((t) => t.state !== 'off' && t.state !== 'failed');
      const names = live.map((t) => t.workspace);
      const closes =
        names.length === 0
          ? ''
          : names.length <= 2
            ? ` (closes the ports of ${names.join(' and ')})`
            : ` (closes the ports of ${names.length} workspaces)`;
      return [
        {
          type: 'action',
          label: `Restart to update to ${updates.version}${closes}`,
          action: { kind: 'restartToUpdate' },
          enabled: true,
        },
      ];
    }
  }
}

function workspaceSubmenu(
  workspace: WorkspaceView,
  snapshot: WorkspaceSnapshot,
  tunnels: WorkspaceTunnels | undefined,
): TrayItem {
  const name = workspace.name;
  const running = workspace.status === 'running';
  const ready = running && workspace.agent?.lifecycle === 'ready';
  const online = snapshot.connection === 'connected';
  const alias = sshHostAlias(workspace, snapshot.me ?? workspace.owner);
  const act = (label: string, kind: WorkspaceActionKind, enabled: boolean): TrayItem =>
    workspaceAction(label, kind, name, enabled && online);
  const items: TrayItem[] = [{ type: 'label', label: statusLine(workspace) }];
  if (running) items.push(act('Stop', 'stop', true));
  else items.push(act('Start', 'start', ['stopped', 'failed', 'canceled'].includes(workspace.status)));
  items.push({ type: 'separator' });
  const tunnelOn = tunnels !== undefined && tunnels.state !== 'off';
  items.push(
    tunnelOn ? act('Disconnect', 'disconnect', true) : act('Connect', 'connect', ready),
    act('Open terminal', 'openTerminal', ready),
    act('Open in VS Code', 'openInVsCode', ready),
    workspaceAction(`Copy SSH command (ssh ${alias})`, 'copySshCommand', name, true),
    workspaceAction('Open in browser', 'openInBrowser', name, true),
  );
  if (tunnels && tunnels.forwards.length > 0) {
    items.push({ type: 'separator' });
    items.push({ type: 'label', label: tunnelLine(tunnels) });
    for (const forward of tunnels.forwards)
      items.push({ type: 'label', label: `localhost:${forward.localPort} → port ${forward.remotePort}` });
    if (tunnels.notice) items.push({ type: 'label', label: tunnels.notice });
  }
  const mark = STATUS_MARK[workspace.status] ?? '○';
  const tunnelMark = tunnels?.state === 'connected' ? ' ⇄' : tunnels?.state === 'reconnecting' ? ' ⇄…' : '';
  return { type: 'submenu', label: `${mark} ${name}${tunnelMark}`, items };
}

function workspaceAction(
  label: string,
  kind: WorkspaceActionKind,
  workspace: string,
  enabled: boolean,
): TrayItem {
  return { type: 'action', label, action: { kind, workspace }, enabled };
}

function statusLine(workspace: WorkspaceView): string {
  if (workspace.status === 'running' && workspace.agent?.lifecycle !== 'ready')
    return `Running — agent ${workspace.agent?.lifecycle ?? 'not connected yet'}`;
  const status = workspace.status.charAt(0).toUpperCase() + workspace.status.slice(1);
  return workspace.status === 'failed' && workspace.latestBuild.error
    ? `Failed: ${workspace.latestBuild.error}`
    : status;
}

function tunnelLine(tunnels: WorkspaceTunnels): string {
  const over = tunnels.via === 'wireguard' ? ' over WireGuard' : '';
  switch (tunnels.state) {
    case 'off':
      return 'Ports (not connected)';
    case 'connecting':
      return `Ports — connecting${over}…`;
    case 'connected':
      return `Ports — forwarding${over}`;
    case 'reconnecting':
      return `Ports — reconnecting${over}${tunnels.detail ? ` (${tunnels.detail})` : ''}`;
    case 'failed':
      return `Ports — stopped: ${tunnels.detail ?? 'failed'}`;
  }
}

function connectionLabel(snapshot: WorkspaceSnapshot): string {
  switch (snapshot.connection) {
    case 'connected':
      return 'connected';
    case 'connecting':
      return 'connecting…';
    case 'reconnecting':
      return 'reconnecting…';
    case 'signed-out':
      return 'signed out';
  }
}

function trayIcon(active: Deployment | undefined, snapshot: WorkspaceSnapshot | undefined): TrayIcon {
  if (!active || !snapshot || snapshot.connection === 'signed-out') return 'tray-signed-out';
  if (snapshot.connection === 'connected') return 'tray-connected';
  return snapshot.connection === 'reconnecting' ? 'tray-offline' : 'tray-connecting';
}

function tooltip(active: Deployment | undefined, snapshot: WorkspaceSnapshot | undefined): string {
  if (!active || !snapshot) return 'Warren — not signed in';
  const running = snapshot.workspaces.filter((workspace) => workspace.status === 'running').length;
  const detail = snapshot.connection === 'connected' ? `${running} running` : connectionLabel(snapshot);
  return `Warren — ${active.name}: ${detail}`;
}
