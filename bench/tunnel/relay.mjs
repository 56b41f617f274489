// The Warren relay row: the daemon as built, on a fresh data dir, with one local workspace whose
// agent it runs, and the built CLI's `warren port-forward` as the client (its own process, as a
// user runs it). Session setup is timed in this process with the same core client code the CLI
// and the desktop use (connectWorkspaceSsh), bundled from TypeScript.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { bundleTypeScript, COMMONJS_INSIDE_ARGS } from '../lib/bundle.mjs';
import { makeTempDir, onCleanup, trackChild } from '../lib/cleanup.mjs';
import { DAEMON_BIN, ROOT, signInFirstUser, startDaemon, trpc } from '../lib/daemon.mjs';
import { pidsIn } from '../lib/proc.mjs';

export const WORKSPACE = 'bench';
const READY_TIMEOUT_MS = 60_000;

/** Core's tunnel client, bundled: { connectWorkspaceSsh, openSshTunnel, Secret, SshClient }. */
export async function loadTunnelClient() {
  const { file } = bundleTypeScript(path.join(import.meta.dirname, 'relayEntry.ts'), {
    prefix: 'warren-bench-relay-',
    name: 'relay.mjs',
    esbuildArgs: COMMONJS_INSIDE_ARGS,
  });
  return import(pathToFileURL(file).href);
}

/** The pid of the agent the daemon runs for the workspace (the process in its data dir running the agent bundle). */
function agentPid(dataDir) {
  for (const pid of pidsIn(dataDir) ?? []) {
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('warren-agent')) return pid;
    } catch {}
  }
  return undefined;
}

/** Polls until the workspace runs and its agent is ready. */
async function waitReady(daemon, headers) {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  for (;;) {
    const view = await Promise.race([
      trpc(daemon.url, 'GET', 'workspaces.get', { input: { name: WORKSPACE }, headers }),
      daemon.died,
    ]);
    if (view?.status === 'running' && view.agent?.lifecycle === 'ready') return;
    if (
      ['failed', 'canceled', 'stopped', 'deleted'].includes(view?.status) ||
      view?.agent?.lifecycle === 'start_error'
    )
      throw new Error(
        `The workspace did not start: ${view.status} (${view.latestBuild?.error ?? 'no error given'}).`,
      );
    if (performance.now() > deadline)
      throw new Error(
        `The workspace was not ready within ${READY_TIMEOUT_MS / 1000} s (status ${view?.status}).`,
      );
    await sleep(50);
  }
}

/**
 * A daemon with a signed-in owner, an API token (what the CLI and the desktop present) and a
 * running local workspace: { url, token, pid, agentPid, dir, died, stop, diagnostics }. `nodeArgs` go to the
 * daemon's node (e.g. --cpu-prof). Stopping it deletes nothing by hand: the data dir goes with
 * the daemon, and cleanup kills the agent working inside it.
 */
export async function startRelay({ nodeArgs = [] } = {}) {
  const daemon = await startDaemon({ name: 'daemon', nodeArgs });
  const { headers } = await signInFirstUser(daemon.url, { name: 'daemon', username: 'bench' });
  const { token } = await trpc(daemon.url, 'POST', 'tokens.create', {
    headers,
    input: { name: 'bench-tunnel' },
  });
  await trpc(daemon.url, 'POST', 'workspaces.create', {
    headers,
    input: { name: WORKSPACE, template: 'local', parameters: { file_server: false } },
  });
  await waitReady(daemon, headers);
  const agent = agentPid(daemon.dir);
  if (!agent) throw new Error('The workspace is ready, but its agent process was not found in the data dir.');
  return { ...daemon, token, agentPid: agent, diagnostics: () => diagnostics(daemon) };
}

/** What to show when a step through the relay fails: the daemon's last output and the agent's log. */
function diagnostics(daemon) {
  const parts = [`The daemon's last output (warn and above):\n${daemon.lastOutput() || '(none)'}`];
  const workspaces = path.join(daemon.dir, 'workspaces');
  for (const id of fs.existsSync(workspaces) ? fs.readdirSync(workspaces) : []) {
    const file = path.join(workspaces, id, 'agent.log');
    if (!fs.existsSync(file)) continue;
    const tail = fs.readFileSync(file, 'utf8').trim().split('\n').slice(-20).join('\n');
    parts.push(`The agent's log (${file}), last lines:\n${tail}`);
  }
  return parts.join('\n');
}

/**
 * `warren port-forward bench --tcp L:R ...` from the built CLI, signed in through WARREN_URL and
 * WARREN_TOKEN with a config dir of its own; `nodeArgs` go to its node. Resolves once it prints a
 * line per forward: { pid, stop }.
 */
export async function startPortForward(relay, forwards, nodeArgs = []) {
  const { dir } = makeTempDir('warren-bench-cli-');
  const args = [
    ...nodeArgs,
    DAEMON_BIN,
    'port-forward',
    WORKSPACE,
    ...forwards.flatMap((f) => ['--tcp', `${f.localPort}:${f.remotePort}`]),
  ];
  const env = { ...process.env, WARREN_URL: relay.url, WARREN_TOKEN: relay.token, WARREN_CONFIG_DIR: dir };
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = trackChild(child);
  const stop = onCleanup('stop warren port-forward', async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk) => {
    err = (err + chunk).slice(-4096);
  });
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('warren port-forward did not start within 20 s.')),
        20_000,
      );
      child.stdout.on('data', (chunk) => {
        out += chunk;
        if ((out.match(/^forwarding /gm) ?? []).length >= forwards.length) {
          clearTimeout(timer);
          resolve();
        }
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`warren port-forward exited (${signal ?? `code ${code}`}) before forwarding.`));
      });
    });
  } catch (error) {
    await stop();
    throw new Error(`${error.message} ${err.trim()}`);
  }
  return { pid: child.pid, stop };
}
