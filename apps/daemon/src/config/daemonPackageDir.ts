import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The daemon package's directory, from source (src/<folder>) or from the bundle (dist, dist/chunks). */
export function daemonPackageDir(): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 5; i++) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === '@warren/daemon')
          return dir;
      } catch {
        // Not ours; keep walking up.
      }
    }
    dir = path.dirname(dir);
  }
  return path.resolve(import.meta.dirname, '..', '..');
}
