import fs from 'node:fs';
import type { SFTPWrapper } from 'ssh2';
import { SftpStatus, SftpStatusError } from './sftpStatus';
import { readStrings, sendExtendedReply } from './sftpWire';

/** The OpenSSH extensions this server answers, with the versions OpenSSH's own sftp-server announces. */
export const SFTP_EXTENSIONS: Record<string, string> = {
  'posix-rename@openssh.com': '1',
  'statvfs@openssh.com': '2',
  'hardlink@openssh.com': '1',
  'fsync@openssh.com': '1',
};

export interface ExtensionContext {
  sftp: SFTPWrapper;
  resolve(clientPath: string): string;
  /** fsync@openssh.com names an open file by its handle. */
  syncHandle(handle: Buffer): Promise<void>;
}

/** The subject quoted in an error message for an EXTENDED request: its first path, or its name. */
export function extensionSubject(name: string, data: Buffer | undefined, ctx: ExtensionContext): string {
  const [first] = readStrings(data, 1) ?? [];
  return first && name !== 'fsync@openssh.com' ? ctx.resolve(first.toString('utf8')) : name;
}

function strings(name: string, data: Buffer | undefined, count: number): Buffer[] {
  const parsed = readStrings(data, count);
  if (!parsed) throw new SftpStatusError(SftpStatus.BAD_MESSAGE, `The ${name} request is malformed.`);
  return parsed;
}

/** statvfs(3)'s eleven fields, each a uint64, in the order of OpenSSH's PROTOCOL file section 4.4. */
async function statvfsReply(target: string): Promise<Buffer> {
  const s = await fs.promises.statfs(target);
  const ST_NAME_MAX = 255;
  // Node's statfs has no fragment size, fsid or mount flags; Linux reports f_frsize == f_bsize on
  // common file systems, and 0 flags means "read-write, setuid allowed", which is what clients assume.
  const fields = [
    s.bsize,
    s.bsize,
    s.blocks,
    s.bfree,
    s.bavail,
    s.files,
    s.ffree,
    s.ffree,
    0,
    0,
    ST_NAME_MAX,
  ];
  const body = Buffer.alloc(fields.length * 8);
  fields.forEach((value, i) => {
    body.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(value))), i * 8);
  });
  return body;
}

/** Runs one EXTENDED request; resolves after its reply went out, throws to have a STATUS sent. */
export async function runExtension(
  reqId: number,
  name: string,
  data: Buffer | undefined,
  ctx: ExtensionContext,
): Promise<void> {
  switch (name) {
    case 'posix-rename@openssh.com': {
      // Unlike SSH_FXP_RENAME this replaces an existing target atomically, like rename(2).
      const [from = Buffer.alloc(0), to = Buffer.alloc(0)] = strings(name, data, 2);
      await fs.promises.rename(ctx.resolve(from.toString('utf8')), ctx.resolve(to.toString('utf8')));
      ctx.sftp.status(reqId, SftpStatus.OK);
      return;
    }
    case 'hardlink@openssh.com': {
      const [from = Buffer.alloc(0), to = Buffer.alloc(0)] = strings(name, data, 2);
      await fs.promises.link(ctx.resolve(from.toString('utf8')), ctx.resolve(to.toString('utf8')));
      ctx.sftp.status(reqId, SftpStatus.OK);
      return;
    }
    case 'fsync@openssh.com': {
      const [handle = Buffer.alloc(0)] = strings(name, data, 1);
      await ctx.syncHandle(handle);
      ctx.sftp.status(reqId, SftpStatus.OK);
      return;
    }
    case 'statvfs@openssh.com': {
      const [target = Buffer.alloc(0)] = strings(name, data, 1);
      const body = await statvfsReply(ctx.resolve(target.toString('utf8')));
      if (!sendExtendedReply(ctx.sftp, reqId, body)) {
        throw new SftpStatusError(
          SftpStatus.FAILURE,
          'The file system statistics could not be sent; try again.',
        );
      }
      return;
    }
    default:
      throw new SftpStatusError(SftpStatus.OP_UNSUPPORTED, `The SFTP extension ${name} is not supported.`);
  }
}
