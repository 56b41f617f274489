import path from 'node:path';
import { WarrenError } from '@warren/core';

/** Where an operation runs: the workspace directory and the caller's cancellation. */
export interface OperationContext {
  /** Absolute workspace directory; relative paths resolve against it. */
  root: string;
  signal?: AbortSignal;
}

/** An absolute, normalised path: relative paths are taken from the workspace directory. */
export function resolvePath(root: string, target: string): string {
  return path.resolve(root, target);
}

/** How a path is shown in results: relative to the workspace when inside it, absolute otherwise. */
export function displayPath(root: string, absolute: string): string {
  const relative = path.relative(root, absolute);
  if (relative === '') return '.';
  return relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/**
 * A file-system error as a sentence about `file` that a person (or a model) can act on. Errors
 * that are already WarrenErrors pass through.
 */
export function fsError(error: unknown, action: string, file: string): WarrenError {
  if (error instanceof WarrenError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return new WarrenError('NOT_FOUND', `Could not ${action} ${file}: no such file or directory.`);
    case 'EACCES':
    case 'EPERM':
      return new WarrenError('FORBIDDEN', `Could not ${action} ${file}: permission denied.`);
    case 'EISDIR':
      return new WarrenError('INVALID_INPUT', `Could not ${action} ${file}: it is a directory.`);
    case 'ENOTDIR':
      return new WarrenError(
        'INVALID_INPUT',
        `Could not ${action} ${file}: a part of the path is not a directory.`,
      );
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EFBIG':
      return new WarrenError(
        'CONFLICT',
        `Could not ${action} ${file}: the disk is full or the file is too large.`,
      );
    case 'EROFS':
      return new WarrenError('FORBIDDEN', `Could not ${action} ${file}: the file system is read-only.`);
    case 'ELOOP':
      return new WarrenError(
        'INVALID_INPUT',
        `Could not ${action} ${file}: too many levels of symbolic links.`,
      );
    default: {
      const detail = error instanceof Error ? error.message : String(error);
      return new WarrenError('INTERNAL', `Could not ${action} ${file}: ${detail}.`, { cause: error });
    }
  }
}

/** Throws a WarrenError when the caller has given up, so long walks stop early. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new WarrenError('CONFLICT', 'The operation was cancelled.');
}
