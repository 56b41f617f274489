import { build } from 'esbuild';

/** One file for the CLI and daemon; dependencies stay in node_modules (native addons among them). */
await build({
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
  banner: { js: '#!/usr/bin/env node' },
  // Workspace packages are TypeScript source: bundle them; every other package stays external.
  plugins: [
    {
      name: 'external-dependencies',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@warren/') ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
});
