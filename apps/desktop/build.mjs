import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

/**
 * The desktop's main-process files, each one self-contained, because the packaged app ships
 * dist/ and no node_modules (electron-builder.yml `files`):
 *   dist/main.cjs             Electron main (electron itself is provided by the runtime)
 *   dist/preload.cjs          the preload bridge
 *   dist/warren-ssh-proxy.mjs the ProxyCommand OpenSSH runs (Node or the app binary as Node)
 *   dist/renderer/            the window's page: index.html + assets/index.{js,css} (packages/ui)
 * ssh2's optional native speed-ups stay out: it falls back to JavaScript and Node's crypto, so the
 * app carries no native module.
 */
const only = process.argv.includes('--proxy-only');
const rendererOnly = process.argv.includes('--renderer-only');
fs.mkdirSync('dist', { recursive: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  external: ['electron', 'bufferutil', 'utf-8-validate', 'cpu-features', '*.node'],
};

if (!rendererOnly)
  await build({
    ...common,
    entryPoints: { 'warren-ssh-proxy': 'src/sshProxy/warrenSshProxy.ts' },
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    format: 'esm',
  });

if (!only && !rendererOnly) {
  await build({
    ...common,
    entryPoints: { main: 'src/electron/main.ts', preload: 'src/electron/preload.ts' },
    outdir: 'dist',
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
  });
}

/**
 * The renderer: one classic script (no ES module chunks), because a page loaded from file:// may
 * not fetch module scripts, and one stylesheet. The page may load only its own files and talk to
 * nothing: every call goes over the IPC port, so `connect-src 'none'`.
 */
async function buildRenderer() {
  const out = path.join('dist', 'renderer');
  fs.rmSync(out, { recursive: true, force: true });
  await build({
    entryPoints: { index: 'src/renderer/index.tsx' },
    outdir: path.join(out, 'assets'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome120'],
    minify: true,
    sourcemap: 'linked',
    jsx: 'automatic',
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    // React and xterm.js set style attributes.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'none'",
  ].join('; ');
  fs.writeFileSync(
    path.join(out, 'index.html'),
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Warren</title>
<link rel="stylesheet" href="assets/index.css">
<script defer src="assets/index.js"></script>
</head>
<body>
<div id="root"></div>
</body>
</html>
`,
  );
}

if (!only) await buildRenderer();
