import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { WarrenError } from '@warren/core';
import { fsError } from './paths';

export interface AtomicWriteResult {
  /** The file that was written: `file` itself, or the file a symlink at `file` points to. */
  written: string;
  bytes: number;
  created: boolean;
}

/**
 * Replaces `file` so that a reader sees either the old or the new content, never a mix, even if
 * the agent dies half-way: the content goes to a temp file in the same directory (a rename is
 * atomic only within one file system), is fsynced, then renamed over the file. The file keeps
 * its mode and, where allowed, its owner; a symlink is written through, not replaced. The temp
 * file never outlives a failure.
 */
export async function writeFileAtomic(file: string, content: string): Promise<AtomicWriteResult> {
  const target = await followSymlink(file);
  const existing = await statIfExists(target);
  if (existing?.isDirectory())
    throw new WarrenError('INVALID_INPUT', `${target} is a directory; writeFile writes files only.`);
  const data = Buffer.from(content, 'utf8');
  const dir = path.dirname(target);
  const temp = path.join(dir, `.${path.basename(target)}.warren-${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.FileHandle | undefined;
  try {
    // A new file gets the usual umask'd mode; an existing one's mode is copied with chmod below.
    handle = await fs.open(temp, 'wx', existing ? 0o600 : 0o666);
    await handle.writeFile(data);
    if (existing) await keepOwnership(handle, existing);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(temp, target);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw fsError(error, 'write', target);
  }
  await syncDirectory(dir);
  return { written: target, bytes: data.byteLength, created: existing === undefined };
}

async function followSymlink(file: string): Promise<string> {
  try {
    const stat = await fs.lstat(file);
    if (!stat.isSymbolicLink()) return file;
    return await fs
      .realpath(file)
      .catch(async () => path.resolve(path.dirname(file), await fs.readlink(file)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return file;
    throw fsError(error, 'write', file);
  }
}

async function statIfExists(file: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      await assertParentExists(file);
      return undefined;
    }
    throw fsError(error, 'write', file);
  }
}

async function assertParentExists(file: string): Promise<void> {
  const dir = path.dirname(file);
  const stat = await fs.stat(dir).catch(() => undefined);
  if (!stat)
    throw new WarrenError(
      'NOT_FOUND',
      `Could not write ${file}: the directory ${dir} does not exist (set createDirs to create it).`,
    );
  if (!stat.isDirectory())
    throw new WarrenError('INVALID_INPUT', `Could not write ${file}: ${dir} is not a directory.`);
}

async function keepOwnership(handle: fs.FileHandle, existing: Stats): Promise<void> {
  // Only root may give a file away; an agent running as the user keeps its own ownership.
  if (existing.uid !== process.getuid?.() || existing.gid !== process.getgid?.())
    await handle.chown(existing.uid, existing.gid).catch(() => undefined);
  // After chown, which clears setuid and setgid bits.
  await handle.chmod(existing.mode & 0o7777);
}

/** Makes the rename itself durable; best effort, some file systems refuse fsync on a directory. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r').catch(() => undefined);
  await handle
    ?.sync()
    .catch(() => undefined)
    .finally(() => handle.close().catch(() => undefined));
}
