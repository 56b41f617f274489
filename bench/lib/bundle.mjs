// TypeScript a bench needs from the repository (a fake server, core's Node code), bundled with
// the repository's own esbuild into a temp dir that cleanup removes, since Node 20 cannot run .ts.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { makeTempDir } from './cleanup.mjs';
import { DAEMON_DIR, ROOT } from './daemon.mjs';

/**
 * esbuild arguments for a bundle that takes CommonJS packages inside (ws, ssh2): they require Node
 * built-ins and read __dirname, which an ESM bundle must define; their optional native addons stay
 * out, so they fall back to JavaScript and Node's crypto, as the agent's bundle does.
 */
export const COMMONJS_INSIDE_ARGS = [
  '--external:bufferutil',
  '--external:utf-8-validate',
  '--external:cpu-features',
  '--external:*.node',
  `--banner:js=${[
    "import { createRequire as __benchCreateRequire } from 'node:module';",
    "import { fileURLToPath as __benchFileURLToPath } from 'node:url';",
    'const require = __benchCreateRequire(import.meta.url);',
    'const __filename = __benchFileURLToPath(import.meta.url);',
    "const __dirname = __benchFileURLToPath(new URL('.', import.meta.url));",
  ].join('\n')}`,
];

/** Bundles `source` (ESM, platform node) into a fresh temp dir, with `esbuildArgs` added; returns { dir, file }. */
export function bundleTypeScript(source, { prefix, name, esbuildArgs = [] }) {
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
    [
      source,
      '--bundle',
      '--platform=node',
      '--format=esm',
      `--outfile=${file}`,
      '--log-level=warning',
      ...esbuildArgs,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.status !== 0) throw new Error(`Bundling ${path.relative(ROOT, source)} failed.`);
  return { dir, file };
}
