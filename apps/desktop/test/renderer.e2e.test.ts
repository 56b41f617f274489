import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
// Debian's Chromium through playwright-core, launched as packages/ui's tests launch it.
import { launchChromium, seriousViolations } from '../../../packages/ui/test/browser';
// The daemon tests' scripted model upstream, as packages/ui's newcomer test uses it.
import { type FakeModelProvider, startFakeModelProvider } from '../../daemon/test/ai/FakeModelProvider';
import { DaemonProcess, freePort, inWorkspace, waitFor } from './support/daemonProcess';
import { desktopMain } from './support/desktopWorld';
import { bridgeRendererToMain } from './support/rendererBridge';

const DESKTOP = path.resolve(import.meta.dirname, '..');
const PAGE = pathToFileURL(path.join(DESKTOP, 'dist', 'renderer', 'index.html')).href;
const SCREENSHOTS = path.join(DESKTOP, 'test-results', 'screenshots');
const upstreamKey = `sk-desktop-${Math.random().toString(36).slice(2)}`;

async function snap(page: Page, name: string) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

describe('the desktop window: packages/ui over IPC to the real main process and daemon', () => {
  let daemon: DaemonProcess;
  let token: string;
  let fake: FakeModelProvider;
  let world: ReturnType<typeof desktopMain>;
  let browser: Browser;
  let page: Page;
  let toRenderer: unknown[];
  const pageErrors: string[] = [];
  let httpPid = '';
  /** The test's own token for cleaning up: the window's one is revoked by the last test. */
  let cleanupToken: string;

  beforeAll(async () => {
    // The page under test is the one the app ships: built from the current sources.
    execFileSync(process.execPath, ['build.mjs', '--renderer-only'], { cwd: DESKTOP });
    [fake, daemon] = await Promise.all([
      startFakeModelProvider({ apiKey: upstreamKey }),
      DaemonProcess.start(),
    ]);
    token = (await daemon.owner()).token;
    // The model the chat uses, set up by the owner as an admin would.
    const admin = daemon.client(token);
    await admin.ai.providers.create.mutate({
      name: 'openai',
      kind: 'openai',
      baseUrl: `${fake.url}/v1`,
      apiKey: upstreamKey,
    });
    await admin.ai.models.upsert.mutate({
      provider: 'openai',
      name: 'gpt-4.1',
      inputPrice: 2,
      outputPrice: 8,
    });
    cleanupToken = (await admin.tokens.create.mutate({ name: 'test-cleanup' })).token;
    world = desktopMain();
    await world.main.start();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.on('pageerror', (error) => pageErrors.push(error.stack ?? error.message));
    page.on('console', (message) => {
      // axe-core (the test's accessibility check) fetches the stylesheet to read it, which the
      // page's `connect-src 'none'` rightly refuses; any other console error is the app's.
      if (message.type() === 'error' && !/^Connecting to '.*\.css' violates/.test(message.text()))
        pageErrors.push(message.text());
    });
    ({ toRenderer } = await bridgeRendererToMain(page, world.main.ipcServer()));
  });

  afterAll(async () => {
    await browser?.close();
    if (httpPid) await inDesk(`kill ${httpPid}`).catch(() => {});
    await world?.close();
    const api = daemon?.client(cleanupToken);
    await api?.workspaces.stop.mutate({ name: 'desk' }).catch(() => {});
    await waitFor('desk to stop', async () =>
      (await api?.workspaces.get.query({ name: 'desk' }))?.status === 'stopped' ? true : undefined,
    ).catch(() => {});
    await daemon?.close();
    await fake?.close();
  });

  afterEach(async ({ task }) => {
    if (task.result?.state !== 'fail' || !page) return;
    await snap(page, `failed-${task.name.replace(/\W+/g, '-').slice(0, 60)}`);
    if (pageErrors.length) console.error(`errors in the page:\n${pageErrors.join('\n')}`);
  });

  /** A shell command in the window's workspace, run with the test's own token. */
  const inDesk = (command: string) => inWorkspace(daemon, cleanupToken, 'desk', command);

  it('signs in with a pasted token; a wrong one reads as a sentence, and the token never comes back', async () => {
    const started = Date.now();
    await page.goto(PAGE);
    await page.getByRole('heading', { name: 'Sign in to a Warren server' }).waitFor();
    await page.getByLabel('Server address').fill('not an address');
    await page.getByLabel('API token').fill('x');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('"not an address" is not a web address; use https://host[:port].').waitFor();

    await page.getByLabel('Server address').fill(daemon.url);
    await page.getByLabel('API token').fill('wrong-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(new RegExp(`^Could not sign in to ${daemon.url}: .+\\.$`));
    expect(world.main.deployments.list()).toEqual([]);
    await snap(page, '01-sign-in-wrong-token');
    expect(await seriousViolations(page), 'axe on the desktop sign-in').toEqual([]);

    await page.getByLabel('API token').fill(token);
    await page.getByLabel('Name (optional)').fill('Team server');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'No workspaces yet' }).waitFor();
    const server = page.getByRole('combobox', { name: 'Server' });
    expect(await server.locator('option:checked').textContent()).toBe(`Team server (${daemon.url})`);
    await snap(page, '02-signed-in-workspaces');
    // The page's form sent the token once; nothing the main process sent back holds it.
    expect(JSON.stringify(toRenderer)).not.toContain(token);
    expect(await page.evaluate(() => document.documentElement.outerHTML)).not.toContain(token);
    console.info(`sign-in to workspaces screen: ${Date.now() - started} ms`);
  });

  it('quick-connect: a workspace created in the window runs, and a forwarded port serves its page on localhost', async () => {
    const started = Date.now();
    await page.getByRole('button', { name: 'Create a workspace' }).click();
    await page.getByRole('form', { name: 'Create workspace' }).waitFor();
    await page.getByRole('combobox', { name: 'Template' }).selectOption('local');
    // The template's own file server binds a fixed port on this shared host: not wanted here.
    await page.getByLabel('Serve ~/projects').uncheck();
    await page.getByLabel('Workspace name').fill('desk');
    await page.getByRole('button', { name: 'Create workspace' }).click();
    await page.getByRole('heading', { name: 'desk', level: 1 }).waitFor();
    const status = page.getByRole('region', { name: 'Status' });
    await expect.poll(() => status.getByText('ready, connected').isVisible(), { timeout: 90_000 }).toBe(true);
    const running = Date.now() - started;
    await snap(page, '03-workspace-running');

    // A web server inside the workspace, detached so it outlives the SSH session.
    const remotePort = await freePort();
    const script = `require('http').createServer((q, s) => s.end('served from desk')).listen(${remotePort}, '127.0.0.1')`;
    httpPid = (await inDesk(`setsid nohup node -e "${script}" >/dev/null 2>&1 < /dev/null & echo $!`)).trim();

    const forwardStarted = Date.now();
    const localPort = await freePort();
    await page.getByRole('button', { name: /^Local ports/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Local ports' });
    await dialog.getByRole('combobox', { name: 'Workspace' }).selectOption('desk');
    await dialog.getByRole('textbox', { name: 'Port' }).fill(`${localPort}:${remotePort}`);
    await dialog.getByRole('button', { name: 'Forward and connect' }).click();
    const row = dialog.getByRole('listitem', { name: 'Ports of desk' });
    await row.getByText('connected', { exact: true }).waitFor({ timeout: 30_000 });
    expect(await row.getByRole('link', { name: `localhost:${localPort}` }).getAttribute('href')).toBe(
      `http://localhost:${localPort}/`,
    );
    const body = await waitFor('the forwarded page', async () => {
      const response = await fetch(`http://127.0.0.1:${localPort}/`).catch(() => undefined);
      return response?.ok ? response.text() : undefined;
    });
    expect(body).toBe('served from desk');
    await snap(page, '04-local-port-forwarded');
    expect(await seriousViolations(page), 'axe on the local ports dialog').toEqual([]);
    await dialog.getByRole('button', { name: 'Close' }).click();
    expect(await page.getByRole('button', { name: 'Local ports (1 connected)' }).isVisible()).toBe(true);
    // The tray, built from the same state, shows the forward too.
    const tray = JSON.stringify(world.main.trayMenu().items);
    expect(tray).toContain(`localhost:${localPort} → port ${remotePort}`);
    console.info(
      `create to running: ${running} ms; forward to first fetch: ${Date.now() - forwardStarted} ms`,
    );
  });

  it('a chat streams its answer into the window as the model writes it', async () => {
    const reply = 'Hello from the desktop. This answer arrives in small pieces, one after another.';
    fake.script([{ text: reply, chunkChars: 6, chunkDelayMs: 80 }]);
    const started = Date.now();
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Chat', exact: true })
      .click();
    await page.getByRole('combobox', { name: 'Workspace' }).selectOption('desk');
    await page.getByLabel('First message').fill('Say hello from the desktop.');
    await page.getByRole('button', { name: 'Start chat' }).click();
    const conversation = page.getByRole('log', { name: 'Conversation' });
    // Seen part-way: some of the answer on screen, not yet all of it.
    const partial = await waitFor(
      'part of the answer',
      async () => {
        const text = (await conversation.textContent()) ?? '';
        return text.includes('Hello from the desktop') && !text.includes('one after another')
          ? text
          : undefined;
      },
      60_000,
    );
    expect(partial).not.toContain('one after another');
    await snap(page, '05-chat-streaming');
    await conversation.getByText(reply).waitFor({ timeout: 30_000 });
    await snap(page, '06-chat-answered');
    // The daemon called the model with its central key; the page never held a model key.
    expect(fake.requests.at(-1)?.headers.authorization).toBe(`Bearer ${upstreamKey}`);
    expect(JSON.stringify(toRenderer)).not.toContain(upstreamKey);
    console.info(`chat start to full answer: ${Date.now() - started} ms`);
    expect(pageErrors).toEqual([]);
  });

  it('a token revoked elsewhere brings back the desktop sign-in for that server, and a new one gets back in', async () => {
    const cleanup = daemon.client(cleanupToken);
    const saved = (await cleanup.tokens.list.query()).find((t) => t.name === 'desktop');
    if (!saved) throw new Error('no desktop token');
    await cleanup.tokens.revoke.mutate({ id: saved.id });
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to a Warren server' }).waitFor();
    expect(await page.getByRole('status').filter({ hasText: 'no longer accepts' }).textContent()).toBe(
      'Team server no longer accepts the saved token (it was revoked or has expired). Paste a new one.',
    );
    expect(await page.getByLabel('Server address').inputValue()).toBe(daemon.url);
    await snap(page, '07-token-revoked');
    token = (await cleanup.tokens.create.mutate({ name: 'desktop-again' })).token;
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('log', { name: 'Conversation' }).getByText('one after another').waitFor();
    expect(world.main.deployments.list()).toHaveLength(1);
  });

  it('a reload keeps the desktop signed in, and signing out revokes the token and forgets the server', async () => {
    // The token lives in the main process: a fresh page over a fresh port is still signed in, at
    // the same place (the route is in the hash), with the finished chat reloaded from the server.
    await page.reload();
    await page.getByRole('log', { name: 'Conversation' }).getByText('one after another').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to a Warren server' }).waitFor();
    expect(world.main.deployments.list()).toEqual([]);
    expect(world.main.trayMenu().icon).toBe('tray-signed-out');
    await expect(daemon.client(token).auth.whoami.query()).rejects.toThrow();
    await snap(page, '08-signed-out');
    expect(pageErrors).toEqual([]);
  });
});
