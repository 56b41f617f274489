import fs from 'node:fs';
import path from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import { z } from 'zod';
import { WarrenError } from '@warren/core';
import { applyAttrs, handleTarget, openFlags, pathTarget, type RequestedAttrs, requestedMode, statsToAttrs } from './sftpAttrs';
import { extensionSubject, runExtension, SFTP_EXTENSIONS } from './sftpExtensions';
import { type OpenFile, SftpHandles } from './sftpHandles';
import { longname, OwnerNames } from './sftpLongname';
import { SftpStatus, SftpStatusError, toSftpStatus } from './sftpStatus';
import { advertiseExtensions } from './sftpWire';

/** What the SFTP server logs through; the agent's AgentLog fits. */
export interface SftpLog {
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface SftpOptions {
  /** The workspace directory: relative paths and "." resolve here. Absolute paths are used as they are. */
  root: string;
  log?: SftpLog;
}

const optionsSchema = z
  .object({
    root: z.string().refine(path.isAbsolute, 'The SFTP root must be an absolute path.'),
    log: z
      .custom<SftpLog>(
        (v) => typeof v === 'object' && v !== null && typeof (v as SftpLog).warn === 'function',
        'The SFTP log must have debug and warn methods.',
      )
      .optional(),
  })
  .strict();

/**
 * A DATA reply must fit OpenSSH's 256 KiB message limit (SFTP_MAX_MSG_LENGTH) with its 13-byte header,
 * or the client aborts with "Received message too long"; OpenSSH's server keeps 1 KiB of room too.
 */
export const MAX_READ_LENGTH = 256 * 1024 - 1024;
/** Entries per READDIR reply, as in OpenSSH: big directories arrive in batches well under the limit. */
const READDIR_BATCH = 100;

type Name = { filename: string; longname: string; attrs: ReturnType<typeof statsToAttrs> | Record<string, never> };

/**
 * Serves one SFTP session (an accepted `sftp` subsystem) over the real file system, with the
 * permissions of the agent's user: SFTP v3 as OpenSSH's sftp and scp speak it, plus the OpenSSH
 * extensions in SFTP_EXTENSIONS. Every request gets exactly one reply; failures become STATUS
 * replies and never escape. Resolves once the session has ended and every handle it opened is closed.
 */
export function serveSftp(sftp: SFTPWrapper, options: SftpOptions): Promise<void> {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new WarrenError('INVALID_INPUT', parsed.error.issues[0]?.message ?? 'The SFTP options are not valid.');
  }
  const root = path.resolve(parsed.data.root);
  const log = parsed.data.log;
  const handles = new SftpHandles();
  const owners = new OwnerNames();

  if (!advertiseExtensions(sftp, SFTP_EXTENSIONS)) {
    log?.debug('sftp: this ssh2 version cannot announce extensions; serving plain SFTP v3');
  }

  const resolve = (clientPath: string) => (clientPath === '' ? root : path.resolve(root, clientPath));

  /** Runs a request and answers with a STATUS when it throws; `subject` names what it was about. */
  const run = (reqId: number, subject: () => string, work: () => Promise<void>) => {
    // `work` starts synchronously, so a handle is looked up in the order requests arrived: a READ
    // that came before a CLOSE is tracked before the CLOSE runs and waits for it.
    let pending: Promise<void>;
    try {
      pending = work();
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.catch((err: unknown) => {
      let where = 'the handle';
      try {
        where = subject();
      } catch {}
      const { code, message } = toSftpStatus(err, where);
      if (code === SftpStatus.FAILURE && !(err instanceof WarrenError || err instanceof SftpStatusError)) {
        log?.warn('sftp: request failed', { path: where, error: (err as Error)?.message });
      }
      try {
        sftp.status(reqId, code, message);
      } catch (replyErr) {
        log?.warn('sftp: could not send a reply', { error: (replyErr as Error).message });
      }
    });
  };

  /** Keeps a read or write on `file` visible to FSETSTAT, fsync and CLOSE, which wait for it. */
  const track = (file: OpenFile, work: Promise<void>) => {
    file.inflight.add(work);
    work.then(
      () => file.inflight.delete(work),
      () => file.inflight.delete(work),
    );
    return work;
  };

  const nameOf = async (dir: string, name: string): Promise<Name | undefined> => {
    const stats = await fs.promises.lstat(path.join(dir, name)).catch(() => undefined);
    // An entry removed between readdir and lstat is simply not listed.
    if (!stats) return undefined;
    const owner = await owners.lookup(stats.uid, stats.gid);
    return { filename: name, longname: longname(name, stats, owner), attrs: statsToAttrs(stats) };
  };

  const pathReply = (reqId: number, p: string) =>
    sftp.name(reqId, [{ filename: p, longname: p, attrs: {} as never }]);

  sftp.on('OPEN', (reqId: number, filename: string, pflags: number, attrs: RequestedAttrs) => {
    const p = resolve(filename);
    run(reqId, () => p, async () => {
      const fh = await fs.promises.open(p, openFlags(pflags), requestedMode(attrs, 0o666));
      sftp.handle(reqId, await handles.add({ kind: 'file', path: p, fh, inflight: new Set() }));
    });
  });

  sftp.on('READ', (reqId: number, wire: Buffer, offset: number, length: number) => {
    run(reqId, () => handles.file(wire).path, () => {
      const file = handles.file(wire);
      return track(
        file,
        (async () => {
          const buf = Buffer.allocUnsafe(Math.min(length, MAX_READ_LENGTH));
          const { bytesRead } = await file.fh.read(buf, 0, buf.length, offset);
          if (bytesRead === 0) sftp.status(reqId, SftpStatus.EOF);
          else sftp.data(reqId, buf.subarray(0, bytesRead));
        })(),
      );
    });
  });

  sftp.on('WRITE', (reqId: number, wire: Buffer, offset: number, view: Buffer) => {
    // ssh2 hands out a view into its receive buffer; copy it before the first await.
    const data = Buffer.from(view);
    run(reqId, () => handles.file(wire).path, () => {
      const file = handles.file(wire);
      return track(
        file,
        (async () => {
          for (let done = 0; done < data.length; ) {
            const { bytesWritten } = await file.fh.write(data, done, data.length - done, offset + done);
            done += bytesWritten;
          }
          sftp.status(reqId, SftpStatus.OK);
        })(),
      );
    });
  });

  sftp.on('FSTAT', (reqId: number, wire: Buffer) => {
    run(reqId, () => handles.file(wire).path, async () => {
      sftp.attrs(reqId, statsToAttrs(await handles.file(wire).fh.stat()));
    });
  });

  sftp.on('FSETSTAT', (reqId: number, wire: Buffer, attrs: RequestedAttrs) => {
    run(reqId, () => handles.file(wire).path, async () => {
      const file = handles.file(wire);
      await Promise.allSettled(file.inflight);
      await applyAttrs(handleTarget(file.fh), attrs);
      sftp.status(reqId, SftpStatus.OK);
    });
  });

  sftp.on('CLOSE', (reqId: number, wire: Buffer) => {
    run(reqId, () => 'the handle', async () => {
      await handles.close(wire);
      sftp.status(reqId, SftpStatus.OK);
    });
  });

  sftp.on('OPENDIR', (reqId: number, dirPath: string) => {
    const p = resolve(dirPath);
    run(reqId, () => p, async () => {
      const dir = await fs.promises.opendir(p);
      sftp.handle(reqId, await handles.add({ kind: 'dir', path: p, dir, dotsSent: false, done: false }));
    });
  });

  sftp.on('READDIR', (reqId: number, wire: Buffer) => {
    run(reqId, () => handles.dir(wire).path, async () => {
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
      else sftp.name(reqId, batch as never);
    });
  });

  const onStat = (follow: boolean) => (reqId: number, statPath: string) => {
    const p = resolve(statPath);
    run(reqId, () => p, async () => {
      sftp.attrs(reqId, statsToAttrs(await (follow ? fs.promises.stat(p) : fs.promises.lstat(p))));
    });
  };
  sftp.on('STAT', onStat(true));
  sftp.on('LSTAT', onStat(false));

  sftp.on('SETSTAT', (reqId: number, target: string, attrs: RequestedAttrs) => {
    const p = resolve(target);
    run(reqId, () => p, async () => {
      await applyAttrs(pathTarget(p), attrs);
      sftp.status(reqId, SftpStatus.OK);
    });
  });

  const simple = (event: 'REMOVE' | 'RMDIR', op: (p: string) => Promise<void>) => {
    sftp.on(event, (reqId: number, target: string) => {
      const p = resolve(target);
      run(reqId, () => p, async () => {
        await op(p);
        sftp.status(reqId, SftpStatus.OK);
      });
    });
  };
  simple('REMOVE', (p) => fs.promises.unlink(p));
  simple('RMDIR', (p) => fs.promises.rmdir(p));

  sftp.on('MKDIR', (reqId: number, target: string, attrs: RequestedAttrs) => {
    const p = resolve(target);
    run(reqId, () => p, async () => {
      await fs.promises.mkdir(p, { mode: requestedMode(attrs, 0o777) });
      sftp.status(reqId, SftpStatus.OK);
    });
  });

  sftp.on('REALPATH', (reqId: number, target: string) => {
    const p = resolve(target);
    run(reqId, () => p, async () => pathReply(reqId, await canonical(p)));
  });

  sftp.on('RENAME', (reqId: number, from: string, to: string) => {
    const [src, dst] = [resolve(from), resolve(to)];
    run(reqId, () => src, async () => {
      // SSH_FXP_RENAME must not replace an existing target (filexfer-02 6.5); clients that want
      // replacement use posix-rename@openssh.com. The check-then-rename race is the same one
      // OpenSSH's server accepts on file systems without hard links.
      const existing = await fs.promises.lstat(dst).catch(() => undefined);
      if (existing) throw new SftpStatusError(SftpStatus.FAILURE, `${JSON.stringify(dst)} already exists.`);
      await fs.promises.rename(src, dst);
      sftp.status(reqId, SftpStatus.OK);
    });
  });

  sftp.on('READLINK', (reqId: number, target: string) => {
    const p = resolve(target);
    run(reqId, () => p, async () => pathReply(reqId, await fs.promises.readlink(p)));
  });

  // ssh2 already undoes OpenSSH's swapped SYMLINK arguments (OpenSSH sends target first, against the
  // draft), so both orders arrive here as (link, target). The target is stored as the client wrote it.
  sftp.on('SYMLINK', (reqId: number, linkPath: string, targetPath: string) => {
    const p = resolve(linkPath);
    run(reqId, () => p, async () => {
      await fs.promises.symlink(targetPath, p);
      sftp.status(reqId, SftpStatus.OK);
    });
  });

  const extensionContext = {
    sftp,
    resolve,
    syncHandle: async (wire: Buffer) => {
      const file = handles.file(wire);
      await Promise.allSettled(file.inflight);
      await file.fh.sync();
    },
  };
  sftp.on('EXTENDED', (reqId: number, name: string, view: Buffer | undefined) => {
    const data = view && Buffer.from(view);
    run(reqId, () => extensionSubject(name, data, extensionContext), () =>
      runExtension(reqId, name, data, extensionContext),
    );
  });

  return new Promise<void>((resolveEnded) => {
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const open = handles.size;
      void handles.closeAll().then(() => {
        log?.debug('sftp: session ended', { closedHandles: open });
        resolveEnded();
      });
    };
    // ssh2 emits 'error' for a malformed packet and then closes the channel; without a listener
    // the error would be thrown and take the whole agent down.
    sftp.on('error', (err: Error) => {
      log?.warn('sftp: protocol error', { error: err.message });
      end();
    });
    sftp.once('end', end);
    sftp.once('close', end);
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
