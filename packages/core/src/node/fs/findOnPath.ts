import path from 'node:path';
import { isExecutableFile } from './isExecutableFile';

/** Where `binary` is on `searchPath` (PATH by default) as an executable file, or undefined. */
export function findOnPath(binary: string, searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, binary);
    if (isExecutableFile(file)) return file;
  }
  return undefined;
}
