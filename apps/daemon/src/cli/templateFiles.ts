import fs from 'node:fs';
import path from 'node:path';
import { WarrenError } from '@warren/core';

export const MANIFEST_FILE = 'warren.yaml';
/** The server keeps at most this much besides the manifest. */
const MAX_TOTAL_BYTES = 10 * 1024 * 1024;
/** One file travels as base64 of at most 1 MiB, so its bytes are three quarters of that. */
const MAX_FILE_BYTES = (1024 * 1024 * 3) / 4;
const MAX_PATH_LENGTH = 255;

export interface TemplateSource {
  /** Where the manifest is, as the user wrote the directory: for `file:line:col` messages. */
  manifestPath: string;
  manifest: string;
  /** Every other file, by path relative to the directory (with "/"), as base64. */
  files: Record<string, string>;
}

/** A template directory as it is pushed: hidden files and folders (.git, .env) stay behind. */
export function readTemplateDir(dir: string): TemplateSource {
  const manifestPath = path.join(dir, MANIFEST_FILE);
  let manifest: string;
  try {
    manifest = fs.readFileSync(manifestPath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new WarrenError(
        'INVALID_INPUT',
        `${manifestPath} does not exist; start a template with: warren templates init ${dir}`,
      );
    }
    throw new WarrenError('INVALID_INPUT', `cannot read ${manifestPath}: ${(error as Error).message}`);
  }
  const files: Record<string, string> = {};
  let total = 0;
  for (const relative of listFiles(dir, '')) {
    if (relative === MANIFEST_FILE) continue;
    const size = fs.statSync(path.join(dir, relative)).size;
    if (relative.length > MAX_PATH_LENGTH) {
      throw new WarrenError(
        'INVALID_INPUT',
        `${relative}: template file paths may be at most ${MAX_PATH_LENGTH} characters.`,
      );
    }
    if (size > MAX_FILE_BYTES) {
      throw new WarrenError(
        'PAYLOAD_TOO_LARGE',
        `${relative} is ${kib(size)}; a template file may be at most ${kib(MAX_FILE_BYTES)}.`,
      );
    }
    total += size;
    if (total > MAX_TOTAL_BYTES) {
      throw new WarrenError(
        'PAYLOAD_TOO_LARGE',
        `The files in ${dir} add up to more than 10 MiB, the most a template may hold.`,
      );
    }
    files[relative] = fs.readFileSync(path.join(dir, relative)).toString('base64');
  }
  return { manifestPath, manifest, files };
}

/** Regular files only: a symlink could point anywhere on this machine. */
function listFiles(root: string, prefix: string): string[] {
  const entries = fs.readdirSync(path.join(root, prefix), { withFileTypes: true });
  return entries
    .filter((entry) => !entry.name.startsWith('.'))
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) return listFiles(root, relative);
      return entry.isFile() ? [relative] : [];
    });
}

/**
 * Writes a pulled or starter template. Paths come from the server, so each must stay inside
 * `dir`; nothing that exists is overwritten unless `force`.
 */
export function writeTemplateDir(
  dir: string,
  manifest: string,
  files: Record<string, string>,
  options: { force?: boolean } = {},
): string[] {
  const targets: [string, Buffer][] = [
    [MANIFEST_FILE, Buffer.from(manifest, 'utf8')],
    ...Object.entries(files).map(([relative, base64]): [string, Buffer] => [
      relative,
      Buffer.from(base64, 'base64'),
    ]),
  ];
  const resolvedDir = path.resolve(dir);
  for (const [relative] of targets) {
    const target = path.resolve(resolvedDir, relative);
    if (!target.startsWith(`${resolvedDir}${path.sep}`)) {
      throw new WarrenError(
        'UPSTREAM',
        `The template has a file outside its directory (${JSON.stringify(relative)}); nothing was written.`,
      );
    }
    if (!options.force && fs.existsSync(target)) {
      throw new WarrenError(
        'CONFLICT',
        `${path.join(dir, relative)} already exists; pass --force to overwrite it.`,
      );
    }
  }
  for (const [relative, body] of targets) {
    const target = path.resolve(resolvedDir, relative);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, body);
  }
  return targets.map(([relative]) => relative);
}

const kib = (bytes: number) => `${Math.ceil(bytes / 1024)} KiB`;
