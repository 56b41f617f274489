import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The built-in templates shipped in apps/daemon/templates, found from the source tree
 * (src/templates) or from the bundle (dist, dist/chunks) alike.
 */
export function builtinTemplatesDir(): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'templates', 'local', 'warren.yaml');
    if (existsSync(candidate)) return path.join(dir, 'templates');
    dir = path.dirname(dir);
  }
  return path.resolve(import.meta.dirname, '..', '..', 'templates');
}
