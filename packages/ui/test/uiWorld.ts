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
