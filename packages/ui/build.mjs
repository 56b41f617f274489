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
const outdir = 'dist';
fs.rmSync(outdir, { recursive: true, force: true });

const result = await build({
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
  minify: true,
  sourcemap: 'linked',
  jsx: 'automatic',
  legalComments: 'none',
  define: { 'process.env.NODE_ENV': '"production"' },
  metafile: true,
  logLevel: 'warning',
});

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
  .map(([file, o]) => ({ file: rel(file), entry: o.entryPoint ?? null, bytes: o.bytes }));
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
console.log(`built ${scripts.length} scripts${css ? ' and 1 stylesheet' : ''} into ${outdir}/ (index ${hash})`);
