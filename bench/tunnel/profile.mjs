// --cpu-prof for the workspace agent. The local provisioner starts the agent with an environment
// of its own (NODE_OPTIONS does not reach it), so the bench restarts that same agent, with the same
// command line, environment and working directory, under `node <nodeArgs>`. The agent reconnects
// with its token; SIGTERM makes it exit cleanly, which is when node writes the profile.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { onCleanup, trackChild } from '../lib/cleanup.mjs';
import { trpc } from '../lib/daemon.mjs';
import { WORKSPACE } from './relay.mjs';

const alive = (pid) => fs.existsSync(`/proc/${pid}`);

/** Waits up to `ms` for `pid` to be gone; true when it is. */
async function gone(pid, ms) {
  const deadline = performance.now() + ms;
  while (alive(pid) && performance.now() < deadline) await sleep(20);
  return !alive(pid);
}

/**
 * Restarts the relay's agent under `nodeArgs`; resolves to { pid, stop } once the daemon sees it
 * ready. Call stop (SIGTERM, then wait) before the daemon's data dir goes, or no profile is written.
 */
export async function profileAgent(relay, nodeArgs) {
  const pid = relay.agentPid;
  const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  const env = Object.fromEntries(
    fs
      .readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
  const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
  // SIGKILL, not SIGTERM: an agent that shuts down cleanly tells the daemon, which then refuses its token.
  process.kill(pid, 'SIGKILL');
  if (!(await gone(pid, 10_000)))
    throw new Error(`The agent (pid ${pid}) did not stop for its restart under --cpu-prof.`);

  const child = spawn(argv[0], [...nodeArgs, ...argv.slice(1)], {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = trackChild(child);
  let err = '';
  child.stderr.on('data', (chunk) => {
    err = (err + chunk).slice(-4096);
  });
  // Before the daemon's cleanup: a SIGKILLed agent writes no profile.
  const stop = onCleanup('stop the profiled agent', async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  });
  const headers = { authorization: `Bearer ${relay.token}` };
  const deadline = performance.now() + 20_000;
  await sleep(200); // the daemon's view may still show the old agent's connection for a moment
  for (;;) {
    const view = await trpc(relay.url, 'GET', 'workspaces.get', { input: { name: WORKSPACE }, headers });
    if (view?.agent?.connected && view.agent.lifecycle === 'ready') return { pid: child.pid, stop };
    if (child.exitCode !== null)
      throw new Error(`The profiled agent exited (code ${child.exitCode}): ${err.trim()}`);
    if (performance.now() > deadline) throw new Error('The profiled agent did not reconnect within 20 s.');
    await sleep(50);
  }
}
