import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { ESM_BUNDLE_BANNER, OPTIONAL_NATIVE_ADDONS, zodEnglishOnly } from '../../scripts/bundling.mjs';

const here = import.meta.dirname;
const outfile = path.join(here, 'dist', 'warren-agent.mjs');
const { version } = JSON.parse(fs.readFileSync(path.join(here, 'package.json'), 'utf8'));

/** Newest modification time of the files the bundle is made from. */
function newestSource() {
  let newest = 0;
  for (const dir of [path.join(here, 'src'), path.join(here, '..', '..', 'packages', 'core', 'src')]) {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (entry.isFile())
        newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

// `--if-stale` (used by tests): rebuild only when a source is newer than the bundle.
const upToDate =
  process.argv.includes('--if-stale') &&
  fs.existsSync(outfile) &&
  fs.statSync(outfile).mtimeMs >= newestSource();

/**
 * One self-contained file (ws, zod and @warren/core inside) that runs with nothing but `node`:
 * the daemon serves it at /bin/warren-agent.mjs and workspaces download and run it.
 */
if (!upToDate) {
  await build({
    entryPoints: [path.join(here, 'src', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    legalComments: 'eof',
    define: { WARREN_AGENT_VERSION: JSON.stringify(version) },
    external: OPTIONAL_NATIVE_ADDONS,
    // ws and ssh2 are CommonJS: they require Node built-ins and read __dirname (ssh2 looks for
    // its optional addon beside itself), which an ESM bundle must define.
    banner: { js: ESM_BUNDLE_BANNER },
    plugins: [zodEnglishOnly],
    logLevel: 'warning',
  });
}
