import { EventEmitter } from 'node:events';
import { WarrenError } from '@warren/core';
import type { Logger } from '../log/desktopLog';
import type { DesktopNotification } from '../notifications/notifications';

/** What electron-updater's logger option takes: its own lines go to the desktop's redacted log. */
export interface UpdaterLogger {
  info(message?: unknown): void;
  warn(message?: unknown): void;
  error(message?: unknown): void;
  debug?(message: string): void;
}

/**
 * The part of electron-updater's `AppUpdater` that Warren drives. The Electron layer passes the
 * real `autoUpdater`, which reads its feed from app-update.yml (electron-builder.yml `publish`).
 */
export interface Updater {
  autoDownload: boolean;
  autoInstallOnAppQuit: boolean;
  logger: UpdaterLogger | null;
  /** Null when this copy cannot update itself (an AppImage started outside AppImage, say). */
  checkForUpdates(): Promise<{ downloadPromise?: Promise<unknown> | null } | null>;
  quitAndInstall(isSilent?: boolean, isForceRunAfter?: boolean): void;
  on(
    event: 'update-available' | 'update-not-available' | 'update-downloaded',
    listener: (info: { version: string }) => void,
  ): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export type UpdateSetting = { on: true } | { on: false; reason: string };

/** What the tray shows about updates. */
export type UpdateStatus =
  | { state: 'off'; reason: string }
  | { state: 'idle' }
  | { state: 'checking' }
  | { state: 'downloading'; version: string }
  | { state: 'ready'; version: string }
  | { state: 'failed'; error: string };

export interface AppUpdatesOptions {
  setting: UpdateSetting;
  /** Called once, at the first check: the real autoUpdater is only created when updates are on. */
  updater: () => Updater;
  log: Logger;
  notify(notification: DesktopNotification): void;
  /** The first check waits this long after start, so it does not compete with signing in. */
  firstCheckMs?: number;
  everyMs?: number;
}

export interface AppUpdatesEvents {
  change: [];
}

const FIRST_CHECK_MS = 10_000;
const EVERY_MS = 4 * 60 * 60_000;
const OFF_VALUES = new Set(['off', '0', 'false', 'no']);

/** Updates are on in the installed app unless WARREN_DESKTOP_UPDATES=off (or 0, false, no). */
export function updateSetting(input: {
  packaged: boolean;
  env: Record<string, string | undefined>;
}): UpdateSetting {
  const value = input.env.WARREN_DESKTOP_UPDATES?.trim().toLowerCase();
  if (value !== undefined && OFF_VALUES.has(value))
    return { on: false, reason: 'Update checks are off (WARREN_DESKTOP_UPDATES).' };
  if (!input.packaged) return { on: false, reason: 'Update checks run only in the installed app.' };
  return { on: true };
}

/**
 * Keeps the desktop up to date the way an editor or a VPN client does: a check a little after
 * start and every few hours, the download in the background, then "Restart to update" in the tray
 * and one notification. It never restarts Warren by itself: a person may be in the middle of an
 * SSH session or a forwarded port, so the update waits for their click, or for the next quit.
 * Failures are logged and retried at the next check; none reaches the app.
 */
export class AppUpdates extends EventEmitter<AppUpdatesEvents> {
  #status: UpdateStatus;
  #updater: Updater | undefined;
  #first: NodeJS.Timeout | undefined;
  #every: NodeJS.Timeout | undefined;
  /** The person asked for this check from the tray, so they hear how it went. */
  #manual = false;
  #announced: string | undefined;

  constructor(private readonly options: AppUpdatesOptions) {
    super();
    this.#status = options.setting.on ? { state: 'idle' } : { state: 'off', reason: options.setting.reason };
  }

  status(): UpdateStatus {
    return this.#status;
  }

  start(): void {
    if (this.#status.state === 'off' || this.#first) return;
    this.#first = setTimeout(() => {
      void this.check();
      this.#every = setInterval(() => void this.check(), this.options.everyMs ?? EVERY_MS);
      this.#every.unref();
    }, this.options.firstCheckMs ?? FIRST_CHECK_MS);
    this.#first.unref();
  }

  stop(): void {
    clearTimeout(this.#first);
    clearInterval(this.#every);
  }

  /**
   * Asks the feed; a newer version downloads in the background. Nothing happens while a check or
   * a download runs, or once an update waits for a restart.
   */
  async check(options: { manual?: boolean } = {}): Promise<void> {
    if (this.#status.state !== 'idle' && this.#status.state !== 'failed') return;
    const updater = this.#ensureUpdater();
    if (!updater) return;
    this.#manual = options.manual ?? false;
    this.#set({ state: 'checking' });
    try {
      const result = await updater.checkForUpdates();
      // A failed download is reported as an 'error' event; its promise must not go unhandled.
      result?.downloadPromise?.catch(() => {});
      // Events moved the state on while the promise settled (a method call: TS would narrow a field).
      if (this.status().state !== 'checking') return;
      if (result === null)
        this.#turnOff('This copy of Warren cannot update itself; updates come with its installer.');
      else this.#set({ state: 'idle' });
    } catch (error) {
      // electron-updater also emits 'error' for this; log it once.
      if (this.status().state === 'checking') this.#fail(error as Error);
    }
  }

  /** The tray's "Restart to update": the installer runs quietly and Warren starts again. */
  restartToUpdate(): void {
    const status = this.#status;
    if (status.state !== 'ready' || !this.#updater)
      throw new WarrenError('CONFLICT', 'No update has been downloaded yet.');
    this.options.log.info('restarting to update', { version: status.version });
    try {
      // Silent: the installer reuses the install's folder instead of showing its wizard again.
      this.#updater.quitAndInstall(true, true);
    } catch (error) {
      this.#fail(error as Error);
    }
  }

  #ensureUpdater(): Updater | undefined {
    if (this.#updater) return this.#updater;
    try {
      const updater = this.options.updater();
      updater.logger = updaterLogger(this.options.log);
      updater.autoDownload = true;
      // A downloaded update is installed when the person quits anyway, never under their work.
      updater.autoInstallOnAppQuit = true;
      updater.on('update-available', (info) => this.#set({ state: 'downloading', version: info.version }));
      updater.on('update-not-available', () => this.#upToDate());
      updater.on('update-downloaded', (info) => this.#ready(info.version));
      updater.on('error', (error) => this.#fail(error));
      this.#updater = updater;
      return updater;
    } catch (error) {
      this.options.log.warn('the updater could not start', { error: (error as Error).message });
      this.#turnOff('The updater could not start; see the log.');
      return undefined;
    }
  }

  #upToDate(): void {
    this.#set({ state: 'idle' });
    if (this.#manual)
      this.options.notify({
        kind: 'updates',
        title: 'Warren is up to date',
        body: 'There is no newer version on the update server.',
      });
  }

  #ready(version: string): void {
    this.#set({ state: 'ready', version });
    if (this.#announced === version) return;
    this.#announced = version;
    this.options.log.info('update downloaded', { version });
    this.options.notify({
      kind: 'updateReady',
      version,
      title: `Warren ${version} is ready`,
      body: 'Choose "Restart to update" in the tray when it suits you; otherwise it installs when Warren quits.',
    });
  }

  #fail(error: Error): void {
    this.options.log.warn('update check failed', { error: error.message });
    this.#set({ state: 'failed', error: error.message.split('\n')[0] ?? 'failed' });
    if (this.#manual)
      this.options.notify({
        kind: 'updates',
        title: 'Warren could not check for updates',
        body: 'The update server could not be read; the details are in the log. Warren tries again later.',
      });
  }

  #turnOff(reason: string): void {
    this.stop();
    this.#set({ state: 'off', reason });
  }

  #set(status: UpdateStatus): void {
    this.#status = status;
    this.emit('change');
  }
}

/** electron-updater's own lines (what it fetched, what it found) into the redacted log. */
function updaterLogger(log: Logger): UpdaterLogger {
  const line = (message: unknown) => `updater: ${String(message)}`;
  return {
    info: (message) => log.info(line(message)),
    warn: (message) => log.warn(line(message)),
    error: (message) => log.warn(line(message)),
    debug: (message) => log.debug(line(message)),
  };
}
