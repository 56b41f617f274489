import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Written to a temp file beside the target and renamed over it, so a reader (OpenSSH, a process
 * that loaded the old file, a crash) never sees half a file. A symlinked target is written where
 * the link points, so the link stays (dotfile managers link ~/.ssh/config); without `mode`, an
 * existing file keeps its own.
 */
export function writeFileAtomically(file: string, data: string | Uint8Array, mode?: number): void {
  const target = realTarget(file);
  const keptMode = mode ?? existingMode(target) ?? 0o600;
  const temp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    fs.writeFileSync(temp, data, { mode: keptMode, flag: 'wx' });
    // The umask may have narrowed the mode at creation.
    fs.chmodSync(temp, keptMode);
    fs.renameSync(temp, target);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

/** The file a path names after following symlinks, even when the last link dangles. */
function realTarget(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    try {
      const link = fs.readlinkSync(file);
      return path.resolve(path.dirname(file), link);
    } catch {
      return file;
    }
  }
}

function existingMode(file: string): number | undefined {
  try {
    return fs.statSync(file).mode & 0o7777;
  } catch {
    return undefined;
  }
}
