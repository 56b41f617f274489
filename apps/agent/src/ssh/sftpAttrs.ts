import fs, { constants as C } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/** The ATTRS of an SFTP v3 reply. Times are whole seconds since the epoch. */
export interface SftpAttrs {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  atime: number;
  mtime: number;
}

/**
 * ATTRS as ssh2 parses them from a request: only the fields whose flag the client set are numbers.
 * (@types/ssh2 declares them all present, which is not what arrives on the wire.)
 */
export type RequestedAttrs = Partial<Record<keyof SftpAttrs, number | undefined>>;

/** SSH_FXF_* open flags (filexfer-02 section 6.3). */
const Pflag = { READ: 0x01, WRITE: 0x02, APPEND: 0x04, CREAT: 0x08, TRUNC: 0x10, EXCL: 0x20 } as const;

export function statsToAttrs(stats: fs.Stats): SftpAttrs {
  return {
    mode: stats.mode,
    // ATTRS carry 32-bit ids; nobody (65534) stands in for ids that do not fit, as OpenSSH does.
    uid: stats.uid > 0xffffffff ? 65534 : stats.uid,
    gid: stats.gid > 0xffffffff ? 65534 : stats.gid,
    size: stats.size,
    atime: Math.floor(stats.atimeMs / 1000),
    mtime: Math.floor(stats.mtimeMs / 1000),
  };
}

/** SSH_FXF_* flags to open(2) flags. A request with neither READ nor WRITE opens read-only, as OpenSSH does. */
export function openFlags(pflags: number): number {
  const read = (pflags & Pflag.READ) !== 0;
  const write = (pflags & Pflag.WRITE) !== 0;
  let flags = read && write ? C.O_RDWR : write ? C.O_WRONLY : C.O_RDONLY;
  if (pflags & Pflag.APPEND) flags |= C.O_APPEND;
  if (pflags & Pflag.CREAT) flags |= C.O_CREAT;
  if (pflags & Pflag.TRUNC) flags |= C.O_TRUNC;
  // EXCL only means something with CREAT (open(2) leaves it undefined otherwise), as in OpenSSH.
  if (pflags & Pflag.EXCL && pflags & Pflag.CREAT) flags |= C.O_EXCL;
  return flags;
}

/** Permission bits requested for a new file or directory, or the default a shell would use before umask. */
export function requestedMode(attrs: RequestedAttrs, fallback: number): number {
  return typeof attrs.mode === 'number' ? attrs.mode & 0o7777 : fallback;
}

/** The operations SETSTAT and FSETSTAT share, on a path or on an open file. */
interface AttrTarget {
  truncate(size: number): Promise<void>;
  chmod(mode: number): Promise<void>;
  utimes(atime: number, mtime: number): Promise<void>;
  chown(uid: number, gid: number): Promise<void>;
  stat(): Promise<fs.Stats>;
}

export function pathTarget(p: string): AttrTarget {
  return {
    truncate: (size) => fs.promises.truncate(p, size),
    chmod: (mode) => fs.promises.chmod(p, mode),
    utimes: (atime, mtime) => fs.promises.utimes(p, atime, mtime),
    chown: (uid, gid) => fs.promises.chown(p, uid, gid),
    stat: () => fs.promises.stat(p),
  };
}

export function handleTarget(fh: FileHandle): AttrTarget {
  return {
    truncate: (size) => fh.truncate(size),
    chmod: (mode) => fh.chmod(mode),
    utimes: (atime, mtime) => fh.utimes(atime, mtime),
    chown: (uid, gid) => fh.chown(uid, gid),
    stat: () => fh.stat(),
  };
}

/**
 * Applies SETSTAT attributes in OpenSSH's order: size, permissions, times, owner. The owner is best
 * effort: graphical clients send the uid/gid they just read along with a chmod, and an unprivileged
 * agent cannot chown, so an owner that is already right is not touched; only a real change is tried.
 */
export async function applyAttrs(target: AttrTarget, attrs: RequestedAttrs): Promise<void> {
  if (typeof attrs.size === 'number') await target.truncate(attrs.size);
  if (typeof attrs.mode === 'number') await target.chmod(attrs.mode & 0o7777);
  if (typeof attrs.atime === 'number' && typeof attrs.mtime === 'number') {
    await target.utimes(attrs.atime, attrs.mtime);
  }
  if (typeof attrs.uid === 'number' && typeof attrs.gid === 'number') {
    const current = await target.stat();
    if (current.uid !== attrs.uid || current.gid !== attrs.gid) await target.chown(attrs.uid, attrs.gid);
  }
}
