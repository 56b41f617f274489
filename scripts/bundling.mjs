// Pieces shared by the esbuild scripts of apps/daemon and apps/agent.
/**
 * The first lines of an ESM bundle that carries CommonJS packages (ws, ssh2, commander): an
 * executable's shebang, and the `require`, `__filename` and `__dirname` those packages use, which
 * ESM does not define. For esbuild's `banner.js`, in apps/daemon and apps/agent.
 */
export const ESM_BUNDLE_BANNER = [
  '#!/usr/bin/env node',
  "import { createRequire as __warrenCreateRequire } from 'node:module';",
  "import { fileURLToPath as __warrenFileURLToPath } from 'node:url';",
  'const require = __warrenCreateRequire(import.meta.url);',
  'const __filename = __warrenFileURLToPath(import.meta.url);',
  "const __dirname = __warrenFileURLToPath(new URL('.', import.meta.url));",
].join('\n');

/**
 * Optional native addons of bundled packages, left outside the bundle: ws tries bufferutil and
 * utf-8-validate, ssh2 tries cpu-features and its own compiled crypto (a `.node` file), and each
 * falls back to JavaScript or Node's crypto without them.
 */
export const OPTIONAL_NATIVE_ADDONS = ['bufferutil', 'utf-8-validate', 'cpu-features', '*.node'];

/**
 * An esbuild plugin: zod re-exports all of its ~50 message locales (about 350 KB of source, parsed
 * at every start of whatever bundles it); Warren only ever uses the English one, which zod sets
 * itself.
 */
export const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";',
      loader: 'js',
    }));
  },
};
