import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchChromium, seriousViolations } from './browser';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

// The screens' accessibility assertions are only worth something if the check can fail.
test('the accessibility check reports an unlabelled field and an image without text', async () => {
  const page = await browser.newPage();
  const html = (body: string) =>
    `<!doctype html><html lang="en"><head><title>Form</title></head><body><main><h1>Form</h1>${body}</main></body></html>`;
  await page.setContent(html('<img src="data:,"><input type="text">'));
  const ids = (await seriousViolations(page)).map((v) => v.id).sort();
  expect(ids).toEqual(['image-alt', 'label']);
  await page.setContent(html('<label>Name <input type="text"></label>'));
  expect(await seriousViolations(page)).toEqual([]);
});
