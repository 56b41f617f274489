// TypeScript a bench needs from the repository (a fake server, core's Node code), bundled with
// the repository's own esbuild into a temp dir that cleanup removes, since Node 20 cannot run .ts.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { makeTempDir } from './cleanup.mjs';
import { DAEMON_DIR, ROOT } from './daemon.mjs';

/** Bundles `source` (ESM, platform node) into a fresh temp dir; returns { dir, file }. */
export function bundleTypeScript(source, { prefix, name }) {
  const esbuild = [
    path.join(DAEMON_DIR, 'node_modules', '.bin', 'esbuild'),
    path.join(ROOT, 'node_modules', '.bin', 'esbuild'),
  ].find((bin) => spawnSync(bin, ['--version']).status === 0);
  if (!esbuild)
    throw new Error('esbuild was not found in apps/daemon/node_modules or node_modules; run pnpm install.');
  const { dir } = makeTempDir(prefix);
  const file = path.join(dir, name);
  const result = spawnSync(
    esbuild,
    [source, '--bundle', '--platform=node', '--format=esm', `--outfile=${file}`, '--log-level=warning'],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.status !== 0) throw new Error(`Bundling ${path.relative(ROOT, source)} failed.`);
  return { dir, file };
}
