import type { Page } from 'playwright-core';
import { beforeAll, expect, test } from 'vitest';
import { echoReply, lastUserText, type RecordedRequest } from '../../../apps/daemon/test/ai/ScriptedReply';
import { seriousViolations, snap } from './browser';
import { addFakeProvider, createFirstOwner, signIn, uiWorld } from './uiWorld';

/**
 * The chat screen beyond a first answer: a summary asked for from the screen, a message queued
 * behind a streaming turn, an interrupted turn, and a model picker limited by policy.
 */
const world = uiWorld();
const password = `chatter-${Math.random().toString(36).slice(2)}`;
let page: Page;

const SUMMARY =
  'Ada asked for release notes for version 2.0 and the assistant drafted them. Still open: a line about the new CLI.';
const nav = () => page.getByRole('navigation', { name: 'Main' });
const composer = () => page.getByRole('textbox', { name: 'Message' });
const conversation = () => page.getByRole('log', { name: 'Conversation' });
const summaryRegion = () => page.getByRole('region', { name: 'Summary' });
const header = () => page.locator('.page-header');

/**
 * The model's side, by what is asked: the small model's title and summary (recognised by the
 * daemon's prompts), "Count slowly to N." streamed at about ten numbers a second, else an echo.
 */
function reply(request: RecordedRequest) {
  if (request.rawBody.includes('Write a title of at most six words')) return { text: 'Release notes' };
  // Slow enough that the screen's wait is there to be seen.
  if (request.rawBody.includes('Summarize the conversation below')) return { text: SUMMARY, delayMs: 1200 };
  const count = /^Count slowly to (\d+)\.$/.exec(lastUserText(request.body));
  if (count) {
    const numbers = Array.from({ length: Number(count[1]) }, (_, i) => `${i + 1},`).join(' ');
    return { text: `${numbers} done counting.`, chunkChars: 4, chunkDelayMs: 100 };
  }
  return echoReply(request);
}

async function send(text: string) {
  await composer().fill(text);
  await composer().press('Enter');
}

async function axeInBothThemes(name: string) {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe(scheme);
    await snap(page, `${name}-${scheme}`);
    expect(await seriousViolations(page), `axe on ${name} (${scheme})`).toEqual([]);
  }
}

beforeAll(async () => {
  page = world.page;
  world.fake.setDefaultReply(reply);
  await createFirstOwner(page, world.daemon.url, 'ada', password);
  await addFakeProvider(page, world, ['gpt-4.1', 'gpt-4.1-mini']);
});

test('a summary asked for on the chat screen shows while it is written, then says when the chat moved on', async () => {
  // A chat with no messages yet (the API allows one): the daemon's sentence says why there is no summary.
  const chatId = await page.evaluate(async () => {
    const response = await fetch('/api/trpc/chats.create', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4.1' }),
    });
    return ((await response.json()) as { result: { data: { id: string } } }).result.data.id;
  });
  await page.goto(`${world.daemon.url}/chat/${chatId}`);
  await page.getByRole('button', { name: 'Summarize' }).click();
  await summaryRegion()
    .getByRole('alert')
    .getByText('This chat has no messages yet, so there is nothing to summarize. Send a message first.')
    .waitFor();

  await send('Draft the release notes for 2.0.');
  await conversation().getByText('echo: Draft the release notes for 2.0.').waitFor({ timeout: 30_000 });
  await page.getByRole('heading', { name: 'Release notes', level: 1 }).waitFor({ timeout: 30_000 });

  await page.getByRole('button', { name: 'Summarize' }).click();
  await summaryRegion()
    .getByRole('status')
    .getByText('Writing a summary of the conversation so far…')
    .waitFor();
  await summaryRegion().getByText(SUMMARY).waitFor({ timeout: 30_000 });
  expect(await summaryRegion().getByRole('status').count()).toBe(0);
  expect(await summaryRegion().getByRole('alert').count()).toBe(0);
  expect(await summaryRegion().getByText('out of date').count()).toBe(0);
  // Written by the provider's small model, from the conversation.
  const asked = world.fake.requests.find((r) => r.rawBody.includes('Summarize the conversation below'));
  expect((asked?.body as { model?: string } | undefined)?.model).toBe('gpt-4.1-mini');
  expect(asked?.rawBody).toContain('Draft the release notes for 2.0.');
  await axeInBothThemes('chat-01-summary');
  await page.emulateMedia({ colorScheme: 'light' });

  // The chat moves on: the summary stays, marked as older than the conversation.
  await send('Add a line about the new CLI.');
  await conversation().getByText('echo: Add a line about the new CLI.').waitFor({ timeout: 30_000 });
  await summaryRegion().getByText('out of date').waitFor();
  await summaryRegion().getByText('2 messages arrived or changed since it was written').waitFor();
  await summaryRegion().getByText(SUMMARY).waitFor();
  expect(world.pageErrors).toEqual([]);
});

test('a message sent while a turn streams waits in the queue, then is answered after it', async () => {
  await send('Count slowly to 50.');
  await conversation()
    .getByText(/^1, 2,/)
    .waitFor({ timeout: 30_000 });
  await send('And what comes after fifty?');
  const queued = conversation()
    .getByRole('article', { name: 'Your message' })
    .filter({ hasText: 'after fifty' });
  await queued.getByText('queued', { exact: true }).waitFor();
  // The turn in progress is not cut short by the queued message.
  expect(await conversation().getByText('done counting.').count()).toBe(0);
  await snap(page, 'chat-02-queued');

  const answer = conversation().getByText('echo: And what comes after fifty?');
  await answer.waitFor({ timeout: 30_000 });
  expect(await queued.getByText('queued', { exact: true }).count()).toBe(0);
  const texts = await conversation().getByRole('article').allTextContents();
  const counted = texts.findIndex((t) => t.includes('49, 50, done counting.'));
  const echoed = texts.findIndex((t) => t.includes('echo: And what comes after fifty?'));
  expect(counted).toBeGreaterThan(-1);
  expect(echoed).toBeGreaterThan(counted);
});

test('interrupting a streaming turn stops it and marks the answer interrupted', async () => {
  const answers = conversation().getByRole('article', { name: 'Assistant' });
  const earlier = await answers.count();
  await send('Count slowly to 1000.');
  const answer = answers.nth(earlier);
  await answer.getByText(/^1, 2, 3,/).waitFor({ timeout: 30_000 });
  await header().getByText('running', { exact: true }).waitFor();
  await header().getByRole('button', { name: 'Interrupt' }).click();
  await answer.getByText('interrupted', { exact: true }).waitFor({ timeout: 15_000 });
  await header().getByText('idle', { exact: true }).waitFor();
  expect(await header().getByRole('button', { name: 'Interrupt' }).count()).toBe(0);
  // Nothing more arrives after the interrupt.
  const stopped = await answer.textContent();
  await page.waitForTimeout(600);
  expect(await answer.textContent()).toBe(stopped);
  expect(stopped).not.toContain('done counting');
  await snap(page, 'chat-03-interrupted');

  // The chat takes the next message as usual.
  expect(await page.getByRole('button', { name: 'Send', exact: true }).count()).toBe(1);
  await send('Are you still there?');
  await conversation().getByText('echo: Are you still there?').waitFor({ timeout: 30_000 });
});

test('the model picker offers only the models the policy allows the person', async () => {
  const options = () => page.getByRole('combobox', { name: 'Model' }).locator('option').allTextContents();
  await nav().getByRole('link', { name: 'Chat', exact: true }).click();
  await page.getByRole('combobox', { name: 'Model' }).waitFor();
  expect(await options()).toEqual(['openai/gpt-4.1', 'openai/gpt-4.1-mini']);

  // Members get the small model only; owners keep every openai model.
  await nav().getByRole('link', { name: 'AI providers', exact: true }).click();
  const policy = page.getByRole('form', { name: "Set a role's models" });
  for (const [role, patterns] of [
    ['member', 'openai/gpt-4.1-mini'],
    ['owner', 'openai/*'],
  ] as const) {
    await policy.getByRole('combobox', { name: 'Role' }).selectOption(role);
    await policy.getByLabel('Model patterns').fill(patterns);
    await policy.getByRole('button', { name: 'Save role models' }).click();
    await page.getByRole('row', { name: `${role} ${patterns}`, exact: true }).waitFor();
  }
  await nav().getByRole('link', { name: 'Chat', exact: true }).click();
  await page.getByRole('combobox', { name: 'Model' }).waitFor();
  expect(await options()).toEqual(['openai/gpt-4.1', 'openai/gpt-4.1-mini']);

  await nav().getByRole('link', { name: 'Users', exact: true }).click();
  await page.getByRole('button', { name: 'Add user' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add user' });
  await dialog.getByLabel('Username').fill('grace');
  await dialog.getByLabel('Email').fill('grace@example.com');
  await dialog.getByLabel('First password').fill(password);
  await dialog.getByRole('button', { name: 'Add user' }).click();
  await page.getByRole('cell', { name: 'grace', exact: true }).waitFor();

  const context = await world.browser.newContext({ viewport: { width: 1280, height: 860 } });
  try {
    const member = await context.newPage();
    await signIn(member, world.daemon.url, 'grace', password);
    await member
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Chat', exact: true })
      .click();
    const picker = member.getByRole('combobox', { name: 'Model' });
    await picker.waitFor();
    expect(await picker.locator('option').allTextContents()).toEqual(['openai/gpt-4.1-mini']);
    await snap(member, 'chat-04-member-model-picker');
    // The one offered is one the member can really use.
    await member.getByLabel('First message').fill('Hello from Grace.');
    await member.getByRole('button', { name: 'Start chat' }).click();
    await member
      .getByRole('log', { name: 'Conversation' })
      .getByText('echo: Hello from Grace.')
      .waitFor({ timeout: 30_000 });
    await member.getByText('openai/gpt-4.1-mini, without a workspace').waitFor();
  } finally {
    await context.close();
  }
});
