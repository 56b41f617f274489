import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2, { type SFTPWrapper } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SftpTestServer, scp, sftpBatch, startSftpTestServer } from './sftpTestServer';

const { STATUS_CODE } = ssh2.utils.sftp;

let tmp: string;
let root: string;
let local: string;
let server: SftpTestServer;

beforeAll(async () => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'warren-sftp-')));
  root = path.join(tmp, 'workspace');
  local = path.join(tmp, 'local');
  fs.mkdirSync(root);
  fs.mkdirSync(local);
  server = await startSftpTestServer(root, tmp);
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const inRoot = (...parts: string[]) => path.join(root, ...parts);
const inLocal = (...parts: string[]) => path.join(local, ...parts);

describe('serveSftp with OpenSSH sftp', { timeout: 60_000 }, () => {
  it('puts, lists, renames, chmods, gets and removes files in the workspace directory', async () => {
    fs.writeFileSync(inLocal('hello.txt'), 'hello warren\n');
    const { stdout } = await sftpBatch(server, [
      'mkdir docs',
      `put ${inLocal('hello.txt')} docs/hello.txt`,
      'ls -l docs',
      'rename docs/hello.txt docs/greeting.txt',
      'chmod 600 docs/greeting.txt',
      `get docs/greeting.txt ${inLocal('back.txt')}`,
      'pwd',
    ]);

    // Relative paths landed in the workspace directory, and "." is that directory.
    expect(stdout).toContain(`Remote working directory: ${root}`);
    expect(fs.readFileSync(inRoot('docs', 'greeting.txt'), 'utf8')).toBe('hello warren\n');
    expect(fs.existsSync(inRoot('docs', 'hello.txt'))).toBe(false);
    expect(fs.statSync(inRoot('docs', 'greeting.txt')).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(inLocal('back.txt'), 'utf8')).toBe('hello warren\n');
    // `ls -l` prints the server's longname: mode, links, owner, group, size, date, name.
    const owner = os.userInfo().username;
    expect(stdout).toMatch(
      new RegExp(`-rw-r--r-- +1 ${owner} +\\S+ +13 \\w{3} [ \\d]\\d \\d\\d:\\d\\d hello\\.txt`),
    );

    await sftpBatch(server, ['rm docs/greeting.txt', 'rmdir docs']);
    expect(fs.existsSync(inRoot('docs'))).toBe(false);
  });

  it('reports a missing remote file as "No such file or directory" and fails the batch', async () => {
    const failed = await sftpBatch(server, [`get no-such-file ${inLocal('x')}`]).catch((e) => e);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/No such file or directory|not found/);
    expect(fs.existsSync(inLocal('x'))).toBe(false);
  });

  it('uses the OpenSSH extensions: rename over an existing file, hard and symbolic links, df', async () => {
    fs.writeFileSync(inRoot('old.txt'), 'old');
    fs.writeFileSync(inRoot('new.txt'), 'new');
    const { stdout } = await sftpBatch(server, [
      'rename new.txt old.txt',
      'ln old.txt hard.txt',
      'ln -s old.txt soft.txt',
      'df -h .',
    ]);
    // Plain SFTP v3 RENAME refuses to replace; this only passes through posix-rename@openssh.com.
    expect(fs.readFileSync(inRoot('old.txt'), 'utf8')).toBe('new');
    expect(fs.statSync(inRoot('hard.txt')).ino).toBe(fs.statSync(inRoot('old.txt')).ino);
    expect(fs.lstatSync(inRoot('soft.txt')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(inRoot('soft.txt'), 'utf8')).toBe('new');
    // statvfs@openssh.com: OpenSSH prints a Size/Used/Avail table.
    expect(stdout).toMatch(/Size\s+Used\s+Avail/);
  });

  it('downloads with 256 KiB read requests without overrunning the client message limit', async () => {
    const big = randomBytes(1024 * 1024 + 17);
    fs.writeFileSync(inRoot('big.bin'), big);
    await sftpBatch(server, [`get big.bin ${inLocal('big.bin')}`], ['-B', String(256 * 1024)]);
    expect(sha256(inLocal('big.bin'))).toBe(sha256(inRoot('big.bin')));
  });
});

describe('serveSftp with OpenSSH scp', { timeout: 60_000 }, () => {
  it('uploads and downloads a 5 MB file byte for byte', async () => {
    fs.writeFileSync(inLocal('random.bin'), randomBytes(5 * 1024 * 1024));
    await scp(server, [inLocal('random.bin'), 'remote:random.bin']);
    expect(sha256(inRoot('random.bin'))).toBe(sha256(inLocal('random.bin')));

    await scp(server, ['remote:random.bin', inLocal('random-back.bin')]);
    expect(sha256(inLocal('random-back.bin'))).toBe(sha256(inLocal('random.bin')));
  });

  it('copies a directory tree with -r both ways', async () => {
    fs.mkdirSync(inLocal('tree', 'nested', 'deeper'), { recursive: true });
    fs.writeFileSync(inLocal('tree', 'a.txt'), 'a');
    fs.writeFileSync(inLocal('tree', 'nested', 'b.txt'), 'b');
    fs.writeFileSync(inLocal('tree', 'nested', 'deeper', 'c.txt'), 'c');
    await scp(server, ['-r', inLocal('tree'), 'remote:tree']);
    expect(fs.readFileSync(inRoot('tree', 'nested', 'deeper', 'c.txt'), 'utf8')).toBe('c');

    await scp(server, ['-r', 'remote:tree', inLocal('tree-back')]);
    for (const file of ['a.txt', 'nested/b.txt', 'nested/deeper/c.txt']) {
      expect(fs.readFileSync(inLocal('tree-back', file), 'utf8')).toBe(
        fs.readFileSync(inLocal('tree', file), 'utf8'),
      );
    }
  });
});

/** An ssh2 client SFTP session to the test server, for requests OpenSSH's tools do not make on purpose. */
async function connectSftp(): Promise<{ sftp: SFTPWrapper; end: () => void }> {
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve).once('error', reject);
    client.connect({
      host: '127.0.0.1',
      port: server.port,
      username: 'tester',
      privateKey: server.clientKey,
    });
  });
  const sftp = await new Promise<SFTPWrapper>((resolve, reject) =>
    client.sftp((err, s) => (err ? reject(err) : resolve(s))),
  );
  return { sftp, end: () => client.end() };
}

/** Adapts one of ssh2's callback methods to a promise. */
function call<T = void>(fn: (cb: (err?: Error | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

/** The error a request failed with: ssh2 puts the SFTP status code in `code` and the server's message in `message`. */
function failure(request: Promise<unknown>): Promise<Error & { code: number }> {
  return request.then(
    () => {
      throw new Error('The request was expected to fail.');
    },
    (err) => err,
  );
}

describe('serveSftp error handling (ssh2 client)', { timeout: 60_000 }, () => {
  it('answers a missing file with NO_SUCH_FILE and a bad handle with FAILURE, and keeps serving', async () => {
    const { sftp, end } = await connectSftp();
    try {
      const missing = await failure(call((cb) => sftp.stat('nope/missing.txt', cb)));
      expect(missing.code).toBe(STATUS_CODE.NO_SUCH_FILE);
      expect(missing.message).toContain(inRoot('nope', 'missing.txt'));

      const bogus = Buffer.from('not-a-handle');
      const badRead = await failure(call((cb) => sftp.read(bogus, Buffer.alloc(10), 0, 10, 0, cb)));
      expect(badRead.code).toBe(STATUS_CODE.FAILURE);
      expect(badRead.message).toMatch(/handle is not open/);
      const badClose = await failure(call((cb) => sftp.close(Buffer.alloc(4), cb)));
      expect(badClose.code).toBe(STATUS_CODE.FAILURE);

      fs.writeFileSync(inRoot('exists.txt'), 'x');
      const exclusive = await failure(call((cb) => sftp.open('exists.txt', 'wx', cb)));
      expect(exclusive.code).toBe(STATUS_CODE.FAILURE);
      expect(exclusive.message).toMatch(/already exists/);

      // The session is still healthy after all that.
      expect(await call<string>((cb) => sftp.realpath('.', cb))).toBe(root);
      const names = (await call<{ filename: string }[]>((cb) => sftp.readdir('.', cb))).map(
        (e) => e.filename,
      );
      expect(names).toContain('exists.txt');
    } finally {
      end();
    }
  });

  it('appends, truncates through SETSTAT and reads to EOF', async () => {
    const { sftp, end } = await connectSftp();
    try {
      fs.writeFileSync(inRoot('log.txt'), 'one\n');
      const handle = await call<Buffer>((cb) => sftp.open('log.txt', 'a', cb));
      await call((cb) => sftp.write(handle, Buffer.from('two\n'), 0, 4, 0, cb));
      await call((cb) => sftp.close(handle, cb));
      expect(fs.readFileSync(inRoot('log.txt'), 'utf8')).toBe('one\ntwo\n');

      const { uid, gid } = fs.statSync(inRoot('log.txt'));
      await call((cb) =>
        sftp.setstat('log.txt', { size: 3, uid, gid, mtime: 1_000_000_000, atime: 1_000_000_000 }, cb),
      );
      expect(fs.readFileSync(inRoot('log.txt'), 'utf8')).toBe('one');
      expect(fs.statSync(inRoot('log.txt')).mtimeMs).toBe(1_000_000_000_000);

      const reader = await call<Buffer>((cb) => sftp.open('log.txt', 'r', cb));
      const bytes = await new Promise<number>((resolve, reject) =>
        sftp.read(reader, Buffer.alloc(10), 0, 10, 3, (err, n) => (err ? reject(err) : resolve(n))),
      );
      expect(bytes).toBe(0);
      await call((cb) => sftp.close(reader, cb));
    } finally {
      end();
    }
  });

  it('closes every file a session left open when the client disconnects', async () => {
    const openFds = () =>
      fs.readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(inRoot('left-open'));
        } catch {
          return false;
        }
      });
    fs.mkdirSync(inRoot('left-open'));
    const sessionsBefore = server.sessions.length;
    const { sftp, end } = await connectSftp();
    for (let i = 0; i < 5; i++) await call<Buffer>((cb) => sftp.open(`left-open/f${i}.txt`, 'w', cb));
    await call<Buffer>((cb) => sftp.opendir('left-open', cb));
    expect(openFds().length).toBe(6);

    end();
    await server.sessions[sessionsBefore];
    expect(openFds()).toEqual([]);
  });
});
