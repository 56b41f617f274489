import fs from 'node:fs';
import { build } from 'esbuild';
import { ESM_BUNDLE_BANNER, OPTIONAL_NATIVE_ADDONS, zodEnglishOnly } from '../../scripts/bundling.mjs';

/**
 * Pure JavaScript packages the CLI loads on every start, bundled into it: loaded from
 * node_modules they were about 300 files, each resolved, read and compiled on its own, which made
 * `warren ssh` (run by OpenSSH for every connection through config-ssh) spend most of its time
 * starting. ssh2's compiled crypto (built at install) stays in node_modules and is found there.
 */
const BUNDLED = new Set([
  'zod',
  'yaml',
  'ws',
  'commander',
  'ssh2',
  '@trpc/client',
  '@trpc/server',
  'asn1',
  'bcrypt-pbkdf',
  'tweetnacl',
  'safer-buffer',
]);

const packageName = (specifier) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

// Chunks are named by content hash: old ones would pile up beside the new.
fs.rmSync('dist', { recursive: true, force: true });

/** One file for the CLI and daemon; other dependencies stay in node_modules (native addons among them). */
const result = await build({
  entryPoints: { warren: 'src/cli/main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  // The server loads lazily, so CLI commands start without Fastify, Kysely or the drivers.
  splitting: true,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  metafile: Boolean(process.env.WARREN_METAFILE),
  // Bundled CommonJS packages require Node built-ins (and ssh2 looks for its addon beside itself).
  banner: { js: ESM_BUNDLE_BANNER },
  external: OPTIONAL_NATIVE_ADDONS,
  logLevel: 'warning',
  // Workspace packages are TypeScript source, and BUNDLED as above: bundle them; every other
  // package stays external.
  plugins: [
    zodEnglishOnly,
    {
      // ssh2 loads its compiled AES-GCM beside its own file, which the bundle is not; without it
      // ssh2 falls back to Node's crypto, which cost the relay's client a fifth more CPU per GiB.
      name: 'ssh2-binding',
      setup(b) {
        b.onLoad({ filter: /[\\/]ssh2[\\/]lib[\\/]protocol[\\/]crypto\.js$/ }, async (args) => {
          const source = await fs.promises.readFile(args.path, 'utf8');
          const local = "require('./crypto/build/Release/sshcrypto.node')";
          if (!source.includes(local))
            throw new Error(`ssh2 no longer loads its binding as ${local}: update apps/daemon/build.mjs.`);
          const installed = "require('ssh2/lib/protocol/crypto/build/Release/sshcrypto.node')";
          return { contents: source.replace(local, installed), loader: 'js' };
        });
      },
    },
    {
      name: 'external-dependencies',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          if (args.path.startsWith('@warren/') || args.path.startsWith('node:')) return undefined;
          return BUNDLED.has(packageName(args.path)) ? undefined : { path: args.path, external: true };
        });
      },
    },
  ],
});
// WARREN_METAFILE=path writes esbuild's account of what went into which file (for size work).
if (process.env.WARREN_METAFILE)
  fs.writeFileSync(process.env.WARREN_METAFILE, JSON.stringify(result.metafile));
