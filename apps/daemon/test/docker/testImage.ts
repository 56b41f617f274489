import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Same flags as scripts/docker-env.sh: no iptables and vfs storage work inside a container. */
const DOCKERD_ARGS = (process.env.WARREN_DOCKERD_FLAGS ?? '--iptables=false --storage-driver=vfs').split(
  /\s+/,
);
const IMAGE_MARKER = 'WARREN_TEST_IMAGE_NODE';

export type DockerAvailability = { available: true } | { available: false; reason: string };

async function dockerInfo(): Promise<string | undefined> {
  try {
    await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 15_000 });
    return undefined;
  } catch (error) {
    const e = error as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') return 'the docker command is not installed (apt-get install docker.io)';
    return (e.stderr ?? e.message).trim().split('\n').at(-1) ?? e.message;
  }
}

function findDockerd(): string | undefined {
  return ['/usr/sbin/dockerd', '/usr/bin/dockerd', '/usr/local/bin/dockerd'].find((p) => fs.existsSync(p));
}

/**
 * A Docker Engine to test against: the one `docker info` reaches, else (as root, with dockerd
 * installed, and no DOCKER_HOST elsewhere) a dockerd started in the background that outlives
 * the tests, as scripts/docker-env.sh does. Says why when there is none.
 */
export async function ensureDockerd(): Promise<DockerAvailability> {
  const problem = await dockerInfo();
  if (problem === undefined) return { available: true };
  if (problem.includes('not installed')) return { available: false, reason: problem };
  const dockerd = findDockerd();
  if (process.env.DOCKER_HOST)
    return { available: false, reason: `DOCKER_HOST=${process.env.DOCKER_HOST}: ${problem}` };
  if (process.getuid?.() !== 0)
    return { available: false, reason: `${problem}; not root, so not starting dockerd` };
  if (dockerd === undefined) return { available: false, reason: `${problem}; dockerd is not installed` };

  const logFile = path.join(os.tmpdir(), 'warren-dockerd.log');
  const out = fs.openSync(logFile, 'a');
  const child = spawn(dockerd, DOCKERD_ARGS, { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  fs.closeSync(out);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    if ((await dockerInfo()) === undefined) return { available: true };
  }
  return { available: false, reason: `dockerd did not answer within 30 seconds; see ${logFile}` };
}

/** Libraries `ldd` names for a binary, including the dynamic loader. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await run('ldd', [binary]);
  return stdout
    .split('\n')
    .map((line) => /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line)?.[1])
    .filter((p): p is string => p !== undefined);
}

function findBusybox(): string {
  const found = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
  if (!found) throw new Error('busybox is not installed (apt-get install busybox-static).');
  return found;
}

async function imageNodeVersion(tag: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('docker', ['image', 'inspect', '--format', '{{json .Config.Env}}', tag]);
    const env = JSON.parse(stdout) as string[] | null;
    return env?.find((e) => e.startsWith(`${IMAGE_MARKER}=`))?.slice(IMAGE_MARKER.length + 1);
  } catch {
    return undefined;
  }
}

/**
 * A workspace image with no registry: the host's node and the libraries it links, busybox for
 * sh and the usual tools, and users root and warren (1000), imported with `docker import`.
 * Rebuilt only when the host's node version changed.
 */
export async function ensureTestImage(tag = 'warren-test-agent:latest'): Promise<string> {
  const node = fs.realpathSync(process.execPath);
  if ((await imageNodeVersion(tag)) === process.version) return tag;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-image-'));
  const root = path.join(dir, 'rootfs');
  try {
    for (const d of ['bin', 'usr/bin', 'usr/local/bin', 'etc', 'root', 'home/warren', 'tmp', 'var/tmp']) {
      fs.mkdirSync(path.join(root, d), { recursive: true });
    }
    fs.chmodSync(path.join(root, 'tmp'), 0o1777);
    fs.chmodSync(path.join(root, 'var/tmp'), 0o1777);
    fs.copyFileSync(node, path.join(root, 'usr/bin/node'));
    for (const lib of await sharedLibraries(node)) {
      fs.mkdirSync(path.join(root, path.dirname(lib)), { recursive: true });
      fs.copyFileSync(lib, path.join(root, lib)); // follows symlinks: the file under its linked name
    }
    fs.copyFileSync(findBusybox(), path.join(root, 'bin/busybox'));
    fs.chmodSync(path.join(root, 'bin/busybox'), 0o755);
    const { stdout } = await run(path.join(root, 'bin/busybox'), ['--list']);
    for (const applet of stdout.split('\n').filter((a) => a !== '' && a !== 'busybox')) {
      fs.symlinkSync('busybox', path.join(root, 'bin', applet));
    }
    fs.writeFileSync(
      path.join(root, 'etc/passwd'),
      'root:x:0:0:root:/root:/bin/sh\nwarren:x:1000:1000:warren:/home/warren:/bin/sh\n',
    );
    fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nwarren:x:1000:\n');
    if (process.getuid?.() === 0) fs.chownSync(path.join(root, 'home/warren'), 1000, 1000);

    const tarball = path.join(dir, 'rootfs.tar');
    await run('tar', ['--numeric-owner', '-C', root, '-cf', tarball, '.']);
    await run(
      'docker',
      [
        'import',
        '--change',
        'ENV PATH=/usr/local/bin:/usr/bin:/bin',
        '--change',
        `ENV ${IMAGE_MARKER}=${process.version}`,
        '--change',
        'CMD ["sh"]',
        tarball,
        tag,
      ],
      { timeout: 300_000 },
    );
    return tag;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
