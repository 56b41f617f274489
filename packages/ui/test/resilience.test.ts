import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, expect, test } from 'vitest';
import type { FakeModelProvider } from '../../../apps/daemon/test/ai/FakeModelProvider';
import { snap } from './browser';
import { type DaemonProcess, startDaemon } from './daemonProcess';
import { uiWorld } from './uiWorld';

/**
 * What goes wrong around the screens rather than in them: a daemon restart under an open
 * chat, a deleted chat, a broken address, a page whose code cannot load, a browser with no
 * clipboard API, and the small ways a composer or a dialog can surprise the person using it.
 */
const world = uiWorld();
const { pageErrors, upstreamKey } = world;
const password = `resilient-${Math.random().toString(36).slice(2)}`;
let daemon: DaemonProcess;
let page: Page;
let fake: FakeModelProvider;
let context: BrowserContext;
let listen: string;
beforeAll(() => {
  ({ daemon, page, fake, context, listen } = world);
});

/** Moves the app's router as a back/forward button would, without reloading the page. */
async function goWithinApp(target: Page, path: string) {
  await target.evaluate((to) => {
    history.pushState(null, '', to);
    dispatchEvent(new PopStateEvent('popstate'));
  }, path);
}

const nav = () => page.getByRole('navigation', { name: 'Main' });
const composer = () => page.getByRole('textbox', { name: 'Message' });
const conversation = () => page.getByRole('log', { name: 'Conversation' });

async function startChat(message: string): Promise<string> {
  await nav().getByRole('link', { name: 'Chat', exact: true }).click();
  await page.getByLabel('First message').fill(message);
  await page.getByRole('button', { name: 'Start chat' }).click();
  await page.waitForURL(/\/chat\/[\w-]+$/);
  return new URL(page.url()).pathname.split('/').at(-1) ?? '';
}

test('a broken address shows "Nothing here", and a page whose code fails to load offers a reload', async () => {
  await page.goto(daemon.url);
  await page.getByRole('heading', { name: 'Welcome to Warren' }).waitFor();
  await page.getByLabel('Username').fill('ada');
  await page.getByLabel('Email').fill('ada@example.com');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create owner account' }).click();
  await page.getByRole('heading', { name: 'No workspaces yet' }).waitFor();

  // Not valid percent-encoding: once this threw out of rendering and blanked the whole app.
  await goWithinApp(page, '/chat/%E0%A4%A');
  await page.getByRole('heading', { name: 'Nothing here' }).waitFor();

  // A screen's chunk that will not load (a daemon upgraded under an open tab, a dropped line).
  await page.route(/\/assets\/TemplatesScreen-[^/]+\.js$/, (route) => route.abort());
  await nav().getByRole('link', { name: 'Templates', exact: true }).click();
  const failure = page.getByRole('alert').filter({ hasText: 'This page could not be shown' });
  await failure.waitFor();
  // A sentence, never a stack or the browser's own error text.
  expect(await failure.textContent()).not.toMatch(/TypeError|dynamically imported|\bat\s+\S+\.js/);
  await snap(page, 'resilience-01-page-failed-to-load');
  // The navigation still works around the failed screen.
  await nav().getByRole('link', { name: 'Workspaces', exact: true }).click();
  await page.getByRole('heading', { name: 'No workspaces yet' }).waitFor();
  await page.unroute(/\/assets\/TemplatesScreen-[^/]+\.js$/);
  await nav().getByRole('link', { name: 'Templates', exact: true }).click();
  await failure.getByRole('button', { name: 'Reload' }).click();
  await page.getByRole('heading', { name: 'Templates', level: 1 }).waitFor();
  expect(pageErrors).toEqual([]);
});

test('abandoned "Add user" and "Add provider" dialogs do not keep the secrets typed into them', async () => {
  await nav().getByRole('link', { name: 'Users', exact: true }).click();
  await page.getByRole('button', { name: 'Add user' }).click();
  await page
    .getByRole('dialog', { name: 'Add user' })
    .getByLabel('First password')
    .fill('abandoned-password');
  await page.keyboard.press('Escape');
  await page.getByRole('dialog', { name: 'Add user' }).waitFor({ state: 'hidden' });
  await page.getByRole('button', { name: 'Add user' }).click();
  expect(await page.getByRole('dialog', { name: 'Add user' }).getByLabel('First password').inputValue()).toBe(
    '',
  );
  await page.keyboard.press('Escape');

  await nav().getByRole('link', { name: 'AI providers', exact: true }).click();
  await page.getByRole('button', { name: 'Add provider' }).click();
  let dialog = page.getByRole('dialog', { name: 'Add AI provider' });
  await dialog.getByLabel('Central API key').fill('sk-abandoned-secret');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  await page.getByRole('button', { name: 'Add provider' }).click();
  dialog = page.getByRole('dialog', { name: 'Add AI provider' });
  expect(await dialog.getByLabel('Central API key').inputValue()).toBe('');

  await dialog.getByLabel('Name').fill('openai');
  await dialog.getByLabel('Base URL').fill(`${fake.url}/v1`);
  await dialog.getByLabel('Central API key').fill(upstreamKey);
  await dialog.getByRole('button', { name: 'Add provider' }).click();
  await page.getByRole('cell', { name: 'openai', exact: true }).first().waitFor();
  await page.getByRole('button', { name: 'Add model' }).click();
  const addModel = page.getByRole('dialog', { name: 'Add model' });
  await addModel.getByLabel('Provider').fill('openai');
  await addModel.getByLabel('Model name').fill('gpt-4.1');
  await addModel.getByRole('button', { name: 'Save model' }).click();
  await page.getByRole('cell', { name: 'openai/gpt-4.1' }).waitFor();
});

test('the composer keeps focus when the title arrives, waits for the input method, and sends once', async () => {
  // The turn answers at once; the title takes a moment, long enough to be typing when it lands.
  fake.script([{ text: 'Hello, Ada.' }, { text: 'Greeting the assistant', delayMs: 2500 }]);
  await startChat('Say hello.');
  await conversation().getByText('Hello, Ada.').waitFor({ timeout: 30_000 });
  await composer().click();
  await page.keyboard.type('half a thought');
  await page.getByRole('heading', { name: 'Greeting the assistant', level: 1 }).waitFor({ timeout: 30_000 });
  expect(await composer().evaluate((el) => el === document.activeElement)).toBe(true);
  expect(await composer().inputValue()).toBe('half a thought');

  // Enter that picks an input method's candidate is not a send.
  await composer().evaluate((el) =>
    el.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', isComposing: true, bubbles: true })),
  );
  await page.waitForTimeout(300);
  expect(await composer().inputValue()).toBe('half a thought');
  expect(await conversation().getByText('half a thought').count()).toBe(0);

  // Two Enters in one go (a bouncing key, an impatient person) send one message.
  await composer().fill('Only once, please.');
  await composer().evaluate((el) => {
    for (let i = 0; i < 2; i++)
      el.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
  });
  await conversation().getByText('echo: Only once, please.').waitFor({ timeout: 30_000 });
  await expect.poll(() => composer().inputValue()).toBe('');
  await page.waitForTimeout(500);
  expect(
    await conversation()
      .getByRole('article', { name: 'Your message' })
      .filter({ hasText: 'Only once' })
      .count(),
  ).toBe(1);
});

test('another chat at the next address starts clean, not with the last chat in it', async () => {
  const first = new URL(page.url()).pathname;
  fake.script([{ text: 'Second chat here.' }, { text: 'Second chat' }]);
  await startChat('A different question.');
  await conversation().getByText('Second chat here.').waitFor({ timeout: 30_000 });
  await composer().fill('draft for the second chat');
  await goWithinApp(page, first);
  await page.getByRole('heading', { name: 'Greeting the assistant', level: 1 }).waitFor();
  await conversation().getByText('Hello, Ada.').waitFor();
  expect(await conversation().getByText('Second chat here.').count()).toBe(0);
  expect(await composer().inputValue()).toBe('');
});

test('a streaming answer leaves a reader scrolled up alone, and is busy until it is complete', async () => {
  const lines = Array.from({ length: 120 }, (_, i) => `Line ${i + 1} of a long answer.`);
  fake.script([{ text: lines.join('\n\n'), chunkChars: 40, chunkDelayMs: 40 }]);
  await composer().fill('Tell me a long story.');
  await composer().press('Enter');
  await conversation().getByText('Line 20 of a long answer.').waitFor({ timeout: 30_000 });
  // One announcement when the turn is done, not one per token.
  expect(await conversation().getAttribute('aria-busy')).toBe('true');
  await page.evaluate(() => window.scrollTo(0, 0));
  await conversation().getByText('Line 120 of a long answer.').waitFor({ timeout: 30_000 });
  await expect.poll(() => conversation().getAttribute('aria-busy')).toBe('false');
  expect(await page.evaluate(() => window.scrollY)).toBe(0);

  // Back at the bottom, the conversation is followed again.
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await composer().fill('And one more thing.');
  await composer().press('Enter');
  await conversation().getByText('echo: And one more thing.').waitFor({ timeout: 30_000 });
  // The newest message is in view above the composer, not hidden under it.
  const newest = conversation().getByRole('article').last();
  await expect
    .poll(async () => {
      const message = await newest.boundingBox();
      const form = await page.getByRole('form', { name: 'Send a message' }).boundingBox();
      return Boolean(message && form && message.y + message.height <= form.y + 1 && message.y >= 0);
    })
    .toBe(true);
});

test('a daemon restart under an open chat says so, then live updates resume by themselves', async () => {
  await daemon.stop({ keepData: true });
  const notice = page.getByText('Live updates stopped; reconnecting…');
  await notice.waitFor({ timeout: 30_000 });
  await snap(page, 'resilience-02-reconnecting');
  daemon = await startDaemon([], {}, { listen, dataDir: daemon.dataDir });
  world.daemon = daemon;
  await notice.waitFor({ state: 'hidden', timeout: 60_000 });
  // The stream is live again: a new turn streams in without a reload.
  await composer().fill('Still there?');
  await composer().press('Enter');
  await conversation().getByText('echo: Still there?').waitFor({ timeout: 30_000 });
});

test('a chat deleted while open says so in a sentence', async () => {
  const chatId = new URL(page.url()).pathname.split('/').at(-1);
  const status = await page.evaluate(
    async (id) =>
      (
        await fetch('/api/trpc/chats.delete', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ chatId: id }),
        })
      ).status,
    chatId,
  );
  expect(status).toBe(200);
  await page
    .getByText('This chat no longer exists: it was deleted, or the address is wrong.')
    .waitFor({ timeout: 30_000 });
  expect(await page.getByText('Live updates stopped; reconnecting…').count()).toBe(0);
});

test('copying a token never claims success the browser did not allow', async () => {
  // Plain-HTTP origins have no navigator.clipboard at all: this context is such a browser.
  const plain = await world.browser.newContext({ viewport: { width: 1280, height: 860 } });
  await plain.addCookies(await context.cookies());
  await plain.addInitScript(() =>
    Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined }),
  );
  const other = await plain.newPage();
  await other.goto(`${daemon.url}/settings/tokens`);
  await other.getByLabel('Token name').fill('no-clipboard');
  await other.getByRole('button', { name: 'Create token' }).click();
  const dialog = other.getByRole('dialog', { name: 'Token no-clipboard created' });
  const token = (await dialog.getByTestId('new-token').textContent()) ?? '';
  await dialog.getByRole('button', { name: 'Copy to clipboard' }).click();
  await dialog.getByText('select and copy it').waitFor();
  expect(await other.evaluate(() => window.getSelection()?.toString())).toBe(token);
  expect(await other.getByText('The token was copied.').count()).toBe(0);
  await plain.close();

  // Where the clipboard works, the token really is on it.
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: daemon.url });
  await page.goto(`${daemon.url}/settings/tokens`);
  await page.getByLabel('Token name').fill('with-clipboard');
  await page.getByRole('button', { name: 'Create token' }).click();
  const shown = page.getByRole('dialog', { name: 'Token with-clipboard created' });
  const real = (await shown.getByTestId('new-token').textContent()) ?? '';
  await shown.getByRole('button', { name: 'Copy to clipboard' }).click();
  await page.getByText('The token was copied.').waitFor();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(real);
});
