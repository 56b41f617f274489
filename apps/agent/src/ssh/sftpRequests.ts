import fs from 'node:fs';
import path from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import {
  applyAttrs,
  handleTarget,
  openFlags,
  pathTarget,
  type RequestedAttrs,
  requestedMode,
  statsToAttrs,
} from './sftpAttrs';
import { extensionSubject, runExtension } from './sftpExtensions';
import type { SftpHandles } from './sftpHandles';
import { longname, type OwnerNames } from './sftpLongname';
import { SftpStatus, SftpStatusError } from './sftpStatus';

/**
 * A DATA reply must fit OpenSSH's 256 KiB message limit (SFTP_MAX_MSG_LENGTH) with its 13-byte header,
 * or the client aborts with "Received message too long"; OpenSSH's server keeps 1 KiB of room too.
 */
export const MAX_READ_LENGTH = 256 * 1024 - 1024;
/** Entries per READDIR reply, as in OpenSSH: big directories arrive in batches well under the limit. */
const READDIR_BATCH = 100;

export interface SftpSessionState {
  sftp: SFTPWrapper;
  handles: SftpHandles;
  owners: OwnerNames;
  /** A client path to an absolute one: relative paths and "" resolve against the workspace root. */
  resolve(clientPath: string): string;
}

/** Queues one request: `work` replies on success; a throw becomes a STATUS about `subject()`. */
export type RunRequest = (reqId: number, subject: () => string, work: () => Promise<void>) => void;

type Name = { filename: string; longname: string; attrs: object };

// ssh2 passes handles and WRITE data as views into its receive buffer, and requests run later
// (queued), so every Buffer a request carries is copied when it arrives.
const own = <T>(arg: T): T => (Buffer.isBuffer(arg) ? (Buffer.from(arg) as T) : arg);

/** Wires every SFTP v3 request type and EXTENDED to the file system. */
export function registerRequests(state: SftpSessionState, run: RunRequest): void {
  const { sftp, handles, owners, resolve } = state;

  // ssh2's typings declare one overload per event; these two helpers cover all of them, so the
  // listener is cast once here instead of at every request.
  /** A request whose first argument is a path, resolved against the root. */
  const onPath = <A extends unknown[]>(
    event: string,
    work: (reqId: number, p: string, ...args: A) => Promise<void>,
  ) =>
    sftp.on(
      event as 'STAT',
      ((reqId: number, target: string, ...args: A) => {
        const p = resolve(target);
        const copied = args.map(own) as A;
        run(
          reqId,
          () => p,
          () => work(reqId, p, ...copied),
        );
      }) as never,
    );
  /** A request whose first argument is a handle; errors name the handle's path. */
  const onHandle = <A extends unknown[]>(
    event: string,
    work: (reqId: number, wire: Buffer, ...args: A) => Promise<void>,
  ) =>
    sftp.on(
      event as 'FSTAT',
      ((reqId: number, view: Buffer, ...args: A) => {
        const wire = own(view);
        const copied = args.map(own) as A;
        run(
          reqId,
          () => handles.path(wire),
          () => work(reqId, wire, ...copied),
        );
      }) as never,
    );

  const nameOf = async (dir: string, name: string): Promise<Name | undefined> => {
    const stats = await fs.promises.lstat(path.join(dir, name)).catch(() => undefined);
    // An entry removed between readdir and lstat is simply not listed.
    if (!stats) return undefined;
    const owner = await owners.lookup(stats.uid, stats.gid);
    return { filename: name, longname: longname(name, stats, owner), attrs: statsToAttrs(stats) };
  };
  const names = (reqId: number, list: Name[]) => sftp.name(reqId, list as never);
  const ok = (reqId: number) => sftp.status(reqId, SftpStatus.OK);

  onPath('OPEN', async (reqId, p, pflags: number, attrs: RequestedAttrs) => {
    const fh = await fs.promises.open(p, openFlags(pflags), requestedMode(attrs, 0o666));
    sftp.handle(reqId, await handles.add({ kind: 'file', path: p, fh }));
  });

  onHandle('READ', async (reqId, wire, offset: number, length: number) => {
    const { fh } = handles.file(wire);
    const buf = Buffer.allocUnsafe(Math.min(length, MAX_READ_LENGTH));
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    if (bytesRead === 0) sftp.status(reqId, SftpStatus.EOF);
    else sftp.data(reqId, buf.subarray(0, bytesRead));
  });

  onHandle('WRITE', async (reqId, wire, offset: number, data: Buffer) => {
    const { fh } = handles.file(wire);
    for (let done = 0; done < data.length; ) {
      const { bytesWritten } = await fh.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
    ok(reqId);
  });

  onHandle('FSTAT', async (reqId, wire) => {
    sftp.attrs(reqId, statsToAttrs(await handles.file(wire).fh.stat()));
  });

  onHandle('FSETSTAT', async (reqId, wire, attrs: RequestedAttrs) => {
    await applyAttrs(handleTarget(handles.file(wire).fh), attrs);
    ok(reqId);
  });

  onHandle('CLOSE', async (reqId, wire) => {
    await handles.close(wire);
    ok(reqId);
  });

  onPath('OPENDIR', async (reqId, p) => {
    const dir = await fs.promises.opendir(p);
    sftp.handle(reqId, await handles.add({ kind: 'dir', path: p, dir, dotsSent: false, done: false }));
  });

  onHandle('READDIR', async (reqId, wire) => {
    const open = handles.dir(wire);
    const batch: Name[] = [];
    if (!open.dotsSent) {
      open.dotsSent = true;
      for (const dot of ['.', '..']) {
        const entry = await nameOf(open.path, dot);
        if (entry) batch.push(entry);
      }
    }
    while (!open.done && batch.length < READDIR_BATCH) {
      const dirent = await open.dir.read();
      if (!dirent) {
        open.done = true;
        break;
      }
      const entry = await nameOf(open.path, dirent.name);
      if (entry) batch.push(entry);
    }
    if (batch.length === 0) sftp.status(reqId, SftpStatus.EOF);
    else names(reqId, batch);
  });

  onPath('STAT', async (reqId, p) => sftp.attrs(reqId, statsToAttrs(await fs.promises.stat(p))));
  onPath('LSTAT', async (reqId, p) => sftp.attrs(reqId, statsToAttrs(await fs.promises.lstat(p))));

  onPath('SETSTAT', async (reqId, p, attrs: RequestedAttrs) => {
    await applyAttrs(pathTarget(p), attrs);
    ok(reqId);
  });

  onPath('REMOVE', async (reqId, p) => {
    await fs.promises.unlink(p);
    ok(reqId);
  });

  onPath('RMDIR', async (reqId, p) => {
    await fs.promises.rmdir(p);
    ok(reqId);
  });

  onPath('MKDIR', async (reqId, p, attrs: RequestedAttrs) => {
    await fs.promises.mkdir(p, { mode: requestedMode(attrs, 0o777) });
    ok(reqId);
  });

  onPath('REALPATH', async (reqId, p) => {
    const real = await canonical(p);
    names(reqId, [{ filename: real, longname: real, attrs: {} }]);
  });

  onPath('RENAME', async (reqId, src, to: string) => {
    const dst = resolve(to);
    // SSH_FXP_RENAME must not replace an existing target (filexfer-02 6.5); clients that want
    // replacement use posix-rename@openssh.com. The check-then-rename race is the one OpenSSH's
    // server also accepts on file systems without hard links.
    if (await fs.promises.lstat(dst).catch(() => undefined)) {
      throw new SftpStatusError(SftpStatus.FAILURE, `${JSON.stringify(dst)} already exists.`);
    }
    await fs.promises.rename(src, dst);
    ok(reqId);
  });

  onPath('READLINK', async (reqId, p) => {
    const link = await fs.promises.readlink(p);
    names(reqId, [{ filename: link, longname: link, attrs: {} }]);
  });

  // ssh2 already undoes OpenSSH's swapped SYMLINK arguments (OpenSSH sends the target first, against
  // the draft), so both orders arrive here as (link, target). The target is stored as the client wrote it.
  onPath('SYMLINK', async (reqId, linkPath, targetPath: string) => {
    await fs.promises.symlink(targetPath, linkPath);
    ok(reqId);
  });

  const extensions = {
    sftp,
    resolve,
    syncHandle: (wire: Buffer) => handles.file(wire).fh.sync(),
  };
  sftp.on('EXTENDED', (reqId: number, name: string, view: Buffer | undefined) => {
    const data = own(view);
    run(
      reqId,
      () => extensionSubject(name, data, extensions),
      () => runExtension(reqId, name, data, extensions),
    );
  });
}

/** realpath(3) that, like OpenSSH's, also answers for a path whose last part does not exist yet. */
async function canonical(p: string): Promise<string> {
  try {
    return await fs.promises.realpath(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const parent = await fs.promises.realpath(path.dirname(p)).catch(() => path.dirname(p));
    return path.join(parent, path.basename(p));
  }
}
