import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, expect, test } from 'vitest';
import type { FakeModelProvider } from '../../../apps/daemon/test/ai/FakeModelProvider';
import { seriousViolations, snap } from './browser';
import type { DaemonProcess } from './daemonProcess';
import { uiWorld } from './uiWorld';

const world = uiWorld();
const { pageErrors, upstreamKey } = world;
const password = `newcomer-${Math.random().toString(36).slice(2)}`;
let daemon: DaemonProcess;
let page: Page;
let fake: FakeModelProvider;
beforeAll(() => {
  ({ daemon, page, fake } = world);
});

/** Every main screen: a screenshot for the record, and no serious or critical axe violation. */
async function checkScreen(name: string) {
  await snap(page, name);
  expect(pageErrors, `errors in the page before ${name}`).toEqual([]);
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
  await snap(page, '04-workspace-build-log');
  const status = page.getByRole('region', { name: 'Status' });
  await expect
    .poll(() => status.getByText('running', { exact: true }).isVisible(), { timeout: 90_000 })
    .toBe(true);
  await expect
    .poll(() =>
      page
        .getByText(/Build #1/)
        .first()
        .isVisible(),
    )
    .toBe(true);
  await expect.poll(() => status.getByText('ready, connected').isVisible(), { timeout: 60_000 }).toBe(true);
  await checkScreen('05-workspace-running');

  await page.getByRole('link', { name: 'Workspaces' }).click();
  const row = page.getByRole('row', { name: /first-box/ });
  await expect.poll(() => row.textContent()).toContain('running');
  await checkScreen('06-workspaces-list');
});

test('the terminal runs a command in the workspace and follows the window size', async () => {
  await page.getByRole('link', { name: 'first-box' }).click();
  await page.getByRole('button', { name: 'Open terminal' }).click();
  const terminal = page.getByRole('application', { name: 'Terminal of ada/first-box' });
  await terminal.waitFor();
  await page.getByText('connected', { exact: true }).waitFor({ timeout: 30_000 });
  await terminal.click();
  await page.keyboard.type('echo "warren-$((6*7))"; stty size\n');
  const rows = terminal.locator('.xterm-rows');
  await expect.poll(() => rows.textContent(), { timeout: 30_000 }).toContain('warren-42');
  const size = /(\d+) (\d+)\s*$/m.exec(((await rows.textContent()) ?? '').replace('warren-42', ''));
  await snap(page, '07-terminal');
  // A narrower window gives the shell fewer columns.
  await page.setViewportSize({ width: 900, height: 860 });
  await page.keyboard.type('clear; stty size\n');
  await expect
    .poll(async () => /\d+ (\d+)/.exec((await rows.textContent()) ?? '')?.[1], { timeout: 10_000 })
    .not.toBe(size?.[2]);
  await page.setViewportSize({ width: 1280, height: 860 });
  expect(await seriousViolations(page)).toEqual([]);
});

test('an owner adds a model provider, and a chat edits a file in the workspace with a tool', async () => {
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'AI providers', exact: true }).click();
  await page.getByRole('button', { name: 'Add provider' }).click();
  const addProvider = page.getByRole('dialog', { name: 'Add AI provider' });
  await addProvider.getByLabel('Name').fill('openai');
  await addProvider.getByLabel('Base URL').fill(`${fake.url}/v1`);
  await addProvider.getByLabel('Central API key').fill(upstreamKey);
  await addProvider.getByRole('button', { name: 'Add provider' }).click();
  await page.getByRole('cell', { name: 'openai', exact: true }).first().waitFor();
  await page.getByRole('button', { name: 'Add model' }).click();
  const addModel = page.getByRole('dialog', { name: 'Add model' });
  await addModel.getByLabel('Provider').fill('openai');
  await addModel.getByLabel('Model name').fill('gpt-4.1');
  await addModel.getByLabel('Input price (USD per million tokens)').fill('2');
  await addModel.getByLabel('Output price (USD per million tokens)').fill('8');
  await addModel.getByRole('button', { name: 'Save model' }).click();
  await page.getByRole('cell', { name: 'openai/gpt-4.1' }).waitFor();
  await checkScreen('08-admin-ai-with-provider');

  fake.script([
    {
      toolCalls: [
        { name: 'write_file', arguments: { path: 'notes/hello.txt', content: 'Hello from chat\n' } },
      ],
    },
    { text: 'I wrote **notes/hello.txt** with:\n\n```\nHello from chat\n```' },
  ]);
  await nav.getByRole('link', { name: 'Chat', exact: true }).click();
  await page.getByRole('combobox', { name: 'Workspace' }).selectOption('first-box');
  await page.getByLabel('First message').fill('Write a greeting into notes/hello.txt.');
  await page.getByRole('button', { name: 'Start chat' }).click();
  const conversation = page.getByRole('log', { name: 'Conversation' });
  await conversation.getByText('I wrote').waitFor({ timeout: 60_000 });
  const card = conversation.locator('details.tool-card', { hasText: 'write_file' });
  await card.getByText('done').waitFor();
  await card.locator('summary').click();
  const result = (await card.locator('pre').last().textContent()) ?? '';
  const written = /Created (\S+)/.exec(result)?.[1] ?? '';
  // In the workspace's home (the local provisioner keeps it in the daemon's data directory).
  expect(written).toMatch(/\/home\/notes\/hello\.txt$/);
  expect(written.startsWith(path.join(daemon.dataDir, 'workspaces') + path.sep)).toBe(true);
  expect(fs.readFileSync(written, 'utf8')).toBe('Hello from chat\n');
  expect(
    await conversation.locator('pre.code-block code', { hasText: 'Hello from chat' }).count(),
  ).toBeGreaterThan(0);
  await checkScreen('09-chat-with-tool-call');

  await nav.getByRole('link', { name: 'AI usage', exact: true }).click();
  await page.getByRole('cell', { name: 'ada' }).first().waitFor();
  await page.getByRole('combobox', { name: 'Group by' }).selectOption('model');
  await page.getByRole('cell', { name: 'openai/gpt-4.1' }).first().waitFor();
  expect(await page.getByRole('img', { name: /Cost by model/ }).count()).toBe(1);
  await checkScreen('10-admin-usage-after-chat');
});

test('stopping asks first, then the page follows the build live', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Workspaces' }).click();
  await page.getByRole('link', { name: 'first-box' }).click();
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Stop workspace first-box?' });
  await dialog.waitFor();
  await checkScreen('11-confirm-stop');
  await dialog.getByRole('button', { name: 'Stop' }).click();
  const status = page.getByRole('region', { name: 'Status' });
  await expect
    .poll(() => status.getByText('stopped', { exact: true }).isVisible(), { timeout: 60_000 })
    .toBe(true);
  // A build that began after the page opened: its log arrives on the open page, line by line.
  await expect
    .poll(() => page.getByRole('log', { name: /Log of build #2/ }).textContent())
    .toContain('The agent is stopped; the home directory is kept.');
  await snap(page, '11b-workspace-stopped-build-log');
});

test('an API token is shown once, in full, and then only by name', async () => {
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: 'API tokens' }).click();
  await page.getByLabel('Token name').fill('laptop');
  await page.getByRole('button', { name: 'Create token' }).click();
  const dialog = page.getByRole('dialog', { name: 'Token laptop created' });
  const token = (await dialog.getByTestId('new-token').textContent()) ?? '';
  expect(token.length).toBeGreaterThan(20);
  await checkScreen('12-token-shown-once');
  await dialog.getByRole('button', { name: 'I have copied it' }).click();
  await page.getByRole('cell', { name: 'laptop', exact: true }).waitFor();
  expect(await page.content()).not.toContain(token);
});

test('templates, settings and admin screens render, reachable from the navigation', async () => {
  const screens: [link: string, heading: string, name: string][] = [
    ['Templates', 'Templates', '13-templates'],
    ['Settings', 'Settings', '14-settings'],
    ['Chat', 'Chat', '15-chat'],
    ['Users', 'Users', '16-admin-users'],
    ['AI providers', 'AI providers', '17-admin-ai'],
    ['AI usage', 'AI usage', '18-admin-usage'],
    ['Audit log', 'Audit log', '19-admin-audit'],
  ];
  for (const [link, heading, name] of screens) {
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: link, exact: true })
      .click();
    await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
    await expect
      .poll(() =>
        page
          .getByRole('status')
          .filter({ hasText: /Loading|Adding up/ })
          .count(),
      )
      .toBe(0);
    await checkScreen(name);
  }
  // Settings' third tab, the person's own AI keys (BYOK), is a screen of its own.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  await page
    .getByRole('navigation', { name: 'Settings sections' })
    .getByRole('link', { name: 'AI keys' })
    .click();
  await page.getByRole('heading', { name: 'Your AI provider keys' }).waitFor();
  // The provider the owner added takes personal keys unless told otherwise: it is offered here.
  await page.getByRole('button', { name: 'Add key for openai' }).waitFor();
  await checkScreen('14-settings-ai-keys');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  // The audit log recorded what the newcomer did, newest first.
  await page.getByRole('cell', { name: 'workspaces.create' }).first().waitFor();

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Templates' }).click();
  await page.getByRole('link', { name: 'Local directory' }).click();
  await page.getByRole('heading', { name: 'Versions' }).waitFor();
  await checkScreen('20-template-versions');
});

test('the theme follows the system, and a chosen dark theme stays across reloads', async () => {
  await page.emulateMedia({ colorScheme: 'dark' });
  const theme = () => page.evaluate(() => document.documentElement.dataset.theme);
  await expect.poll(theme).toBe('dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await expect.poll(theme).toBe('light');

  await page.getByLabel('Theme').selectOption('dark');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Workspaces' }).click();
  await page.getByRole('row', { name: /first-box/ }).waitFor();
  expect(await theme()).toBe('dark');
  await checkScreen('21-workspaces-dark');
  await page.reload();
  await page.getByRole('row', { name: /first-box/ }).waitFor();
  expect(await theme()).toBe('dark');
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
  await checkScreen('22-sign-in-error');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Workspaces', level: 1 }).waitFor();
});
