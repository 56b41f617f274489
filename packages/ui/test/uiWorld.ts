import { freePort } from '@warren/core/test-support/freePort';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
// The one scripted model upstream the daemon's gateway and chat tests use (Node built-ins only).
import {
  type FakeModelProvider,
  startFakeModelProvider,
} from '../../../apps/daemon/test/ai/FakeModelProvider';
import { launchChromium, snap } from './browser';
import { type DaemonProcess, ensureBuilt, startDaemon } from './daemonProcess';

/** What a screens test file works with; filled in by its beforeAll. */
export interface UiWorld {
  /** The daemon under test (a test may replace it, e.g. to restart on the same address). */
  daemon: DaemonProcess;
  /** host:port the daemon listens on, fixed so a restart keeps the address. */
  listen: string;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  fake: FakeModelProvider;
  /** The key the fake provider expects: what an admin types in as the provider's key. */
  upstreamKey: string;
  /** Uncaught errors in the page: a screen that threw is a failure even if it still shows something. */
  pageErrors: string[];
}

/**
 * A built daemon, the fake model provider and Chromium on a fresh page, for one test file; when
 * a test fails, what the page showed and any error it threw are kept for whoever reads the artifacts.
 */
export function uiWorld(): UiWorld {
  const world = {
    pageErrors: [] as string[],
    upstreamKey: `sk-ui-test-${Math.random().toString(36).slice(2)}`,
  } as UiWorld;
  beforeAll(async () => {
    ensureBuilt();
    world.fake = await startFakeModelProvider({ apiKey: world.upstreamKey });
    world.listen = `127.0.0.1:${await freePort()}`;
    world.daemon = await startDaemon([], {}, { listen: world.listen });
    world.browser = await launchChromium();
    world.context = await world.browser.newContext({ viewport: { width: 1280, height: 860 } });
    world.page = await world.context.newPage();
    world.page.on('pageerror', (error) => world.pageErrors.push(error.stack ?? error.message));
  });
  afterAll(async () => {
    await world.browser?.close();
    await world.daemon?.stop();
    await world.fake?.close();
  });
  afterEach(async ({ task }) => {
    if (task.result?.state !== 'fail' || !world.page) return;
    await snap(world.page, `failed-${task.name.replace(/\W+/g, '-').slice(0, 60)}`);
    if (world.pageErrors.length) console.error(`errors in the page: ${world.pageErrors.join('\n')}`);
  });
  return world;
}

/** First-run setup through the screen: the owner account, signed in, on the empty workspaces page. */
export async function createFirstOwner(page: Page, url: string, username: string, password: string) {
  await page.goto(url);
  await page.getByRole('heading', { name: 'Welcome to Warren' }).waitFor();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Email').fill(`${username}@example.com`);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create owner account' }).click();
  await page.getByRole('heading', { name: 'No workspaces yet' }).waitFor();
}

/** Signs in on the sign-in screen at `url`. */
export async function signIn(page: Page, url: string, username: string, password: string) {
  await page.goto(url);
  await page.getByLabel('Username or email').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Workspaces', level: 1 }).waitFor();
}

/** As an owner: the fake provider as "openai" with its central key, and `models` of it, through Admin → AI providers. */
export async function addFakeProvider(
  page: Page,
  world: Pick<UiWorld, 'fake' | 'upstreamKey'>,
  models: string[],
) {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'AI providers', exact: true })
    .click();
  await page.getByRole('button', { name: 'Add provider' }).click();
  const provider = page.getByRole('dialog', { name: 'Add AI provider' });
  await provider.getByLabel('Name').fill('openai');
  await provider.getByLabel('Base URL').fill(`${world.fake.url}/v1`);
  await provider.getByLabel('Central API key').fill(world.upstreamKey);
  await provider.getByRole('button', { name: 'Add provider' }).click();
  await page.getByRole('cell', { name: 'openai', exact: true }).first().waitFor();
  for (const name of models) {
    await page.getByRole('button', { name: 'Add model' }).click();
    const model = page.getByRole('dialog', { name: 'Add model' });
    await model.getByLabel('Provider').fill('openai');
    await model.getByLabel('Model name').fill(name);
    await model.getByRole('button', { name: 'Save model' }).click();
    await page.getByRole('cell', { name: `openai/${name}`, exact: true }).waitFor();
  }
}
