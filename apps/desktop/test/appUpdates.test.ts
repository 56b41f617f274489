import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DesktopLog } from '../src/main/log/desktopLog';
import type { TrayItem } from '../src/main/tray/trayActions';
import { AppUpdates, type Updater, type UpdaterLogger, updateSetting } from '../src/main/updates/AppUpdates';
import { actionItem, desktopMain } from './support/desktopWorld';
import { appImageUpdater, type UpdateFeed, updateFeed } from './support/updateFeed';

let dir: string;
let feed: UpdateFeed;
let cleanup: (() => Promise<void>)[] = [];

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-updates-'));
  feed = await updateFeed();
});
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
  await feed.close();
  fs.rmSync(dir, { recursive: true, force: true });
  delete process.env.APPIMAGE;
});

/** The desktop's real JSON-lines log, written to memory. */
function memoryLog() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  return { log: new DesktopLog(out), text: () => text };
}

/** A DesktopMain whose updates come from electron-updater's AppImageUpdater reading `feed`. */
async function desktopWithUpdates(options: { firstCheckMs: number; everyMs?: number; log?: DesktopLog }) {
  const world = desktopMain({
    log: options.log,
    updates: {
      setting: updateSetting({ packaged: true, env: {} }),
      updater: () => appImageUpdater({ feed: feed.url, dir, version: '0.1.0' }),
      firstCheckMs: options.firstCheckMs,
      everyMs: options.everyMs ?? 60 * 60_000,
    },
  });
  cleanup.push(() => world.close());
  await world.main.start();
  return world;
}

const updateLabels = (items: TrayItem[]) =>
  items
    .filter((item) => item.type !== 'separator' && item.type !== 'submenu')
    .map((item) => (item as { label: string }).label)
    .filter((label) => /update|Warren \d/i.test(label));

describe('app updates with electron-updater against a real update feed', () => {
  it('checks a little after start, downloads in the background, then offers "Restart to update" in the tray and once as a notification', async () => {
    const release = randomBytes(300_000);
    feed.publish('1.2.3', release);
    const world = await desktopWithUpdates({ firstCheckMs: 300 });
    // Nothing is fetched at start: the first check waits, so it does not compete with signing in.
    expect(feed.requests).toEqual([]);
    expect(updateLabels(world.main.trayMenu().items)).toEqual(['Check for updates…']);

    await vi.waitFor(
      () => expect(updateLabels(world.main.trayMenu().items)).toEqual(['Restart to update to 1.2.3']),
      { timeout: 20_000, interval: 50 },
    );
    expect(actionItem(world.main.trayMenu().items, 'Restart to update')?.action).toEqual({
      kind: 'restartToUpdate',
    });
    expect(world.platform.notifications).toEqual([
      expect.objectContaining({ kind: 'updateReady', version: '1.2.3', title: 'Warren 1.2.3 is ready' }),
    ]);
    const pending = path.join(dir, 'cache', 'warren-updater', 'pending', 'Warren-1.2.3.AppImage');
    expect(fs.readFileSync(pending).equals(release)).toBe(true);

    // What the update server hears: the feed file, the AppImage, and nothing that signs anyone in.
    expect(feed.requests.map((r) => r.url.split('?')[0])).toEqual([
      '/latest-linux.yml',
      '/Warren-1.2.3.AppImage',
    ]);
    const sent = new Set(feed.requests.flatMap((r) => Object.keys(r.headers)));
    expect([...sent].filter((header) => !SENT_HEADERS.has(header))).toEqual([]);
    expect(feed.requests[0]?.headers['x-user-staging-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a check from the tray says "up to date"; the scheduled checks stay quiet', async () => {
    feed.publish('0.1.0', randomBytes(1000));
    const world = await desktopWithUpdates({ firstCheckMs: 50 });
    await vi.waitFor(() => expect(feed.requests.length).toBe(1), { timeout: 20_000, interval: 50 });
    await vi.waitFor(() => expect(updateLabels(world.main.trayMenu().items)).toEqual(['Check for updates…']));
    expect(world.platform.notifications).toEqual([]);

    await world.main.perform({ kind: 'checkForUpdates' });
    expect(world.platform.notifications).toEqual([
      expect.objectContaining({ kind: 'updates', title: 'Warren is up to date' }),
    ]);
    expect(feed.requests.length).toBe(2);
  });

  it('a failing update server is logged with secrets scrubbed, never reaches the app, and the next check gets the update', async () => {
    const { log, text } = memoryLog();
    const token = 'wrn_deploytoken_0123456789abcdef';
    log.hide(token);
    // A proxy in front of the feed that echoes what it saw, secrets included, into its error page.
    feed.fail(502, `upstream said no; it saw Authorization: Bearer sk-live-abcdef0123456789 and ${token}`);
    const world = await desktopWithUpdates({ firstCheckMs: 60 * 60_000, log });

    await world.main.perform({ kind: 'checkForUpdates' });
    expect(world.platform.notifications).toEqual([
      expect.objectContaining({ kind: 'updates', title: 'Warren could not check for updates' }),
    ]);
    expect(updateLabels(world.main.trayMenu().items)).toEqual(['Check for updates…']);
    const written = text();
    // electron-updater's own lines go to the same redacted log, not to the console.
    expect(written).toContain('"msg":"updater: Checking for update"');
    expect(written).toContain('"msg":"update check failed"');
    expect(written).toContain('502');
    expect(written).not.toContain('sk-live-abcdef0123456789');
    expect(written).not.toContain(token);
    expect(written).toContain('[redacted]');

    feed.publish('1.2.3', randomBytes(5000));
    await world.main.perform({ kind: 'checkForUpdates' });
    await vi.waitFor(
      () => expect(updateLabels(world.main.trayMenu().items)).toEqual(['Restart to update to 1.2.3']),
      { timeout: 20_000, interval: 50 },
    );
  });

  it('a download that fails its checksum is never offered: it is logged, and the next check starts over', async () => {
    const { log, text } = memoryLog();
    const release = randomBytes(20_000);
    feed.publish('1.2.3', release, randomBytes(20_000));
    const world = await desktopWithUpdates({ firstCheckMs: 60 * 60_000, log });
    await world.main.perform({ kind: 'checkForUpdates' });
    await vi.waitFor(() => expect(text()).toContain('"msg":"update check failed"'), {
      timeout: 20_000,
      interval: 50,
    });
    expect(text()).toContain('sha512 checksum mismatch');
    expect(updateLabels(world.main.trayMenu().items)).toEqual(['Check for updates…']);
    expect(world.platform.notifications.filter((n) => n.kind === 'updateReady')).toEqual([]);

    feed.publish('1.2.3', release);
    await world.main.perform({ kind: 'checkForUpdates' });
    await vi.waitFor(
      () => expect(updateLabels(world.main.trayMenu().items)).toEqual(['Restart to update to 1.2.3']),
      { timeout: 20_000, interval: 50 },
    );
  });
});

/** What electron-updater sends: its agent, cache busting, and a random per-install staging id. */
const SENT_HEADERS = new Set([
  'accept',
  'cache-control',
  'connection',
  'host',
  'user-agent',
  'x-user-staging-id',
]);

/**
 * The stand-in for electron-updater where the real one cannot go in Node: quitAndInstall, which
 * asks Electron's own autoUpdater to quit. It answers checks from a script of versions.
 */
class ScriptedUpdater extends EventEmitter implements Updater {
  autoDownload = false;
  autoInstallOnAppQuit = false;
  logger: UpdaterLogger | null = null;
  checks = 0;
  running = 0;
  mostAtOnce = 0;
  restarts: unknown[][] = [];

  /** `versions[i]` answers the i-th check; the last one answers every later check. */
  constructor(
    private readonly versions: (string | Error)[],
    private readonly checkMs = 0,
  ) {
    super();
  }

  async checkForUpdates() {
    const answer = this.versions[Math.min(this.checks, this.versions.length - 1)];
    this.checks += 1;
    this.running += 1;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.running);
    await new Promise((resolve) => setTimeout(resolve, this.checkMs));
    this.running -= 1;
    if (answer instanceof Error) throw answer;
    if (answer === '0.1.0') {
      this.emit('update-not-available', { version: answer });
      return { downloadPromise: null };
    }
    this.emit('update-available', { version: answer });
    const downloadPromise = new Promise<void>((resolve) =>
      setTimeout(() => {
        this.emit('update-downloaded', { version: answer });
        resolve();
      }, 30),
    );
    return { downloadPromise };
  }

  quitAndInstall(...args: unknown[]) {
    this.restarts.push(args);
  }
}

describe('when updates check and when they restart', () => {
  it('is off when not installed or when WARREN_DESKTOP_UPDATES=off: no updater, no check, nothing in the tray', async () => {
    expect(updateSetting({ packaged: false, env: {} })).toEqual({
      on: false,
      reason: 'Update checks run only in the installed app.',
    });
    expect(updateSetting({ packaged: true, env: { WARREN_DESKTOP_UPDATES: 'off' } }).on).toBe(false);
    expect(updateSetting({ packaged: true, env: { WARREN_DESKTOP_UPDATES: 'FALSE' } }).on).toBe(false);
    expect(updateSetting({ packaged: true, env: { WARREN_DESKTOP_UPDATES: 'on' } }).on).toBe(true);

    let created = 0;
    const world = desktopMain({
      updates: {
        setting: updateSetting({ packaged: true, env: { WARREN_DESKTOP_UPDATES: 'off' } }),
        updater: () => {
          created += 1;
          return new ScriptedUpdater(['1.2.3']);
        },
        firstCheckMs: 10,
        everyMs: 10,
      },
    });
    cleanup.push(() => world.close());
    await world.main.start();
    await world.main.perform({ kind: 'checkForUpdates' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(created).toBe(0);
    expect(updateLabels(world.main.trayMenu().items)).toEqual([]);
  });

  it('checks on its schedule one at a time; a downloaded update never restarts Warren by itself, and the tray click restarts it quietly', async () => {
    const updater = new ScriptedUpdater(['0.1.0', '0.1.0', '1.2.3'], 60);
    const world = desktopMain({
      updates: {
        setting: { on: true },
        updater: () => updater,
        firstCheckMs: 20,
        // Shorter than a check: a tick while one runs must not start another.
        everyMs: 25,
      },
    });
    cleanup.push(() => world.close());
    await world.main.start();
    await vi.waitFor(
      () => expect(updateLabels(world.main.trayMenu().items)).toEqual(['Restart to update to 1.2.3']),
      { timeout: 10_000, interval: 20 },
    );
    expect(updater.checks).toBe(3);
    expect(updater.mostAtOnce).toBe(1);
    // A downloaded update also goes in when the person quits Warren on their own.
    expect(updater.autoInstallOnAppQuit).toBe(true);

    // Hours in this schedule: no more checks, and no restart under the person's work.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(updater.checks).toBe(3);
    expect(updater.restarts).toEqual([]);
    expect(world.platform.notifications.filter((n) => n.kind === 'updateReady')).toHaveLength(1);

    await world.main.perform({ kind: 'restartToUpdate' });
    // Silent install (no installer wizard again), and Warren starts after it.
    expect(updater.restarts).toEqual([[true, true]]);
  });

  it('an updater that cannot start, or a check that throws, is logged and never reaches the app', async () => {
    const { log, text } = memoryLog();
    const broken = new AppUpdates({
      setting: { on: true },
      updater: () => {
        throw new Error('App version is not a valid semver version: "dev"');
      },
      log,
      notify: () => {},
    });
    await broken.check();
    expect(broken.status()).toEqual({ state: 'off', reason: 'The updater could not start; see the log.' });
    expect(text()).toContain('App version is not a valid semver version');

    const notified: string[] = [];
    const flaky = new AppUpdates({
      setting: { on: true },
      updater: () =>
        new ScriptedUpdater([new Error('getaddrinfo ENOTFOUND updates.warren.invalid'), '0.1.0']),
      log,
      notify: (n) => notified.push(n.title),
    });
    await flaky.check();
    expect(flaky.status()).toEqual({
      state: 'failed',
      error: 'getaddrinfo ENOTFOUND updates.warren.invalid',
    });
    expect(notified).toEqual([]);
    await flaky.check();
    expect(flaky.status()).toEqual({ state: 'idle' });
    expect(() => flaky.restartToUpdate()).toThrow('No update has been downloaded yet.');
  });
});
