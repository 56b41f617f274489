import fs from 'node:fs';
import { build } from 'esbuild';

const { version } = JSON.parse(fs.readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

/**
 * One self-contained file (ws, zod and @warren/core inside) that runs with nothing but `node`:
 * the daemon serves it at /bin/warren-agent.mjs and workspaces download and run it.
 */
await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/warren-agent.mjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  legalComments: 'eof',
  define: { WARREN_AGENT_VERSION: JSON.stringify(version) },
  // ws tries these optional native addons and falls back to JavaScript when they are missing.
  external: ['bufferutil', 'utf-8-validate'],
  // ws is CommonJS and requires Node built-ins; an ESM bundle needs a real `require` for them.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __warrenCreateRequire } from 'node:module';\nconst require = __warrenCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
