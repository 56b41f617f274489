import fs from 'node:fs';
import { build } from 'esbuild';

/**
 * The desktop's main-process files, each one self-contained, because the packaged app ships
 * dist/ and no node_modules (electron-builder.yml `files`):
 *   dist/main.cjs             Electron main (electron itself is provided by the runtime)
 *   dist/preload.cjs          the preload bridge
 *   dist/warren-ssh-proxy.mjs the ProxyCommand OpenSSH runs (Node or the app binary as Node)
 * ssh2's optional native speed-ups stay out: it falls back to JavaScript and Node's crypto, so the
 * app carries no native module.
 */
const only = process.argv.includes('--proxy-only');
fs.mkdirSync('dist', { recursive: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  external: ['electron', 'bufferutil', 'utf-8-validate', 'cpu-features', '*.node'],
};

await build({
  ...common,
  entryPoints: { 'warren-ssh-proxy': 'src/sshProxy/warrenSshProxy.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  format: 'esm',
});

if (!only) {
  await build({
    ...common,
    entryPoints: { main: 'src/electron/main.ts', preload: 'src/electron/preload.ts' },
    outdir: 'dist',
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
  });
}
