import path from 'node:path';
import { WarrenError } from '@warren/core';
import type { SFTPWrapper } from 'ssh2';
import { z } from 'zod';
import { SFTP_EXTENSIONS } from './sftpExtensions';
import { SftpHandles } from './sftpHandles';
import { OwnerNames } from './sftpLongname';
import { type RunRequest, registerRequests } from './sftpRequests';
import { SftpStatus, SftpStatusError, toSftpStatus } from './sftpStatus';
import { advertiseExtensions, sendExitStatus } from './sftpWire';

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
        (v) =>
          typeof v === 'object' &&
          v !== null &&
          typeof (v as SftpLog).debug === 'function' &&
          typeof (v as SftpLog).warn === 'function',
        'The SFTP log must have debug and warn methods.',
      )
      .optional(),
  })
  .strict();

/**
 * Serves one SFTP session (an accepted `sftp` subsystem) over the real file system, with the
 * permissions of the agent's user: SFTP v3 as OpenSSH's sftp and scp speak it, plus the OpenSSH
 * extensions in SFTP_EXTENSIONS. Call it right after accepting, before the client's first packet.
 *
 * Every request gets exactly one reply; failures become STATUS replies and never escape. When the
 * client sends EOF the session answers what it has, closes its files, sends exit status 0 and
 * closes the channel (as sshd does when sftp-server exits). The promise resolves once the session
 * has ended and every file and directory it opened is closed.
 */
export function serveSftp(sftp: SFTPWrapper, options: SftpOptions): Promise<void> {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new WarrenError(
      'INVALID_INPUT',
      parsed.error.issues[0]?.message ?? 'The SFTP options are not valid.',
    );
  }
  const root = path.resolve(parsed.data.root);
  const log = parsed.data.log;
  const handles = new SftpHandles();

  if (!advertiseExtensions(sftp, SFTP_EXTENSIONS)) {
    log?.debug('sftp: this ssh2 version cannot announce extensions; serving plain SFTP v3');
  }

  // Requests run one at a time, in arrival order, like OpenSSH's sftp-server. Clients rely on it:
  // OpenSSH's upload trusts in-order WRITE acks and truncates the file at the last in-order one,
  // and a pipelined MKDIR then OPEN inside it must not race.
  let queue: Promise<void> = Promise.resolve();
  const run: RunRequest = (reqId, subject, work) => {
    queue = queue.then(work).catch((err: unknown) => {
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

  registerRequests(
    {
      sftp,
      handles,
      owners: new OwnerNames(),
      resolve: (clientPath) => (clientPath === '' ? root : path.resolve(root, clientPath)),
    },
    run,
  );

  return new Promise<void>((resolveEnded) => {
    let ending = false;
    const end = (graceful: boolean) => {
      // A channel that is gone must not keep files open behind a request that never finishes (a FIFO).
      if (!graceful) void handles.closeAll();
      if (ending) return;
      ending = true;
      void (async () => {
        const open = handles.size;
        // After EOF the client still waits for the replies to what it sent; after a close nobody does.
        if (graceful) await queue;
        await handles.closeAll();
        if (graceful) sendExitStatus(sftp, 0);
        sftp.end();
        log?.debug('sftp: session ended', { closedHandles: open });
        resolveEnded();
      })();
    };
    // ssh2 emits 'error' for a malformed packet and then closes the channel; without a listener
    // the error would be thrown and take the whole agent down.
    sftp.on('error', (err: Error) => {
      log?.warn('sftp: protocol error', { error: err.message });
      end(false);
    });
    // 'end': the client sent EOF, it is done; 'close': the channel or the whole connection went away.
    sftp.once('end', () => end(true));
    sftp.once('close', () => end(false));
  });
}
