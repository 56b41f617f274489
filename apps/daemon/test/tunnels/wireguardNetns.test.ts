import { type ChildProcess, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  decodeForwardAnswer,
  encodeForwardRequest,
  WIREGUARD_FORWARD_PORT,
  WIREGUARD_SSH_PORT,
} from '@warren/core';
import { UapiClient } from '@warren/core/node';
import { NetnsLab, netnsUnavailableReason } from '@warren/core/test-support/netns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../cliProcess';
import { apiClient } from '../harness';
import { settle, waitFor } from '../workspaceHelpers';
import type { ProcessResult } from './tunnelHelpers';

// WireGuard mode end to end, every piece real and on its own host: the daemon (the built CLI's
// `server`) in one network namespace, the workspace agent in a second, the client (the built CLI's
// `ssh --wireguard` and `port-forward --wireguard`, which carries plain TCP) in a third. The daemon's namespace routes
// between the other two, as a LAN would. The agent is placed by the real local provisioner: its
// agent binary is a wrapper that execs the real agent bundle inside the agent's namespace.
const unavailable = netnsUnavailableReason(['wireguard-go', 'wg', 'socat']);
if (unavailable) console.warn(`Skipping the WireGuard namespaces test: ${unavailable}.`);

const AGENT_BUNDLE = path.resolve(import.meta.dirname, '..', '..', '..', 'agent', 'dist', 'warren-agent.mjs');
const PORT = 7080;
const SSH_BYTES = 2 * 1024 * 1024;
// Under execFile’s 1 MiB output limit, which reads the page in the client namespace.
const PAGE_BYTES = 512 * 1024;

describe.skipIf(unavailable !== undefined)(
  'WireGuard mode across daemon, agent and client namespaces',
  () => {
    const lab = new NetnsLab();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-wg-'));
    let nsDaemon = '';
    let nsAgent = '';
    let nsClient = '';
    let daemonForAgent = '';
    let daemonForClient = '';
    let daemon: ChildProcess;
    let bridge: net.Server;
    let api: ReturnType<typeof apiClient>;
    let token = '';
    let agentDevice: UapiClient;
    let devices = 0;
    // Each CLI run gets its own device, named by the lab so cleanup finds whatever a kill left.
    const cliEnv = () => ({
      WARREN_URL: `http://${daemonForClient}:${PORT}`,
      WARREN_TOKEN: token,
      WARREN_CONFIG_DIR: path.join(tmp, 'cli'),
      WARREN_WIREGUARD_INTERFACE: lab.interfaceName(`c${devices++}`),
    });

    /** The built CLI inside the client's namespace. */
    function cli(args: string[], stdin?: Buffer | string, env = cliEnv()): Promise<ProcessResult> {
      return new Promise((resolve, reject) => {
        const child = lab.spawn(nsClient, 'env', [...envArgs(env), process.execPath, CLI, ...args]);
        let stdout = '';
        let stderr = '';
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.stdout?.on('data', (c) => (stdout += c));
        child.stderr?.on('data', (c) => (stderr += c));
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
        child.stdin?.end(stdin ?? '');
      });
    }

    async function agentPeer() {
      const [peer] = (await agentDevice.getDevice()).peers;
      return peer;
    }

    /** `warren port-forward --wireguard dev` in the client's namespace; stderr kept for reading. */
    function portForward(env: Record<string, string>, forwards: string[]) {
      const child = lab.spawn(nsClient, 'env', [
        ...envArgs(env),
        process.execPath,
        CLI,
        'port-forward',
        '--wireguard',
        'dev',
        ...forwards.flatMap((forward) => ['--tcp', forward]),
      ]);
      let stderr = '';
      child.stderr?.on('data', (chunk) => (stderr += chunk));
      return { child, stderr: () => stderr };
    }

    /** The body of http://127.0.0.1:PORT/ fetched in the client's namespace; undefined when it fails. */
    async function fetchInClient(port: number): Promise<string | undefined> {
      const out = await lab
        .exec(nsClient, process.execPath, [
          '-e',
          `fetch('http://127.0.0.1:${port}/').then(r => r.text()).then(t => process.stdout.write(t), () => process.exit(1))`,
        ])
        .catch(() => '');
      return out.length > 0 ? out : undefined;
    }

    /** Sends each hex payload on a connection of its own to the agent's forward port; the answers. */
    async function rawForwardAttempts(agentAddress: string, payloads: string[]) {
      const out = await lab.exec(nsClient, process.execPath, [
        '-e',
        SEND_RAW,
        agentAddress,
        String(WIREGUARD_FORWARD_PORT),
        ...payloads,
      ]);
      return (JSON.parse(out) as string[]).map((hex) => {
        const decoded = decodeForwardAnswer(Buffer.from(hex, 'hex'));
        return decoded.done ? decoded.value : undefined;
      });
    }

    beforeAll(async () => {
      execFileSync(process.execPath, ['build.mjs', '--if-stale'], {
        cwd: path.dirname(path.dirname(AGENT_BUNDLE)),
      });
      ({
        daemon: nsDaemon,
        agent: nsAgent,
        client: nsClient,
        daemonForAgent,
        daemonForClient,
      } = await lab.routedThroughDaemon({ daemon: 'daemon', agent: 'agent', client: 'client' }, 81, 82));
      // The local provisioner runs `node <agent binary>`; this one moves the agent to its namespace.
      const wrapper = lab.writeAgentWrapper(
        path.join(tmp, 'agent-in-netns.mjs'),
        nsAgent,
        AGENT_BUNDLE,
        lab.interfaceName('ag'),
      );
      daemon = lab.spawn(nsDaemon, 'env', [
        ...envArgs({ WARREN_WIREGUARD: '1', WARREN_AGENT_BINARY: wrapper, WARREN_LOG_LEVEL: 'warn' }),
        process.execPath,
        CLI,
        'server',
        '--listen',
        `0.0.0.0:${PORT}`,
        '--access-url',
        `http://${daemonForAgent}:${PORT}`,
        '--data-dir',
        path.join(tmp, 'data'),
      ]);
      let daemonLog = '';
      daemon.stderr?.on('data', (c) => (daemonLog = (daemonLog + c).slice(-4000)));
      daemon.stdout?.on('data', (c) => (daemonLog = (daemonLog + c).slice(-4000)));

      // The test itself stays in the host's namespace and reaches the daemon through a Unix socket.
      const socketPath = path.join(tmp, 'daemon.sock');
      lab.spawn(nsDaemon, 'socat', [`UNIX-LISTEN:${socketPath},fork`, `TCP:127.0.0.1:${PORT}`]);
      bridge = net.createServer((socket) => {
        const upstream = net.connect(socketPath);
        socket.pipe(upstream).pipe(socket);
        upstream.on('error', () => socket.destroy());
        socket.on('error', () => upstream.destroy());
      });
      await new Promise<void>((resolve) => bridge.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(bridge.address() as net.AddressInfo).port}`;
      await waitFor(
        `the daemon in its namespace (${daemonLog.slice(-300)})`,
        async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status ?? undefined,
        30_000,
      );

      const password = `wg-${randomBytes(9).toString('hex')}`;
      await apiClient(url).setup.createFirstUser.mutate({
        username: 'owner',
        email: 'o@example.com',
        password,
      });
      token =
        (await apiClient(url).auth.login.mutate({ login: 'owner', password, sessionIn: 'body' })).token ?? '';
      api = apiClient(url, token);
      await api.workspaces.create.mutate({
        name: 'dev',
        template: 'local',
        parameters: { file_server: false },
      });
      await settle(api, 'dev', 'running', 90_000);
      // The agent's device: wireguard-go in the agent's namespace, answering on the shared /var/run.
      const iface = await waitFor(
        "the agent's WireGuard interface",
        async () =>
          (await lab.exec(nsAgent, 'ip', ['-o', 'link'])).includes(`: ${lab.interfaceName('ag')}:`)
            ? lab.interfaceName('ag')
            : undefined,
        30_000,
      );
      agentDevice = new UapiClient(iface);
    }, 180_000);

    afterAll(async () => {
      await api?.workspaces.delete.mutate({ name: 'dev' }).catch(() => {});
      daemon?.kill('SIGTERM');
      bridge?.close();
      await lab.cleanup();
      fs.rmSync(tmp, { recursive: true, force: true });
    }, 60_000);

    it('ssh --wireguard runs a command over the WireGuard addresses, and the agent’s device counts the bytes', async () => {
      const input = randomBytes(SSH_BYTES);
      // The device leaves the agent's map when the CLI exits, so the peer is read while it runs.
      const running = cli(['ssh', '--wireguard', 'dev', 'sha256sum; ip -o -4 address; sleep 1'], input);
      let peer: Awaited<ReturnType<typeof agentPeer>>;
      let done = false;
      void running.finally(() => {
        done = true;
      });
      while (!done) {
        const seen = await agentPeer();
        if (seen && seen.rxBytes >= (peer?.rxBytes ?? 0)) peer = seen;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const result = await running;
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(createHash('sha256').update(input).digest('hex'));
      // The command ran in the agent's namespace, which holds the agent's tunnel address.
      expect(result.stdout).toMatch(/inet 100\.64\.\d+\.\d+\/10/);

      expect(peer?.lastHandshakeAt).toBeInstanceOf(Date);
      expect(peer?.rxBytes).toBeGreaterThan(SSH_BYTES);
      // The client was reached where its packets came from: the client namespace, through the router.
      expect(peer?.endpoint).toMatch(/^192\.168\.82\.2:\d+$/);
      // Once the CLI exited, its device was unregistered and the agent dropped it as a peer.
      expect(await agentPeer()).toBeUndefined();
    });

    it('port-forward --wireguard carries plain TCP to an HTTP server in the workspace, counted by WireGuard, and names a refused port', async () => {
      const repeat = Math.ceil(PAGE_BYTES / 19);
      const page = 'from the workspace '.repeat(repeat);
      const server = lab.spawn(nsAgent, process.execPath, [
        '-e',
        `require('http').createServer((q, s) => s.end('from the workspace '.repeat(${repeat}))).listen(8088, '127.0.0.1')`,
      ]);
      const before = (await agentPeer())?.txBytes ?? 0;
      // Nothing listens on 8099 in the workspace.
      const forward = portForward(cliEnv(), ['9090:8088', '9093:8099']);
      try {
        const body = await waitFor('the forwarded page', () => fetchInClient(9090), 30_000);
        expect(body).toBe(page);
        const peer = await agentPeer();
        expect((peer?.txBytes ?? 0) - before).toBeGreaterThan(PAGE_BYTES);
        // `wg show` reads the same device over the same UAPI and agrees on the counters.
        const transfer = await lab.exec(nsAgent, 'wg', ['show', agentDevice.interfaceName, 'transfer']);
        const [, rx, tx] = transfer.trim().split(/\s+/);
        expect(Number(tx)).toBeGreaterThanOrEqual(peer?.txBytes ?? Number.POSITIVE_INFINITY);
        expect(Number(rx)).toBeGreaterThanOrEqual(peer?.rxBytes ?? Number.POSITIVE_INFINITY);
        // The page crossed once: headers (WireGuard, UDP, IP and the inner TCP/IP, about 9% at this
        // MTU) and the odd retransmission under load (a CI run saw 1.23x) stay well under 1.5x.
        expect((peer?.txBytes ?? 0) - before).toBeLessThan(PAGE_BYTES * 1.5);

        expect(await fetchInClient(9093)).toBeUndefined();
        await waitFor(
          'the refusal on the CLI’s stderr',
          () =>
            forward.stderr().includes('Nothing listens on port 8099 in the workspace') ? true : undefined,
          10_000,
        );
        expect(forward.stderr()).toContain(
          '127.0.0.1:9093 -> dev:8099: Nothing listens on port 8099 in the workspace (connection refused).',
        );
      } finally {
        forward.child.kill('SIGTERM');
        server.kill('SIGKILL');
      }
    });

    it('the agent’s forward port refuses a wrong ticket and garbage with a sentence, and keeps serving', async () => {
      const server = lab.spawn(nsAgent, process.execPath, [
        '-e',
        `require('http').createServer((q, s) => s.end('still here')).listen(8090, '127.0.0.1')`,
      ]);
      const forward = portForward(cliEnv(), ['9094:8090']);
      try {
        expect(await waitFor('the forwarded page', () => fetchInClient(9094), 30_000)).toBe('still here');
        // The CLI's device routes the agent's address, so anything in the client namespace can try.
        const agentAddress = await lab.ipv4Address(nsAgent, agentDevice.interfaceName);
        const wrongTicket = encodeForwardRequest({ ticket: randomBytes(32), port: 8090 });
        const answers = await rawForwardAttempts(agentAddress, [
          Buffer.from(wrongTicket).toString('hex'),
          Buffer.from('GET / HTTP/1.1\r\nHost: agent\r\n\r\n').toString('hex'),
          Buffer.concat([Buffer.from('WFWD\x07'), randomBytes(16 * 1024)]).toString('hex'),
        ]);
        expect(answers.map((answer) => answer?.status)).toEqual(['forbidden', 'invalid', 'invalid']);
        expect(answers[0]?.message).toMatch(/no valid port forward ticket for this device/);
        expect(answers[1]?.message).toMatch(/takes Warren port forwards only/);
        expect(answers[2]?.message).toMatch(/version 7/);
        // The agent is still up and serving forwards.
        expect(await fetchInClient(9094)).toBe('still here');
      } finally {
        forward.child.kill('SIGTERM');
        server.kill('SIGKILL');
      }
    });

    it('revoking the token closes the open forwards at both ends and removes the device from the agent at once', async () => {
      const created = await api.tokens.create.mutate({ name: 'wg-revoke' });
      // A server in the workspace that greets each connection and says when one closes.
      const server = lab.spawn(nsAgent, process.execPath, [
        '-e',
        `require('net').createServer((s) => { s.write('hi'); s.on('error', () => {}); s.on('close', () => console.log('closed')); }).listen(8089, '127.0.0.1')`,
      ]);
      const forward = portForward({ ...cliEnv(), WARREN_TOKEN: created.token }, ['9091:8089']);
      // A client in the client namespace that holds one forwarded connection open.
      const holder = lab.spawn(nsClient, process.execPath, ['-e', HOLD_CONNECTION, '9091']);
      const serverOut = lines(server);
      const holderOut = lines(holder);
      try {
        await waitFor('the held connection', () => (holderOut().includes('open') ? true : undefined), 30_000);
        // It runs as TCP of its own to the agent's forward port, not inside SSH.
        const agentAddress = await lab.ipv4Address(nsAgent, agentDevice.interfaceName);
        const sockets = await lab.exec(nsClient, 'ss', ['-Htn', 'state', 'established']);
        expect(sockets).toContain(`${agentAddress}:${WIREGUARD_FORWARD_PORT}`);
        expect(sockets).not.toContain(`${agentAddress}:${WIREGUARD_SSH_PORT}`);
        const peersBefore = (await agentDevice.getDevice()).peers.length;

        const revoked = performance.now();
        await api.tokens.revoke.mutate({ id: created.id });
        await waitFor(
          'both ends of the forward to close',
          () => (holderOut().includes('closed') && serverOut().includes('closed') ? true : undefined),
          3000,
        );
        expect(performance.now() - revoked).toBeLessThan(3000);
        const after = await waitFor(
          'the revoked device to leave the agent',
          async () => {
            const peers = (await agentDevice.getDevice()).peers.length;
            return peers < peersBefore ? peers : undefined;
          },
          2000,
        );
        expect(after).toBe(peersBefore - 1);
      } finally {
        holder.kill('SIGKILL');
        forward.child.kill('SIGTERM');
        server.kill('SIGKILL');
      }
    });

    it('two port-forward --wireguard runs on one client machine each reach the workspace through their own device, and one ending leaves the other serving', async () => {
      const server = lab.spawn(nsAgent, process.execPath, [
        '-e',
        `require('http').createServer((q, s) => s.end('both ' + q.url)).listen(8091, '127.0.0.1')`,
      ]);
      const firstEnv = cliEnv();
      const secondEnv = cliEnv();
      const first = portForward(firstEnv, ['9095:8091']);
      const second = portForward(secondEnv, ['9096:8091']);
      /** What a client device has sent to its peers, as `wg show` reads it over UAPI. */
      const sent = async (env: Record<string, string>) => {
        const out = await lab.exec(nsClient, 'wg', [
          'show',
          env.WARREN_WIREGUARD_INTERFACE ?? '',
          'transfer',
        ]);
        return out
          .trim()
          .split('\n')
          .reduce((sum, line) => sum + Number(line.split(/\s+/)[2] ?? 0), 0);
      };
      try {
        expect(await waitFor('the first forward', () => fetchInClient(9095), 30_000)).toBe('both /');
        // Both devices hold an address in Warren's range. The second's connections must leave from
        // its own address through its own device, or the agent sees the wrong peer and refuses.
        const firstBefore = await sent(firstEnv);
        const secondBefore = await sent(secondEnv);
        expect(await waitFor('the second forward', () => fetchInClient(9096), 30_000)).toBe('both /');
        expect(await sent(secondEnv)).toBeGreaterThan(secondBefore);
        // None of the second forward's connection went out through the first device: a TCP connection
        // and a request are several packets of 80 bytes and more; a keepalive or handshake is one.
        expect((await sent(firstEnv)) - firstBefore).toBeLessThan(200);
        expect(await fetchInClient(9095)).toBe('both /');
        expect(await sent(firstEnv)).toBeGreaterThan(firstBefore);

        first.child.kill('SIGTERM');
        await waitFor(
          'the first forward to end',
          () => (first.child.exitCode !== null ? true : undefined),
          10_000,
        );
        expect(await fetchInClient(9095)).toBeUndefined();
        expect(await waitFor('the second forward, alone', () => fetchInClient(9096), 10_000)).toBe('both /');
        // The first run took its routing rule with it.
        const rules = await lab.exec(nsClient, 'ip', ['-4', 'rule']);
        expect(rules.match(/from 100\.64\./g)?.length).toBe(1);
      } finally {
        first.child.kill('SIGTERM');
        second.child.kill('SIGTERM');
        server.kill('SIGKILL');
      }
    }, 120_000);

    it('stopping the workspace takes its agent out of WireGuard', async () => {
      await api.workspaces.stop.mutate({ name: 'dev' });
      await settle(api, 'dev', 'stopped', 60_000);
      const result = await cli(['ssh', '--wireguard', 'dev', 'true']);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/is stopped; start it first/);
    });
  },
);

/** Connects to 127.0.0.1:PORT until a connection greets it, then prints `open`, and `closed` when it ends. */
const HOLD_CONNECTION = `
const net = require('net');
const port = Number(process.argv[1]);
const attempt = () => {
  const socket = net.connect(port, '127.0.0.1');
  let open = false;
  socket.on('error', () => {});
  socket.once('data', () => { open = true; console.log('open'); });
  socket.on('close', () => { if (open) { console.log('closed'); process.exit(0); } else setTimeout(attempt, 200); });
};
attempt();
`;

/** For each hex payload: connect to HOST:PORT, send it, and collect what comes back until the close. */
const SEND_RAW = `
const net = require('net');
const [host, port, ...payloads] = process.argv.slice(1);
(async () => {
  const answers = [];
  for (const hex of payloads) {
    answers.push(await new Promise((resolve) => {
      const socket = net.connect(Number(port), host);
      const chunks = [];
      socket.on('data', (chunk) => chunks.push(chunk));
      socket.on('error', () => {});
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('hex')));
      socket.write(Buffer.from(hex, 'hex'));
    }));
  }
  process.stdout.write(JSON.stringify(answers));
})();
`;

/** Each line the child prints, so far. */
function lines(child: ChildProcess): () => string[] {
  let out = '';
  child.stdout?.on('data', (chunk) => (out += chunk));
  return () => out.split('\n').filter(Boolean);
}

function envArgs(env: Record<string, string>): string[] {
  return Object.entries(env).map(([key, value]) => `${key}=${value}`);
}
