import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ensureBuilt } from './daemonProcess';

/** The daemon and agent bundles the tests run, and the desktop's own SSH proxy script. */
export default function setup(): void {
  ensureBuilt();
  execFileSync(process.execPath, ['build.mjs', '--proxy-only'], {
    cwd: path.resolve(import.meta.dirname, '..', '..'),
  });
}
