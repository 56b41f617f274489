import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LocalResources, Secret } from '@warren/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalProvisioner, NO_BWRAP_WARNING, procStat } from '../src/provisioners/local/LocalProvisioner';
import type {
  BuildLog,
  LocalProvisionRequest,
  ProvisionerState,
  Transition,
} from '../src/provisioners/Provisioner';

/**
 * A stand-in agent: reports what it can see, writes a marker into its home, and starts a child
 * that ignores SIGTERM (so stop has to signal the whole group, and escalate), then idles.
 */
const AGENT_SOURCE = `
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
const probes = JSON.parse(process.env.PROBES ?? '[]');
fs.writeFileSync(path.join(process.env.HOME, 'marker'), String(process.pid));
const child = spawn(process.execPath, ['-e', 'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000);'], { stdio: ['ignore', 'pipe', 'inherit'] });
child.stdout.once('data', () => {
  const report = {
    pid: process.pid,
    childPid: child.pid,
    home: process.env.HOME,
    cwd: process.cwd(),
    tokenSet: Boolean(process.env.WARREN_AGENT_TOKEN),
    daemonSecretVisible: 'WARREN_TEST_DAEMON_SECRET' in process.env,
    url: process.env.WARREN_AGENT_URL,
    visible: Object.fromEntries(probes.map((p) => [p, fs.existsSync(p)])),
  };
  const file = path.join(process.env.WARREN_AGENT_DIR, 'report.json');
  fs.writeFileSync(file + '.tmp', JSON.stringify(report));
  fs.renameSync(file + '.tmp', file);
});
setInterval(() => {}, 1000);
`;

interface AgentReport {
  pid: number;
  childPid: number;
  home: string;
  cwd: string;
  tokenSet: boolean;
  daemonSecretVisible: boolean;
  url: string;
  visible: Record<string, boolean>;
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-local-'));
const dataDir = path.join(root, 'data');
const agentDir = path.join(root, 'agent');
const agentPath = path.join(agentDir, 'agent.mjs');
const crashingAgentPath = path.join(agentDir, 'crash.mjs');
const daemonSecretFile = path.join(dataDir, 'daemon-secret.txt');
const DAEMON_SECRET = 'daemon-secret-value';
const bwrapPath = ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap'].find((p) => fs.existsSync(p));

const started: number[] = [];
let nextId = 0;

function provisioner(
  options: Partial<ConstructorParameters<typeof LocalProvisioner>[0]> = {},
): LocalProvisioner {
  return new LocalProvisioner({ dataDir, agentBinaryPath: agentPath, stopGraceMs: 1_000, ...options });
}

function newWorkspace() {
  const id = `ws-${process.pid}-${nextId++}`;
  const home = path.join(dataDir, 'workspaces', id, 'home');
  return { id, home, workdir: path.join(home, 'project') };
}

function request(
  id: string,
  transition: Transition,
  extra: {
    previousState?: ProvisionerState | null;
    resources?: Partial<LocalResources>;
    token?: string;
    orphan?: boolean;
  } = {},
): LocalProvisionRequest {
  return {
    workspace: { id, name: id, ownerUsername: 'ana', ownerId: 'user-1' },
    buildId: `build-${nextId++}`,
    transition,
    resources: { workdir: 'project', env: {}, sandbox: false, ...extra.resources },
    agent: {
      token: new Secret(extra.token ?? `agent-token-${id}`),
      daemonUrl: 'http://127.0.0.1:1',
      binaryUrl: 'http://127.0.0.1:1/bin/agent.mjs',
    },
    previousState: extra.previousState ?? null,
    orphan: extra.orphan ?? false,
  };
}

function recorder(): { log: BuildLog; lines: { line: string; level: string }[] } {
  const lines: { line: string; level: string }[] = [];
  return { lines, log: (line, level = 'info') => lines.push({ line, level }) };
}

async function apply(
  p: LocalProvisioner,
  req: LocalProvisionRequest,
  log: BuildLog = recorder().log,
): Promise<ProvisionerState & { pid?: number; pgid?: number; sandboxed?: boolean }> {
  const state = await p.apply(req, log, new AbortController().signal);
  if (typeof state.pgid === 'number') started.push(state.pgid);
  return state;
}

async function waitForReport(workdir: string): Promise<AgentReport> {
  const file = path.join(workdir, 'report.json');
  for (let i = 0; i < 200 && !fs.existsSync(file); i++) await sleep(50);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as AgentReport;
}

/** Running, not merely a zombie waiting for a parent to reap it. */
function isRunning(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** Live processes running the stand-in agent for this home (sandboxed or not). */
function agentsFor(home: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && isRunning(Number(entry)))
    .filter((pid) => {
      try {
        const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
        return (
          cmdline[0] === fs.realpathSync(process.execPath) &&
          cmdline.includes(agentPath) &&
          environ.includes(`HOME=${home}`)
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

function processesMentioning(text: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((pid) => {
      try {
        return ['cmdline', 'environ'].some((f) =>
          fs.readFileSync(`/proc/${pid}/${f}`, 'utf8').includes(text),
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

beforeAll(() => {
  fs.mkdirSync(agentDir, { recursive: true });
  fs.writeFileSync(agentPath, AGENT_SOURCE);
  fs.writeFileSync(path.join(agentDir, 'sibling.txt'), 'not for workspaces');
  fs.writeFileSync(crashingAgentPath, 'console.error("agent: cannot reach the daemon"); process.exit(3);');
  fs.mkdirSync(path.join(dataDir, 'workspaces', 'other-workspace', 'home'), { recursive: true });
  fs.writeFileSync(daemonSecretFile, 'the daemon keeps this');
  process.env.WARREN_TEST_DAEMON_SECRET = DAEMON_SECRET;
});

afterEach(() => {
  for (const pgid of started.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

afterAll(() => {
  // Anything a failed test left: the agents and their children all carry the test directory.
  for (const pid of processesMentioning(root)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  delete process.env.WARREN_TEST_DAEMON_SECRET;
  fs.rmSync(root, { recursive: true, force: true });
});

describe('local provisioner', () => {
  it('start runs the agent in its own process group with a clean environment and the workspace home', async () => {
    const ws = newWorkspace();
    const state = await apply(provisioner(), request(ws.id, 'start'));
    const report = await waitForReport(ws.workdir);

    expect(report.pid).toBe(state.pid);
    expect(procStat(report.pid)?.pgrp).toBe(report.pid);
    expect(procStat(process.pid)?.pgrp).not.toBe(report.pid);
    expect(report).toMatchObject({
      home: ws.home,
      cwd: ws.workdir,
      tokenSet: true,
      daemonSecretVisible: false,
    });
    expect(report.url).toBe('http://127.0.0.1:1');
    expect(fs.readFileSync(path.join(ws.home, 'marker'), 'utf8')).toBe(String(report.pid));
    expect(fs.readFileSync(path.join(dataDir, 'workspaces', ws.id, 'agent.pid'), 'utf8').trim()).toBe(
      String(report.pid),
    );
  });

  it('keeps the agent token off the command line', async () => {
    const ws = newWorkspace();
    const state = await apply(provisioner(), request(ws.id, 'start', { token: 'very-secret-agent-token' }));
    await waitForReport(ws.workdir);
    const cmdline = fs.readFileSync(`/proc/${state.pid}/cmdline`, 'utf8');
    expect(cmdline).toContain(agentPath);
    expect(cmdline).not.toContain('very-secret-agent-token');
  });

  it('stop kills the whole process group, escalating to SIGKILL, and keeps the home', async () => {
    const ws = newWorkspace();
    const p = provisioner();
    const state = await apply(p, request(ws.id, 'start'));
    const report = await waitForReport(ws.workdir);
    fs.writeFileSync(path.join(ws.home, 'notes.txt'), 'keep me');
    expect(isRunning(report.childPid)).toBe(true);

    const { log, lines } = recorder();
    const stopped = await apply(p, request(ws.id, 'stop', { previousState: state }), log);

    expect(isRunning(report.pid)).toBe(false);
    expect(isRunning(report.childPid)).toBe(false);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'warn', line: expect.stringContaining('killing it') }),
    );
    expect(stopped.pid).toBeNull();

    fs.rmSync(path.join(ws.workdir, 'report.json'));
    const restarted = await apply(p, request(ws.id, 'start', { previousState: stopped }));
    await waitForReport(ws.workdir);
    expect(restarted.pid).not.toBe(state.pid);
    expect(fs.readFileSync(path.join(ws.home, 'notes.txt'), 'utf8')).toBe('keep me');
  });

  it('a second start of the same build keeps the running agent instead of spawning another', async () => {
    const ws = newWorkspace();
    const p = provisioner();
    const first = await apply(p, request(ws.id, 'start'));
    await waitForReport(ws.workdir);
    const { log, lines } = recorder();
    const second = await apply(p, request(ws.id, 'start', { previousState: first }), log);

    expect(second.pid).toBe(first.pid);
    expect(agentsFor(ws.home)).toEqual([first.pid]);
    expect(lines.map((l) => l.line)).toContainEqual(expect.stringContaining('already running'));
  });

  it('a start with a new agent token replaces the running agent', async () => {
    const ws = newWorkspace();
    const p = provisioner();
    const first = await apply(p, request(ws.id, 'start', { token: 'token-one' }));
    await waitForReport(ws.workdir);
    const second = await apply(p, request(ws.id, 'start', { token: 'token-two', previousState: first }));

    expect(second.pid).not.toBe(first.pid);
    expect(isRunning(first.pid as number)).toBe(false);
    expect(agentsFor(ws.home)).toEqual([second.pid]);
  });

  it('a restarted daemon stops an agent it only knows from the pid file', async () => {
    const ws = newWorkspace();
    const state = await apply(provisioner(), request(ws.id, 'start'));
    await waitForReport(ws.workdir);

    await apply(provisioner(), request(ws.id, 'stop', { previousState: null }));
    expect(isRunning(state.pid as number)).toBe(false);
    expect(agentsFor(ws.home)).toEqual([]);
  });

  it("stop leaves alone another workspace's agent that a stale pid now points to", async () => {
    const other = newWorkspace();
    const p = provisioner();
    const running = await apply(p, request(other.id, 'start'));
    await waitForReport(other.workdir);

    const ws = newWorkspace();
    await apply(p, request(ws.id, 'stop', { previousState: { ...running, home: ws.home } }));
    expect(isRunning(running.pid as number)).toBe(true);
  });

  it('stop of a workspace with no agent succeeds', async () => {
    const ws = newWorkspace();
    const { log, lines } = recorder();
    const previousState = { pid: 999_999, pgid: 999_999, home: ws.home };
    await apply(provisioner(), request(ws.id, 'stop', { previousState }), log);
    expect(lines.map((l) => l.line)).toContain('No agent was running.');
  });

  it('delete stops the agent and removes the workspace directory', async () => {
    const ws = newWorkspace();
    const p = provisioner();
    const state = await apply(p, request(ws.id, 'start'));
    const report = await waitForReport(ws.workdir);

    const deleted = await apply(p, request(ws.id, 'delete', { previousState: state }));
    expect(deleted).toEqual({});
    expect(fs.existsSync(path.join(dataDir, 'workspaces', ws.id))).toBe(false);
    expect(isRunning(report.pid)).toBe(false);
    expect(isRunning(report.childPid)).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'workspaces', 'other-workspace'))).toBe(true);
  });

  it('an agent that exits at once fails the start with its output', async () => {
    const ws = newWorkspace();
    const p = provisioner({ agentBinaryPath: crashingAgentPath });
    await expect(apply(p, request(ws.id, 'start'))).rejects.toThrow(/exit code 3.*cannot reach the daemon/s);
  });

  it('a cancelled build starts nothing', async () => {
    const ws = newWorkspace();
    const controller = new AbortController();
    controller.abort();
    await expect(
      provisioner().apply(request(ws.id, 'start'), recorder().log, controller.signal),
    ).rejects.toThrow();
    expect(agentsFor(ws.home)).toEqual([]);
    expect(fs.existsSync(path.join(dataDir, 'workspaces', ws.id))).toBe(false);
  });

  it('rejects a working directory outside the home', async () => {
    const ws = newWorkspace();
    await expect(
      apply(provisioner(), request(ws.id, 'start', { resources: { workdir: '../..' } })),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });

  it('a sandbox request without bubblewrap warns and runs the agent unsandboxed', async () => {
    const ws = newWorkspace();
    const { log, lines } = recorder();
    const state = await apply(
      provisioner({ bwrapPath: '/nonexistent' }),
      request(ws.id, 'start', { resources: { sandbox: true } }),
      log,
    );
    await waitForReport(ws.workdir);

    expect(lines).toContainEqual({ line: NO_BWRAP_WARNING, level: 'warn' });
    expect(state.sandboxed).toBe(false);
  });

  describe('inside bubblewrap', () => {
    it('sees its own home and the system, but not /root, the data directory or other workspaces', async () => {
      expect(
        bwrapPath,
        'bubblewrap is needed: apt-get install -y bubblewrap (scripts/test.sh installs it)',
      ).toBeDefined();
      const ws = newWorkspace();
      const probes = [
        '/root',
        daemonSecretFile,
        path.join(dataDir, 'workspaces', 'other-workspace'),
        path.join(agentDir, 'sibling.txt'),
        ws.home,
        '/usr/bin',
        '/etc/passwd',
      ];
      const resources = { sandbox: true, env: { PROBES: JSON.stringify(probes) } };
      const p = provisioner({ bwrapPath });
      const { log, lines } = recorder();
      const state = await apply(
        p,
        request(ws.id, 'start', { resources, token: 'sandboxed-agent-token' }),
        log,
      );
      const report = await waitForReport(ws.workdir);

      expect(state.sandboxed).toBe(true);
      expect(lines.map((l) => l.line)).toContainEqual(expect.stringContaining('inside bubblewrap'));
      expect(report.visible).toEqual({
        '/root': false,
        [daemonSecretFile]: false,
        [path.join(dataDir, 'workspaces', 'other-workspace')]: false,
        [path.join(agentDir, 'sibling.txt')]: false,
        [ws.home]: true,
        '/usr/bin': true,
        '/etc/passwd': true,
      });
      expect(report).toMatchObject({
        home: ws.home,
        cwd: ws.workdir,
        tokenSet: true,
        daemonSecretVisible: false,
      });
      // The probe's writes land in the real home.
      expect(fs.existsSync(path.join(ws.home, 'marker'))).toBe(true);
      expect(fs.readFileSync(`/proc/${state.pid}/cmdline`, 'utf8')).not.toContain('sandboxed-agent-token');
      expect(agentsFor(ws.home)).toHaveLength(1);

      await apply(p, request(ws.id, 'stop', { previousState: state }));
      expect(isRunning(state.pid as number)).toBe(false);
      expect(agentsFor(ws.home)).toEqual([]);
    });
  });
});
