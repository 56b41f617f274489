import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonClient } from '../src/main/api/daemonClient';
import { parseDeepLink } from '../src/main/deepLinks/deepLink';
import { DaemonProcess, untilRunning, waitFor } from './support/daemonProcess';
import { actionItem, desktopMain, workspaceItem } from './support/desktopWorld';

const openSshAvailable = (() => {
  try {
    return fs.existsSync('/usr/bin/ssh') || fs.existsSync('/usr/local/bin/ssh');
  } catch {
    return false;
  }
})();

function ssh(
  config: string,
  host: string,
  command: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'ssh',
      ['-F', config, '-o', 'BatchMode=yes', host, command],
      { timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('the desktop against a real daemon', () => {
  let daemon: DaemonProcess;
  let token: string;
  let api: DaemonClient;
  let world: ReturnType<typeof desktopMain>;

  beforeAll(async () => {
    daemon = await DaemonProcess.start();
    token = (await daemon.owner()).token;
    api = daemon.client(token);
    await api.workspaces.create.mutate({
      name: 'dev',
      template: 'local',
      parameters: { file_server: false },
    });
    world = desktopMain();
    await world.main.start();
  });
  afterAll(async () => {
    await api?.workspaces.stop.mutate({ name: 'dev' }).catch(() => {});
    await waitFor('dev to stop', async () =>
      (await api.workspaces.get.query({ name: 'dev' })).status === 'stopped' ? true : undefined,
    ).catch(() => {});
    await world?.close();
    await daemon?.close();
  });

  it('signs in with a pasted token, refusing a wrong one, and keeps the token out of what it shows', async () => {
    await expect(
      world.main.addDeployment({ url: daemon.url, token: 'wrn_not_a_real_token_123' }),
    ).rejects.toThrow(/Could not sign in to http:\/\/127\.0\.0\.1/);
    expect(world.main.deployments.list()).toEqual([]);
    const deployment = await world.main.addDeployment({ url: `${daemon.url}/`, token, name: 'Laptop' });
    expect(deployment).toMatchObject({ name: 'Laptop', url: daemon.url, active: true });
    expect(JSON.stringify(world.main.trayMenu())).not.toContain(token);
    expect(fs.readFileSync(world.main.deployments.file, 'utf8')).not.toContain(token);
  });

  it('the tray shows the workspace going from stopped to running, live through the subscription', async () => {
    const state = world.main.workspaceState();
    await untilRunning(api, 'dev');
    await api.workspaces.stop.mutate({ name: 'dev' });
    await state?.until((s) => s.workspaces.some((w) => w.name === 'dev' && w.status === 'stopped'));
    let menu = world.main.trayMenu();
    expect(menu.icon).toBe('tray-connected');
    const stopped = workspaceItem(menu.items, 'dev');
    expect(stopped?.label).toBe('○ dev');
    expect(actionItem(stopped?.items ?? [], 'Start')?.enabled).toBe(true);
    expect(actionItem(stopped?.items ?? [], 'Connect')?.enabled).toBe(false);

    // Started from the tray itself; the menu follows the daemon's events, no polling.
    const start = actionItem(stopped?.items ?? [], 'Start');
    if (!start) throw new Error('no Start item');
    await world.main.perform(start.action);
    await state?.until((s) =>
      s.workspaces.some((w) => w.name === 'dev' && w.status === 'running' && w.agent?.lifecycle === 'ready'),
    );
    menu = world.main.trayMenu();
    const running = workspaceItem(menu.items, 'dev');
    expect(running?.label).toBe('● dev');
    expect(actionItem(running?.items ?? [], 'Stop')?.enabled).toBe(true);
    expect(actionItem(running?.items ?? [], 'Open in VS Code')?.enabled).toBe(true);
    expect(menu.tooltip).toBe('Warren — Laptop: 1 running');
    expect(world.platform.notifications.map((n) => n.title)).toContain('dev is ready');
  });

  it('writes an SSH include file that real OpenSSH uses to run a command in the workspace', async () => {
    if (!openSshAvailable) return void console.warn('skipped: OpenSSH (ssh) is not installed here');
    const userConfig = path.join(world.sshDir, 'config');
    fs.mkdirSync(world.sshDir, { recursive: true });
    fs.writeFileSync(userConfig, 'Host example\n  HostName example.com\n', { mode: 0o600 });
    world.main.syncSshConfig();
    const config = fs.readFileSync(userConfig, 'utf8');
    expect(config.split('\n')[0]).toBe(`Include "${path.join(world.sshDir, 'warren-desktop.config')}"`);
    expect(config).toContain('Host example\n  HostName example.com\n');
    world.main.syncSshConfig();
    expect(fs.readFileSync(userConfig, 'utf8')).toBe(config);

    const result = await ssh(userConfig, 'warren.dev', 'echo "hello from $(whoami)"; exit 3');
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toMatch(/^hello from /);
    expect(result.code).toBe(3);
  });

  it('copy SSH command, open in VS Code and open in browser hand the OS the right strings', async () => {
    const items = workspaceItem(world.main.trayMenu().items, 'dev')?.items ?? [];
    for (const label of ['Copy SSH command', 'Open in VS Code', 'Open in browser']) {
      const item = actionItem(items, label);
      if (!item) throw new Error(`no ${label} item`);
      await world.main.perform(item.action);
    }
    expect(world.platform.copied).toEqual(['ssh warren.dev']);
    expect(world.platform.opened[0]).toMatch(/^vscode:\/\/vscode-remote\/ssh-remote\+warren\.dev\/.+/);
    expect(world.platform.opened[1]).toBe(`${daemon.url}/workspaces/owner/dev`);
  });

  it('a deleted workspace leaves the tray and the SSH config', async () => {
    await api.workspaces.create.mutate({
      name: 'scratch',
      template: 'local',
      parameters: { file_server: false },
    });
    const state = world.main.workspaceState();
    await state?.until((s) => s.workspaces.some((w) => w.name === 'scratch'));
    world.main.syncSshConfig();
    const include = path.join(world.sshDir, 'warren-desktop.config');
    expect(fs.readFileSync(include, 'utf8')).toContain('Host warren.scratch');
    await untilRunning(api, 'scratch');
    await api.workspaces.delete.mutate({ name: 'scratch' });
    await state?.until((s) => !s.workspaces.some((w) => w.name === 'scratch'));
    expect(workspaceItem(world.main.trayMenu().items, 'scratch')).toBeUndefined();
    await waitFor('the include file to drop scratch', () =>
      fs.readFileSync(include, 'utf8').includes('warren.scratch') ? undefined : true,
    );
  });

  it('a deep link naming another saved server switches to it and opens the workspace in VS Code', async () => {
    const other = await DaemonProcess.start();
    try {
      await world.main.addDeployment({ url: other.url, token: (await other.owner()).token, name: 'Other' });
      await world.main.workspaceState()?.until((s) => s.connection === 'connected');
      let menu = world.main.trayMenu();
      expect(menu.tooltip).toBe('Warren — Other: 0 running');
      expect(workspaceItem(menu.items, 'dev')).toBeUndefined();
      const servers = menu.items.find((item) => item.type === 'submenu' && item.label === 'Switch server');
      expect(servers).toMatchObject({ items: [{ label: 'Laptop', enabled: true }, { label: '✓ Other' }] });

      world.platform.opened.length = 0;
      const link = `warren://open?workspace=dev&deployment=${encodeURIComponent(`${daemon.url}/`)}&action=vscode`;
      await world.main.followDeepLink(parseDeepLink(link));
      expect(world.main.deployments.active()?.name).toBe('Laptop');
      menu = world.main.trayMenu();
      expect(workspaceItem(menu.items, 'dev')?.label).toBe('● dev');
      expect(world.platform.opened).toEqual([
        expect.stringMatching(/^vscode:\/\/vscode-remote\/ssh-remote\+warren\.dev\/.+/),
      ]);

      await expect(world.main.followDeepLink(parseDeepLink('warren://open?workspace=nope'))).rejects.toThrow(
        'There is no workspace named "nope".',
      );
      await expect(
        world.main.followDeepLink(
          parseDeepLink('warren://open?workspace=dev&deployment=https%3A%2F%2Felsewhere.example'),
        ),
      ).rejects.toThrow('This desktop is not signed in to https://elsewhere.example; sign in to it first.');
      expect(world.main.deployments.active()?.name).toBe('Laptop');
    } finally {
      await other.close();
    }
  });
});
