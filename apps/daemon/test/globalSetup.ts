import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ARTIFACTS_DIR } from './harness';

const daemonDir = path.resolve(import.meta.dirname, '..');
const agentDir = path.resolve(daemonDir, '..', 'agent');
const coreSrc = path.resolve(daemonDir, '..', '..', 'packages', 'core', 'src');

/** The newest modification time under `dir`, for deciding whether a bundle is stale. */
function newestMtime(dir: string): number {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .reduce(
      (newest, entry) => Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs),
      0,
    );
}

/** Rebuilds a bundle whose sources are newer, once, before any test file runs it. */
function ensureBuilt(packageDir: string, bundle: string, sources: string[]): void {
  const built = fs.existsSync(bundle) ? fs.statSync(bundle).mtimeMs : 0;
  if (sources.some((dir) => newestMtime(dir) > built)) {
    execFileSync(process.execPath, ['build.mjs'], { cwd: packageDir, stdio: 'pipe' });
  }
}

/**
 * Each run starts with no logs or remembered secrets from an earlier one, and with the CLI and
 * agent bundles that the tests spawn built from the current sources.
 */
export default function setup(): void {
  fs.rmSync(ARTIFACTS_DIR, { recursive: true, force: true });
  fs.mkdirSync(`${ARTIFACTS_DIR}/logs`, { recursive: true });
  ensureBuilt(agentDir, path.join(agentDir, 'dist', 'warren-agent.mjs'), [
    path.join(agentDir, 'src'),
    coreSrc,
  ]);
  ensureBuilt(daemonDir, path.join(daemonDir, 'dist', 'warren.mjs'), [path.join(daemonDir, 'src'), coreSrc]);
}
