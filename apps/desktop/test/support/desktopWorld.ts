import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DesktopMain, type DesktopMainOptions, type DesktopPlatform } from '../../src/main/DesktopMain';
import { silentLog } from '../../src/main/log/desktopLog';
import type { DesktopNotification } from '../../src/main/notifications/notifications';
import type { TrayItem } from '../../src/main/tray/trayActions';
import { memorySafeStorage } from './fakeSafeStorage';

export const PROXY_SCRIPT = path.resolve(import.meta.dirname, '..', '..', 'dist', 'warren-ssh-proxy.mjs');

/** What the desktop asked the OS to do, for assertions. */
export interface RecordingPlatform extends DesktopPlatform {
  opened: string[];
  copied: string[];
  terminals: string[];
  notifications: DesktopNotification[];
}

export function recordingPlatform(): RecordingPlatform {
  const platform: RecordingPlatform = {
    opened: [],
    copied: [],
    terminals: [],
    notifications: [],
    openExternal: (url) => void platform.opened.push(url),
    copyText: (text) => void platform.copied.push(text),
    openTerminal: (command) => void platform.terminals.push(command),
    notify: (notification) => void platform.notifications.push(notification),
    openWindow: (route) => void platform.opened.push(`window:${route ?? '/'}`),
    quit: () => {},
  };
  return platform;
}

/** A DesktopMain over temp userData and ~/.ssh dirs, with OpenSSH's ProxyCommand run by this Node. */
export function desktopMain(
  options: Pick<DesktopMainOptions, 'wireguard' | 'updates'> & Partial<Pick<DesktopMainOptions, 'log'>> = {},
) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-desktop-home-'));
  const platform = recordingPlatform();
  const main = new DesktopMain({
    userDataDir: path.join(home, 'userData'),
    sshDir: path.join(home, '.ssh'),
    safeStorage: memorySafeStorage(),
    platform,
    proxy: { runtime: process.execPath, script: PROXY_SCRIPT },
    ...options,
    log: options.log ?? silentLog,
  });
  return {
    main,
    platform,
    home,
    sshDir: path.join(home, '.ssh'),
    async close() {
      await main.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A workspace's submenu in the tray, or undefined. */
export function workspaceItem(
  items: TrayItem[],
  name: string,
): Extract<TrayItem, { type: 'submenu' }> | undefined {
  return items.find(
    (item): item is Extract<TrayItem, { type: 'submenu' }> =>
      item.type === 'submenu' && item.label.split(' ')[1] === name,
  );
}

export function actionItem(items: TrayItem[], label: string) {
  return items.find(
    (item): item is Extract<TrayItem, { type: 'action' }> =>
      item.type === 'action' && item.label.startsWith(label),
  );
}
