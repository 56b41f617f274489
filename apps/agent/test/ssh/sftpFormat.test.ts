import { constants as C, type Stats } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openFlags } from '../../src/ssh/sftpAttrs';
import { longname, modeString } from '../../src/ssh/sftpLongname';
import { SftpStatus, toSftpStatus } from '../../src/ssh/sftpStatus';
import { readStrings, versionPacket } from '../../src/ssh/sftpWire';

const errno = (code: string) => Object.assign(new Error(`${code}: internal detail /secret/path`), { code });

describe('sftp formatting', () => {
  it('prints modes the way ls -l does, setuid, setgid and sticky bits included', () => {
    expect(modeString(0o100644)).toBe('-rw-r--r--');
    expect(modeString(0o104755)).toBe('-rwsr-xr-x');
    expect(modeString(0o102644)).toBe('-rw-r-Sr--');
    expect(modeString(0o041777)).toBe('drwxrwxrwt');
    expect(modeString(0o120777)).toBe('lrwxrwxrwx');
  });

  it('shows the year instead of the time for files older than six months', () => {
    const now = new Date(2026, 5, 15, 12, 0).getTime();
    const stats = (mtime: Date) =>
      ({ mode: 0o100600, nlink: 1, size: 42, mtimeMs: mtime.getTime() }) as Stats;
    const owner = { user: 'alice', group: 'staff' };
    expect(longname('new.txt', stats(new Date(2026, 5, 1, 9, 5)), owner, now)).toBe(
      '-rw-------    1 alice    staff          42 Jun  1 09:05 new.txt',
    );
    expect(longname('old.txt', stats(new Date(2024, 0, 9, 9, 5)), owner, now)).toBe(
      '-rw-------    1 alice    staff          42 Jan  9  2024 old.txt',
    );
  });

  it('maps SFTP open flags to open(2) flags, ignoring EXCL without CREAT', () => {
    expect(openFlags(0x01)).toBe(C.O_RDONLY);
    expect(openFlags(0x02 | 0x08 | 0x10)).toBe(C.O_WRONLY | C.O_CREAT | C.O_TRUNC);
    expect(openFlags(0x01 | 0x02 | 0x04 | 0x08 | 0x20)).toBe(C.O_RDWR | C.O_APPEND | C.O_CREAT | C.O_EXCL);
    expect(openFlags(0x02 | 0x20)).toBe(C.O_WRONLY);
  });

  it('turns errno into the status OpenSSH clients expect, with a sentence naming the path', () => {
    expect(toSftpStatus(errno('ENOENT'), '/w/a.txt')).toEqual({
      code: SftpStatus.NO_SUCH_FILE,
      message: '"/w/a.txt" does not exist.',
    });
    expect(toSftpStatus(errno('EACCES'), '/w/a.txt').code).toBe(SftpStatus.PERMISSION_DENIED);
    expect(toSftpStatus(errno('ENOTEMPTY'), '/w/d')).toEqual({
      code: SftpStatus.FAILURE,
      message: 'The directory "/w/d" is not empty.',
    });
    // Whatever the error carried internally stays on the server.
    expect(toSftpStatus(new Error('boom at /secret/path'), '/w/a.txt').message).not.toContain('secret');
  });

  it('encodes a VERSION packet with extensions and rejects truncated extension payloads', () => {
    const packet = versionPacket({ 'fsync@openssh.com': '1' });
    expect(packet.readUInt32BE(0)).toBe(packet.length - 4);
    expect(packet[4]).toBe(2);
    expect(readStrings(packet.subarray(9), 2)?.map(String)).toEqual(['fsync@openssh.com', '1']);
    expect(readStrings(Buffer.from([0, 0, 0, 9, 65]), 1)).toBeUndefined();
  });
});
