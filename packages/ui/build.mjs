import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { build } from 'esbuild';

/**
 * The web UI for production: minified ES modules with content-hashed names under
 * dist/assets (cached forever by the daemon), and an index.html that names them (never
 * cached). dist/entries.json lists each entry's files for bench/ui.
 */
// Paths below are relative to this package, wherever the build is started from.
process.chdir(import.meta.dirname);
const outdir = 'dist';
fs.rmSync(outdir, { recursive: true, force: true });

/**
 * `import { z } from 'zod'` hands the bundler zod's whole namespace as one value, so every
 * schema kind, the JSON-schema code and all ~40 locales land in the bundle (~450 KiB). Read as
 * `import * as z`, each `z.object`-style access is a static reference and the rest is dropped.
 * Same module, same behaviour: only what the bundler can see changes.
 */
const zodNamespaceImports = {
  name: 'zod-namespace-imports',
  setup(b) {
    b.onLoad({ filter: /[\\/](core|ui)[\\/]src[\\/].*\.tsx?$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, 'utf8');
      if (!source.includes("import { z } from 'zod';")) return undefined;
      return {
        contents: source.replaceAll("import { z } from 'zod';", "import * as z from 'zod';"),
        loader: args.path.endsWith('x') ? 'tsx' : 'ts',
      };
    });
  },
};

const result = await build({
  absWorkingDir: import.meta.dirname,
  entryPoints: { app: 'src/web/main.tsx' },
  outdir: `${outdir}/assets`,
  entryNames: '[name]-[hash]',
  chunkNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome115', 'firefox115', 'safari16'],
  minify: !process.env.UI_NO_MINIFY,
  sourcemap: 'linked',
  jsx: 'automatic',
  legalComments: 'none',
  define: { 'process.env.NODE_ENV': '"production"' },
  metafile: true,
  plugins: [zodNamespaceImports],
  logLevel: 'warning',
});

// UI_BUILD_ANALYZE=1 node build.mjs: which packages fill the bundle, largest first.
if (process.env.UI_BUILD_ANALYZE) {
  const byPackage = {};
  for (const output of Object.values(result.metafile.outputs))
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name =
        /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input;
      byPackage[name] = (byPackage[name] ?? 0) + bytesInOutput;
    }
  console.table(
    Object.entries(byPackage)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12),
  );
}

const outputs = Object.entries(result.metafile.outputs);
const rel = (file) => `/${path.relative(outdir, file).split(path.sep).join('/')}`;
const [entryFile, entry] = outputs.find(([, o]) => o.entryPoint === 'src/web/main.tsx') ?? [];
if (!entryFile || !entry) throw new Error('esbuild produced no app entry.');
const css = entry.cssBundle ? rel(entry.cssBundle) : undefined;

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Warren</title>
<link rel="icon" href="data:,">
${css ? `<link rel="stylesheet" href="${css}">\n` : ''}<script type="module" src="${rel(entryFile)}"></script>
</head>
<body>
<div id="root"></div>
<noscript>Warren needs JavaScript turned on.</noscript>
</body>
</html>
`;
fs.writeFileSync(path.join(outdir, 'index.html'), html);

// Each script the app may load: the entry up front, the rest (lazy screens) on demand.
const scripts = outputs
  .filter(([file]) => file.endsWith('.js'))
  .map(([file, o]) => ({
    file: rel(file),
    entry: o.entryPoint ?? null,
    bytes: o.bytes,
    // Static imports load with the file; dynamic ones (lazy screens) only when navigated to.
    imports: o.imports.filter((i) => i.kind === 'import-statement').map((i) => rel(i.path)),
  }));
fs.writeFileSync(
  path.join(outdir, 'entries.json'),
  `${JSON.stringify({ index: '/index.html', app: rel(entryFile), css, scripts }, null, 2)}\n`,
);
// Precompressed twins: the daemon sends the one the browser accepts, with no work per request.
for (const file of fs.readdirSync(path.join(outdir, 'assets'))) {
  if (!/\.(js|css)$/.test(file)) continue;
  const full = path.join(outdir, 'assets', file);
  const body = fs.readFileSync(full);
  fs.writeFileSync(`${full}.gz`, zlib.gzipSync(body, { level: 9 }));
  fs.writeFileSync(
    `${full}.br`,
    zlib.brotliCompressSync(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }),
  );
}

const hash = createHash('sha256').update(html).digest('hex').slice(0, 12);
console.log(
  `built ${scripts.length} scripts${css ? ' and 1 stylesheet' : ''} into ${outdir}/ (index ${hash})`,
);
