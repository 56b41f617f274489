// Whole commands, as a person types them: a new process each time, from its start until it exits
// after running `true` in the workspace. For SSH through Warren most of that is the CLI starting
// (node loading the bundle), not the tunnel, so this is where the CLI's start-up shows.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir } from '../lib/cleanup.mjs';
import { DAEMON_BIN } from '../lib/daemon.mjs';
import { OPENSSH_QUIET, sshdClientOptions } from './openssh.mjs';
import { WORKSPACE } from './relay.mjs';

/** Milliseconds from spawning `file args` until it exits; throws with its stderr when it fails. */
function timedRun(file, args, env = process.env) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(file, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk) => {
      err = (err + chunk).slice(-2000);
    });
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = performance.now() - start;
      if (code === 0) resolve(ms);
      else reject(new Error(`${path.basename(file)} ${args.join(' ')} exited with ${code}: ${err.trim()}`));
    });
  });
}

/**
 * The commands to time, each { key, label, once }: the CLI starting alone (`warren --help`),
 * `warren ssh WORKSPACE true`, OpenSSH through the Host entry `warren config-ssh` wrote (its
 * ProxyCommand runs `warren ssh --stdio`), and, when `sshd` is given, OpenSSH straight to it.
 */
export async function commandRows(relay, sshd) {
  const { dir } = makeTempDir('warren-bench-commands-');
  const env = {
    ...process.env,
    WARREN_URL: relay.url,
    WARREN_TOKEN: relay.token,
    WARREN_CONFIG_DIR: path.join(dir, 'warren'),
  };
  const sshConfig = path.join(dir, 'ssh_config');
  fs.writeFileSync(sshConfig, '');
  await timedRun(process.execPath, [DAEMON_BIN, 'config-ssh', '--ssh-config-file', sshConfig, '--yes'], env);
  const rows = [
    {
      key: 'cliStart',
      label: 'warren --help (the CLI starting, nothing else)',
      once: () => timedRun(process.execPath, [DAEMON_BIN, '--help'], env),
    },
    {
      key: 'warrenSsh',
      label: `warren ssh ${WORKSPACE} true`,
      once: () => timedRun(process.execPath, [DAEMON_BIN, 'ssh', WORKSPACE, 'true'], env),
    },
    {
      key: 'proxied',
      label: `ssh warren.${WORKSPACE} true (OpenSSH, ProxyCommand from warren config-ssh)`,
      once: () => timedRun('ssh', ['-F', sshConfig, ...OPENSSH_QUIET, `warren.${WORKSPACE}`, 'true'], env),
    },
  ];
  if (sshd)
    rows.push({
      key: 'openssh',
      label: 'ssh root@127.0.0.1 true (OpenSSH to sshd on loopback, the reference)',
      once: () => timedRun('ssh', [...sshdClientOptions(sshd), 'root@127.0.0.1', 'true']),
    });
  return rows;
}

/** Each row's samples (ms, sorted), the rows taking turns so drift on the machine hits all alike. */
export async function timeCommands(rows, count) {
  const samples = Object.fromEntries(rows.map((row) => [row.key, []]));
  // One untimed run each first: the page cache and the daemon's token cache warm up.
  for (const row of rows) await row.once();
  for (let i = 0; i < count; i++) for (const row of rows) samples[row.key].push(await row.once());
  return rows.map((row) => ({ ...row, samples: Float64Array.from(samples[row.key]).sort() }));
}
