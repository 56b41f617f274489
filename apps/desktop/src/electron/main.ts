/**
 * Electron's main process: thin glue from Electron's APIs to DesktopMain, which holds the logic
 * and is tested in Node. Tray (works with every window closed), one window with the screens over
 * IPC, deep links, single instance, start at login, notifications, and a redacted log file.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tuneHeapForStreaming } from '@warren/core/node';
import {
  app,
  BrowserWindow,
  clipboard,
  ipcMain,
  Menu,
  type MenuItemConstructorOptions,
  Notification,
  nativeImage,
  safeStorage,
  shell,
  Tray,
} from 'electron';
import { autoUpdater } from 'electron-updater';
import { DesktopMain } from '../main/DesktopMain';
import { deepLinkFromArgv, parseDeepLink } from '../main/deepLinks/deepLink';
import { electronIpcPort } from '../main/ipc/ipcPorts';
import { DesktopLog } from '../main/log/desktopLog';
import { terminalCommand } from '../main/platform/terminalCommand';
import type { TrayItem, TrayMenu } from '../main/tray/trayActions';
import { updateSetting } from '../main/updates/AppUpdates';

const API_PORT_CHANNEL = 'warren:api-port';
const resources = app.isPackaged ? process.resourcesPath : path.join(app.getAppPath(), 'build');
const dist = path.join(app.getAppPath(), 'dist');
// OpenSSH starts the proxy script with the app binary as plain Node, which may not load an ES
// module from inside app.asar: electron-builder.yml unpacks it next to the archive.
const proxyScript = path.join(
  app.isPackaged ? path.join(`${app.getAppPath()}.unpacked`, 'dist') : dist,
  'warren-ssh-proxy.mjs',
);

if (!app.requestSingleInstanceLock()) {
  // Another Warren is running: it receives our argv (a deep link, say) through 'second-instance'.
  app.quit();
} else {
  void run();
}

async function run(): Promise<void> {
  // The main process carries forwards and SSH sessions through the relay.
  tuneHeapForStreaming();
  app.setAsDefaultProtocolClient('warren');
  fs.mkdirSync(app.getPath('logs'), { recursive: true });
  const log = new DesktopLog(
    fs.createWriteStream(path.join(app.getPath('logs'), 'main.log'), { flags: 'a' }),
  );
  let window: BrowserWindow | undefined;
  let tray: Tray | undefined;

  const openWindow = (route = '/') => {
    if (!window || window.isDestroyed()) {
      window = new BrowserWindow({
        width: 1200,
        height: 800,
        title: 'Warren',
        show: false,
        webPreferences: { preload: path.join(dist, 'preload.cjs'), contextIsolation: true, sandbox: true },
      });
      window.webContents.setWindowOpenHandler(({ url }) => {
        if (/^https?:\/\//.test(url)) void shell.openExternal(url);
        return { action: 'deny' };
      });
      window.on('ready-to-show', () => window?.show());
      window.on('closed', () => {
        window = undefined;
      });
      void window.loadFile(rendererPage(), { hash: route });
      return;
    }
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
  };

  const main = new DesktopMain({
    userDataDir: app.getPath('userData'),
    sshDir: path.join(app.getPath('home'), '.ssh'),
    safeStorage,
    log,
    // OpenSSH runs this app's own binary as plain Node to carry SSH bytes to the running app.
    proxy: {
      runtime: process.execPath,
      script: proxyScript,
      env: { ELECTRON_RUN_AS_NODE: '1' },
    },
    // WireGuard mode's helper: wireguard-go from PATH, or where WARREN_WIREGUARD_GO says.
    wireguard: process.env.WARREN_WIREGUARD_GO ? { binary: process.env.WARREN_WIREGUARD_GO } : {},
    // electron-updater reads the feed from resources/app-update.yml (electron-builder.yml `publish`);
    // it is only created when updates are on (packaged, and WARREN_DESKTOP_UPDATES is not off).
    updates: {
      setting: updateSetting({ packaged: app.isPackaged, env: process.env }),
      updater: () => autoUpdater,
    },
    platform: {
      openExternal: (url) => void shell.openExternal(url),
      copyText: (text) => clipboard.writeText(text),
      openTerminal: (command) => {
        const { file, args } = terminalCommand(
          process.platform,
          command,
          (binary) => spawnSync('which', [binary]).status === 0,
        );
        spawn(file, args, { detached: true, stdio: 'ignore' }).unref();
      },
      notify: (notification) => {
        if (!Notification.isSupported()) return;
        const shown = new Notification({ title: notification.title, body: notification.body });
        shown.on('click', () => openWindow());
        shown.show();
      },
      openWindow,
      quit: () => app.quit(),
    },
  });

  // On macOS a link that launches the app arrives (open-url) before the app is ready: links wait
  // until the saved deployment is open, or they would all read "sign in first".
  let started: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    started = resolve;
  });
  const followLink = (link: string | undefined) => {
    if (!link) return;
    void ready.then(() => main.followDeepLink(parseDeepLink(link))).catch((error: Error) => showError(error));
  };
  const showError = (error: Error) => {
    log.warn('action failed', { error: error.message });
    if (Notification.isSupported()) new Notification({ title: 'Warren', body: error.message }).show();
  };

  app.on('second-instance', (_event, argv) => {
    const link = deepLinkFromArgv(argv);
    if (link) followLink(link);
    else openWindow();
  });
  app.on('open-url', (event, url) => {
    event.preventDefault();
    followLink(url);
  });
  // The tray keeps the app alive with every window closed.
  app.on('window-all-closed', () => {});
  // Quitting waits for the tunnels and the WireGuard device to go (unregistered, interface removed).
  let quitting: 'no' | 'closing' | 'closed' = 'no';
  app.on('before-quit', (event) => {
    if (quitting === 'closed') return;
    event.preventDefault();
    if (quitting === 'closing') return;
    quitting = 'closing';
    void main
      .close()
      .catch((error: Error) => log.warn('closing failed', { error: error.message }))
      .finally(() => {
        quitting = 'closed';
        app.quit();
      });
  });

  await app.whenReady();
  // Each renderer hands the main process one end of a MessageChannel; tRPC runs over it.
  const ipc = main.ipcServer();
  ipcMain.on(API_PORT_CHANNEL, (event) => {
    const [port] = event.ports;
    if (port) ipc.attach(electronIpcPort(port));
  });

  tray = new Tray(trayImage('tray-signed-out'));
  const render = (menu: TrayMenu) => {
    tray?.setImage(trayImage(menu.icon));
    tray?.setToolTip(menu.tooltip);
    tray?.setContextMenu(Menu.buildFromTemplate(menu.items.map(toMenuItem)));
  };
  const toMenuItem = (item: TrayItem): MenuItemConstructorOptions => {
    switch (item.type) {
      case 'separator':
        return { type: 'separator' };
      case 'label':
        return { label: item.label, enabled: false };
      case 'submenu':
        return { label: item.label, submenu: item.items.map(toMenuItem) };
      case 'action':
        return {
          label: item.label,
          enabled: item.enabled,
          click: () => void main.perform(item.action).catch((error: Error) => showError(error)),
        };
    }
  };
  main.on('change', () => render(main.trayMenu()));
  await main.start();
  render(main.trayMenu());
  started();

  // First launch: start at login, as a tray app should; a person's later choice in the OS wins.
  const firstRun = path.join(app.getPath('userData'), '.launched');
  if (!fs.existsSync(firstRun)) {
    app.setLoginItemSettings({ openAtLogin: true, openAsHidden: true });
    fs.writeFileSync(firstRun, new Date().toISOString());
    openWindow();
  }
  followLink(deepLinkFromArgv(process.argv));
}

function trayImage(name: string) {
  const image = nativeImage.createFromPath(path.join(resources, 'tray', `${name}.png`));
  // macOS tints template images for light and dark menu bars.
  if (process.platform === 'darwin') image.setTemplateImage(true);
  return image;
}

/** The screens' page (packages/ui built for the desktop), or a note until they are built. */
function rendererPage(): string {
  const built = path.join(dist, 'renderer', 'index.html');
  return fs.existsSync(built) ? built : path.join(resources, 'placeholder.html');
}
