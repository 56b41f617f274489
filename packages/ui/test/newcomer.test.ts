import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchChromium, seriousViolations, snap } from './browser';
import { type DaemonProcess, ensureBuilt, startDaemon } from './daemonProcess';

let daemon: DaemonProcess;
let browser: Browser;
let page: Page;
const password = `newcomer-${Math.random().toString(36).slice(2)}`;

beforeAll(async () => {
  ensureBuilt();
  daemon = await startDaemon();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
});

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
});

/** Every main screen: a screenshot for the record, and no serious or critical axe violation. */
async function checkScreen(name: string) {
  await snap(page, name);
  expect(await seriousViolations(page), `axe on ${name}`).toEqual([]);
}

test('a newcomer creates the first user, then a workspace, and watches it build until it runs', async () => {
  await page.goto(daemon.url);
  await page.getByRole('heading', { name: 'Welcome to Warren' }).waitFor();
  // Inline validation speaks the daemon's own sentences before anything is sent.
  await page.getByLabel('Username').fill('Ada Lovelace');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create owner account' }).click();
  await expect.poll(() => page.getByText('Username may use lowercase letters').isVisible()).toBe(true);
  await expect.poll(() => page.getByText('Password must be at least 8 characters.').isVisible()).toBe(true);
  await checkScreen('01-setup-with-inline-errors');

  await page.getByLabel('Username').fill('ada');
  await page.getByLabel('Email').fill('ada@example.com');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create owner account' }).click();
  await page.getByRole('heading', { name: 'No workspaces yet' }).waitFor();
  await checkScreen('02-workspaces-empty');

  await page.getByRole('button', { name: 'Create a workspace' }).click();
  await page.getByRole('form', { name: 'Create workspace' }).waitFor();
  await page.getByRole('combobox', { name: 'Template' }).selectOption('local');
  // The parameter form comes from the built-in template's manifest, with its own validation rule.
  await page.getByLabel('Dotfiles repository').fill('not a url');
  await page.getByLabel('Workspace name').fill('first-box');
  await page.getByRole('button', { name: 'Create workspace' }).click();
  await expect
    .poll(() => page.getByText('Give an https://, ssh:// or git@ URL, or leave it empty.').isVisible())
    .toBe(true);
  await checkScreen('03-create-with-parameter-error');
  await page.getByLabel('Dotfiles repository').fill('');
  await page.getByRole('button', { name: 'Create workspace' }).click();

  await page.getByRole('heading', { name: 'first-box', level: 1 }).waitFor();
  const log = page.getByRole('log', { name: /Log of build #1/ });
  await expect.poll(() => log.textContent(), { timeout: 60_000 }).toMatch(/\S+\n\S+/);
  await snap(page, '04-workspace-building');
  const status = page.getByRole('region', { name: 'Status' });
  await expect.poll(() => status.getByText('running', { exact: true }).isVisible(), { timeout: 90_000 }).toBe(true);
  await expect.poll(() => page.getByText(/Build #1/).first().isVisible()).toBe(true);
  await checkScreen('05-workspace-running');

  await page.getByRole('link', { name: 'Workspaces' }).click();
  const row = page.getByRole('row', { name: /first-box/ });
  await expect.poll(() => row.textContent()).toContain('running');
  await checkScreen('06-workspaces-list');
});

test('stopping asks first, then the list follows the build live', async () => {
  await page.getByRole('link', { name: 'first-box' }).click();
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Stop workspace first-box?' });
  await dialog.waitFor();
  await checkScreen('07-confirm-stop');
  await dialog.getByRole('button', { name: 'Stop' }).click();
  const status = page.getByRole('region', { name: 'Status' });
  await expect.poll(() => status.getByText('stopped', { exact: true }).isVisible(), { timeout: 60_000 }).toBe(true);
  await expect.poll(() => page.getByRole('log', { name: /Log of build #2/ }).isVisible()).toBe(true);
});

test('an API token is shown once, in full, and then only by name', async () => {
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: 'API tokens' }).click();
  await page.getByLabel('Token name').fill('laptop');
  await page.getByRole('button', { name: 'Create token' }).click();
  const dialog = page.getByRole('dialog', { name: 'Token laptop created' });
  const token = (await dialog.getByTestId('new-token').textContent()) ?? '';
  expect(token.length).toBeGreaterThan(20);
  await checkScreen('08-token-shown-once');
  await dialog.getByRole('button', { name: 'I have copied it' }).click();
  await page.getByRole('cell', { name: 'laptop', exact: true }).waitFor();
  expect(await page.content()).not.toContain(token);
});

test('templates, settings and admin screens render, reachable from the navigation', async () => {
  const screens: [link: string, heading: string, name: string][] = [
    ['Templates', 'Templates', '09-templates'],
    ['Settings', 'Settings', '10-settings'],
    ['Chat', 'Chat', '11-chat'],
    ['Users', 'Users', '12-admin-users'],
    ['AI providers', 'AI providers', '13-admin-ai'],
    ['AI usage', 'AI usage', '14-admin-usage'],
    ['Audit log', 'Audit log', '15-admin-audit'],
  ];
  for (const [link, heading, name] of screens) {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link, exact: true }).click();
    await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
    await expect.poll(() => page.getByRole('status').filter({ hasText: /Loading|Adding up/ }).count()).toBe(0);
    await checkScreen(name);
  }
  // The audit log recorded what the newcomer did, newest first.
  await page.getByRole('cell', { name: 'workspaces.create' }).first().waitFor();

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Templates' }).click();
  await page.getByRole('link', { name: 'Local directory' }).click();
  await page.getByRole('heading', { name: 'Versions' }).waitFor();
  await checkScreen('16-template-versions');
});

test('the dark theme keeps every screen readable', async () => {
  await page.getByLabel('Theme').selectOption('dark');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Workspaces' }).click();
  await page.getByRole('row', { name: /first-box/ }).waitFor();
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
  await checkScreen('17-workspaces-dark');
  await page.reload();
  await page.getByRole('row', { name: /first-box/ }).waitFor();
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
});

test('signing out returns to sign-in, and a wrong password reads as a sentence', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to Warren' }).waitFor();
  await page.getByLabel('Username or email').fill('ada');
  await page.getByLabel('Password').fill('wrong-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  expect(await alert.textContent()).toMatch(/[A-Z].*\.$/);
  await checkScreen('18-sign-in-error');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Workspaces', level: 1 }).waitFor();
});
