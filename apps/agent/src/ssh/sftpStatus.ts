import { WarrenError } from '@warren/core';

/** SFTP v3 status codes (draft-ietf-secsh-filexfer-02 section 7), the only ones OpenSSH clients know. */
export const SftpStatus = {
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  OP_UNSUPPORTED: 8,
} as const;

export type SftpStatusCode = (typeof SftpStatus)[keyof typeof SftpStatus];

export interface SftpStatusReply {
  code: SftpStatusCode;
  message: string;
}

/** A request that is answered with a specific status rather than an errno (EOF, unsupported extension). */
export class SftpStatusError extends Error {
  constructor(
    readonly code: SftpStatusCode,
    message: string,
  ) {
    super(message);
    this.name = 'SftpStatusError';
  }
}

// The grouping follows OpenSSH's sftp-server errno_to_portable(), so clients print what they would
// print against a real OpenSSH server; the message names the path because v3 carries no other detail.
const errnoStatus: Record<string, SftpStatusCode> = {
  ENOENT: SftpStatus.NO_SUCH_FILE,
  ENOTDIR: SftpStatus.NO_SUCH_FILE,
  ELOOP: SftpStatus.NO_SUCH_FILE,
  EBADF: SftpStatus.NO_SUCH_FILE,
  EPERM: SftpStatus.PERMISSION_DENIED,
  EACCES: SftpStatus.PERMISSION_DENIED,
  EROFS: SftpStatus.PERMISSION_DENIED,
  ENAMETOOLONG: SftpStatus.BAD_MESSAGE,
  EINVAL: SftpStatus.BAD_MESSAGE,
  ENOSYS: SftpStatus.OP_UNSUPPORTED,
  ENOTSUP: SftpStatus.OP_UNSUPPORTED,
};

const errnoSentence: Record<string, (p: string) => string> = {
  ENOENT: (p) => `${p} does not exist.`,
  ENOTDIR: (p) => `${p} is not a directory, or a part of its path is not.`,
  ELOOP: (p) => `${p} goes through too many symbolic links.`,
  EBADF: (p) => `${p} is not open.`,
  EPERM: (p) => `The operation is not permitted on ${p}.`,
  EACCES: (p) => `Permission denied for ${p}.`,
  EROFS: (p) => `${p} is on a read-only file system.`,
  ENAMETOOLONG: (p) => `The name ${p} is too long.`,
  EINVAL: (p) => `The request is not valid for ${p}.`,
  EEXIST: (p) => `${p} already exists.`,
  EISDIR: (p) => `${p} is a directory.`,
  ENOTEMPTY: (p) => `The directory ${p} is not empty.`,
  ENOSPC: (p) => `There is no space left on the device for ${p}.`,
  EDQUOT: (p) => `The disk quota is exhausted for ${p}.`,
  EXDEV: (p) => `${p} cannot be moved or linked across file systems.`,
  EMLINK: (p) => `${p} has too many links.`,
  EBUSY: (p) => `${p} is busy.`,
  ETXTBSY: (p) => `${p} is a running program and cannot be written.`,
  EFBIG: (p) => `${p} would become too large.`,
};

function errnoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The status a failed request is answered with. `subject` is the path (or handle's path) the request
 * was about, quoted in the message. Unknown errors become FAILURE without their internal text.
 */
export function toSftpStatus(err: unknown, subject: string): SftpStatusReply {
  if (err instanceof SftpStatusError) return { code: err.code, message: err.message };
  if (err instanceof WarrenError) {
    const code =
      err.code === 'NOT_FOUND'
        ? SftpStatus.NO_SUCH_FILE
        : err.code === 'FORBIDDEN'
          ? SftpStatus.PERMISSION_DENIED
          : SftpStatus.FAILURE;
    return { code, message: err.message };
  }
  const errno = errnoCode(err);
  const quoted = JSON.stringify(subject);
  if (errno && errno in errnoSentence) {
    return { code: errnoStatus[errno] ?? SftpStatus.FAILURE, message: errnoSentence[errno]?.(quoted) ?? '' };
  }
  if (errno?.startsWith('ERR_INVALID_ARG')) {
    // Node rejects paths with NUL bytes before the system call; the client sent a path no file can have.
    return { code: SftpStatus.BAD_MESSAGE, message: `${quoted} is not a valid path.` };
  }
  if (errno && /^E[A-Z0-9]+$/.test(errno)) {
    return { code: SftpStatus.FAILURE, message: `The operation on ${quoted} failed (${errno}).` };
  }
  return { code: SftpStatus.FAILURE, message: `The operation on ${quoted} failed.` };
}
