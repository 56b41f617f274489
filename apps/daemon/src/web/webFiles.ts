import path from 'node:path';
import { daemonPackageDir } from '../config/daemonPackageDir';

/** Where the daemon finds the built web UI: WARREN_UI_DIR, else packages/ui/dist in this checkout. */
export function resolveWebDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WARREN_UI_DIR) return path.resolve(env.WARREN_UI_DIR);
  return path.resolve(daemonPackageDir(), '..', '..', 'packages', 'ui', 'dist');
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeOf(file: string): string {
  return contentTypes[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The precompressed twin (written by the UI build) the client accepts, best first. Chosen
 * from Accept-Encoding tokens; q=0 means "not this one".
 */
export function pickEncoding(acceptEncoding: string | undefined, available: { br: boolean; gzip: boolean }) {
  const accepted = new Set(
    (acceptEncoding ?? '')
      .split(',')
      .map((part) => part.trim().toLowerCase())
      .filter((part) => !/;\s*q=0(\.0*)?$/.test(part))
      .map((part) => part.split(';')[0]?.trim()),
  );
  if (available.br && accepted.has('br')) return 'br' as const;
  if (available.gzip && accepted.has('gzip')) return 'gzip' as const;
  return undefined;
}

/** App routes are paths without a file extension outside the daemon's own prefixes. */
export function isAppRoute(urlPath: string): boolean {
  if (/^\/(api|bin)(\/|$)/.test(urlPath) || urlPath === '/healthz') return false;
  return path.posix.extname(urlPath) === '';
}
