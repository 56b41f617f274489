import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { _electron as electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';

const APP_DIR = path.resolve(import.meta.dirname, '..');

/** An Electron binary: ELECTRON_OVERRIDE_DIST_PATH (a dist folder, as electron's own installer reads it) or `electron` on PATH. */
function electronBinary(): { path?: string; why: string } {
  const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (dist) {
    const names =
      process.platform === 'darwin' ? ['Electron.app/Contents/MacOS/Electron'] : ['electron', 'electron.exe'];
    const found = names.map((name) => path.join(dist, name)).find((file) => fs.existsSync(file));
    return found
      ? { path: found, why: '' }
      : { why: `ELECTRON_OVERRIDE_DIST_PATH=${dist} holds no Electron binary` };
  }
  try {
    const onPath = execFileSync('sh', ['-c', 'command -v electron'], { encoding: 'utf8' }).trim();
    if (onPath) return { path: onPath, why: '' };
  } catch {}
  return {
    why: 'no Electron binary here (set ELECTRON_OVERRIDE_DIST_PATH to an Electron dist folder, or put electron on PATH); the repo does not download one',
  };
}

const binary = electronBinary();
if (!binary.path) console.info(`skipped the Electron end-to-end test: ${binary.why}`);

describe.skipIf(!binary.path)('the packaged main process under real Electron', () => {
  it('starts with the tray, opens its window, and keeps running with every window closed', async () => {
    execFileSync(process.execPath, ['build.mjs'], { cwd: APP_DIR });
    const userData = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-electron-'));
    const app = await electron.launch({
      executablePath: binary.path,
      args: [APP_DIR, `--user-data-dir=${userData}`],
      env: { ...process.env, HOME: userData },
    });
    try {
      const window = await app.firstWindow();
      expect(await window.title()).toBe('Warren');
      // The built renderer got its IPC port from the real preload and asked the main process
      // whether it is signed in anywhere: a fresh profile is not, so the desktop sign-in shows.
      await window.getByRole('heading', { name: 'Sign in to a Warren server' }).waitFor();
      expect(await app.evaluate(({ app: electronApp }) => electronApp.getPath('userData'))).toBe(userData);
      await window.close();
      // The tray keeps the app alive: the main process still answers.
      expect(await app.evaluate(() => process.pid)).toBeGreaterThan(0);
      // The SSH proxy socket is up, so `ssh warren.NAME` works as soon as a deployment is added.
      expect(fs.existsSync(path.join(userData, 'ssh', 'proxy.key'))).toBe(true);
    } finally {
      await app.close();
      fs.rmSync(userData, { recursive: true, force: true });
    }
  });
});
