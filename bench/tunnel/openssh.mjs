// The OpenSSH reference row: a throwaway sshd (openssh-server) on a free high loopback port with
// its own temp host key, authorized_keys and config, never the system's sshd or port 22, and
// OpenSSH's own `ssh -N -L` forwarding through it. Everything goes at cleanup.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTempDir, onCleanup, trackChild } from '../lib/cleanup.mjs';
import { freePort, timeToFirstByte } from './transfer.mjs';

const SSHD = '/usr/sbin/sshd';
/** The cipher Warren's relay negotiates (ssh2 on both ends prefers it), so the rows differ in the tunnel only. */
export const OPENSSH_CIPHER = 'aes128-gcm@openssh.com';
/** sshd refuses to start without its privilege separation directory, which Debian makes at boot. */
const PRIVSEP_DIR = '/run/sshd';

/** Why the row cannot run here, or undefined when it can. */
export function opensshUnavailableReason() {
  if (process.getuid?.() !== 0) return 'sshd must run as root to serve logins (run the bench as root)';
  if (!fs.existsSync(SSHD)) return `${SSHD} is missing (apt-get install openssh-server)`;
  if (spawnSync('ssh', ['-V'], { stdio: 'ignore' }).status !== 0) return 'the ssh client is missing';
  return undefined;
}

/** Runs a program to completion; throws with its output when it fails. */
function run(file, args) {
  const result = spawnSync(file, args, { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0)
    throw new Error(`${file} ${args.join(' ')} failed: ${(result.stderr || result.stdout || '').trim()}`);
}

/** Resolves once something on `port` sends an SSH banner; throws after `timeoutMs`. */
async function waitForBanner(port, child, timeoutMs = 10_000) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited (code ${child.exitCode}) before it listened.`);
    const banner = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.setTimeout(1000, () => socket.destroy());
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString('latin1'));
      });
      socket.once('error', () => resolve(''));
      socket.once('close', () => resolve(''));
    });
    if (banner.startsWith('SSH-')) return;
    await sleep(50);
  }
  throw new Error(`sshd did not answer on 127.0.0.1:${port} within ${timeoutMs / 1000} s.`);
}

/** Spawns a long-running program, killed at cleanup; { child, stop, output() } (its last stderr). */
function daemonProcess(file, args, label) {
  const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = trackChild(child);
  let err = '';
  child.stderr.on('data', (chunk) => {
    err = (err + chunk).slice(-4096);
  });
  const stop = onCleanup(`stop ${label}`, async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  });
  return { child, stop, output: () => err.trim() };
}

/** Starts sshd for root on a free loopback port; resolves to { port, clientKeyFile, pid, stop }. */
export async function startSshd() {
  const { dir } = makeTempDir('warren-bench-sshd-');
  const hostKey = path.join(dir, 'host_ed25519');
  const clientKey = path.join(dir, 'client_ed25519');
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench-host', '-f', hostKey]);
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench-client', '-f', clientKey]);
  fs.copyFileSync(`${clientKey}.pub`, path.join(dir, 'authorized_keys'));
  fs.mkdirSync(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  fs.writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PidFile none',
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'AllowTcpForwarding yes',
      'UseDNS no',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const sshd = daemonProcess(SSHD, ['-D', '-e', '-f', config], 'sshd');
  try {
    await waitForBanner(port, sshd.child);
  } catch (error) {
    await sshd.stop();
    throw new Error(`${error.message} ${sshd.output()}`);
  }
  return { port, clientKeyFile: clientKey, pid: sshd.child.pid, stop: sshd.stop };
}

/** `ssh` options for a bench's own throwaway servers: no prompts, no host key checks, errors only. */
export const OPENSSH_QUIET = [
  '-o',
  'BatchMode=yes',
  '-o',
  'StrictHostKeyChecking=no',
  '-o',
  'UserKnownHostsFile=/dev/null',
  '-o',
  'LogLevel=ERROR',
];

/** `ssh` options for the bench's sshd: no config, its client key and cipher, OPENSSH_QUIET. */
export function sshdClientOptions(sshd) {
  return [
    '-F',
    '/dev/null',
    '-p',
    String(sshd.port),
    '-i',
    sshd.clientKeyFile,
    '-c',
    OPENSSH_CIPHER,
    ...OPENSSH_QUIET,
  ];
}

/**
 * `ssh -N` with one `-L` per { localPort, remotePort } through `sshd`, on OPENSSH_CIPHER. Resolves
 * once a connection to `probe` (a forward whose remote end greets) gets its first byte back:
 * { pid, stop }.
 */
export async function startSshForward(sshd, forwards, probe) {
  const args = [
    '-N',
    ...sshdClientOptions(sshd),
    '-o',
    'ExitOnForwardFailure=yes',
    ...forwards.flatMap((f) => ['-L', `127.0.0.1:${f.localPort}:127.0.0.1:${f.remotePort}`]),
    'root@127.0.0.1',
  ];
  const ssh = daemonProcess('ssh', args, 'ssh -L');
  const deadline = performance.now() + 10_000;
  for (;;) {
    if (ssh.child.exitCode !== null)
      throw new Error(`ssh -L exited (code ${ssh.child.exitCode}) before forwarding. ${ssh.output()}`);
    try {
      await timeToFirstByte(probe, 2_000);
      return { pid: ssh.child.pid, stop: ssh.stop };
    } catch (error) {
      if (performance.now() > deadline) {
        await ssh.stop();
        throw new Error(`ssh -L did not forward within 10 s: ${error.message} ${ssh.output()}`);
      }
      await sleep(50);
    }
  }
}
