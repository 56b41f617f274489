import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import { Secret } from '@warren/core';
import { connectWorkspaceSsh, ephemeralKeyPair, openSshTunnel } from '@warren/core/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestDaemon, type TestDaemon } from '../harness';
import { ensureAgentBuilt, settle, waitFor } from '../workspaceHelpers';

/** The agent token a local workspace's agent was started with, read from its initial environment. */
function agentTokenOf(workspaceId: string): string {
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let environ: string;
    try {
      environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
    } catch {
      continue;
    }
    const vars = environ.split('\0');
    if (!vars.some((v) => v.startsWith('WARREN_AGENT_DIR=') && v.includes(workspaceId))) continue;
    const token = vars.find((v) => v.startsWith('WARREN_AGENT_TOKEN='));
    if (token) return token.slice('WARREN_AGENT_TOKEN='.length);
  }
  throw new Error(`no agent process found for workspace ${workspaceId}`);
}

const frameTypes = ['hello', 'lifecycle', 'logs', 'response', 'manifest', 'stream', 'request', 'x', ''];

/** One random frame: JSON that looks nearly right, garbage, broken UTF-8, or an oversized one. */
function randomFrame(): { data: Buffer | string; binary: boolean } {
  switch (randomInt(8)) {
    case 0:
      return { data: randomBytes(randomInt(0, 4096)), binary: true };
    case 1:
      return { data: Buffer.from([0xff, 0xfe, ...randomBytes(randomInt(0, 64))]), binary: false };
    case 2:
      return { data: `{"type":"${frameTypes[randomInt(frameTypes.length)]}"`, binary: false };
    case 3:
      return {
        data: JSON.stringify({
          type: 'response',
          id: randomBytes(8).toString('hex'),
          result: { stolen: true },
        }),
        binary: false,
      };
    case 4:
      return {
        data: JSON.stringify({
          type: frameTypes[randomInt(frameTypes.length)],
          state: 'ready',
          lines: [{ time: randomInt(1e9), line: 'x'.repeat(randomInt(100)) }],
          extra: randomBytes(4).toString('hex'),
        }),
        binary: false,
      };
    case 5:
      return { data: JSON.stringify([1, 2, { type: 'hello' }]), binary: false };
    case 6:
      return { data: JSON.stringify({ type: 'lifecycle', state: 'ready' }), binary: false };
    default:
      return { data: randomBytes(randomInt(1, 64)).toString('latin1'), binary: false };
  }
}

/** Opens a socket, sends up to `count` random frames as fast as it can, and returns how many went out. */
function fuzzSocket(
  url: string,
  headers: Record<string, string>,
  count: number,
  binaryOnly = false,
): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers, perMessageDeflate: false });
    let sent = 0;
    const done = () => resolve(sent);
    socket.once('error', done);
    socket.once('close', done);
    socket.once('unexpected-response', (_req, res) => {
      res.resume();
      done();
    });
    socket.once('open', () => {
      for (let i = 0; i < count && socket.readyState === socket.OPEN; i++) {
        const frame = randomFrame();
        socket.send(frame.data, { binary: binaryOnly || frame.binary });
        sent += 1;
      }
      socket.close();
    });
  });
}

describe('random frames on every WebSocket', () => {
  let t: TestDaemon;
  let token: string;
  let wsUrl: string;
  let idA: string;

  beforeAll(async () => {
    ensureAgentBuilt();
    t = await startTestDaemon('sqlite');
    token = (await t.setupOwner()).token;
    const owner = t.client(token);
    for (const name of ['a', 'b'])
      await owner.workspaces.create.mutate({ name, template: 'local', parameters: { file_server: false } });
    idA = (await settle(owner, 'a', 'running', 60_000)).id;
    await settle(owner, 'b', 'running', 60_000);
    wsUrl = t.url.replace(/^http/, 'ws');
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('10,000+ malformed, out-of-order and oversized frames crash neither the daemon nor an agent, and reach no other workspace', async () => {
    const agentToken = agentTokenOf(idA);
    const bearer = { authorization: `Bearer ${token}` };
    let frames = 0;
    // Workspace b's agent keeps answering its own calls while a's socket is flooded with forged answers.
    const idB = (await t.client(token).workspaces.get.query({ name: 'b' })).id;
    const rpcCalls: Promise<unknown>[] = [];

    // First the tunnels, while a's agent is connected: random bytes reach its SSH server and its terminals.
    for (let round = 0; round < 100; round++) {
      const batch = await Promise.all([
        fuzzSocket(
          `${wsUrl}/api/v2/tunnels/ssh?workspace=a`,
          { ...bearer, 'x-warren-ssh-key': ephemeralKeyPair().publicKey },
          60,
          true,
        ),
        fuzzSocket(`${wsUrl}/api/v2/tunnels/terminal?workspace=a&session=fuzz${round % 3}`, bearer, 30),
        // An agent stream nobody asked for is refused before it opens.
        fuzzSocket(
          `${wsUrl}/api/v2/agents/streams/${randomBytes(8).toString('hex')}`,
          { authorization: `Bearer ${agentToken}` },
          5,
        ),
        // A standby as a's agent: a text frame or over 16 KiB before it is used closes it, and a
        // tunnel that takes one gets only the bytes it sent (workspace a's own).
        fuzzSocket(`${wsUrl}/api/v2/agents/streams/standby`, { authorization: `Bearer ${agentToken}` }, 5),
      ]);
      frames += batch.reduce((sum, n) => sum + n, 0);
      if (round % 10 === 0)
        rpcCalls.push(
          t.daemon.services.agentRpc.call(idB, 'stats', {}, { timeoutMs: 10_000 }).catch((e) => e),
        );
    }
    // Then the agent control socket, as a's agent: each connection replaces the real one, which redials.
    for (let round = 0; round < 100; round++) {
      frames += await fuzzSocket(
        `${wsUrl}/api/v2/agents/connect`,
        { authorization: `Bearer ${agentToken}` },
        40,
      );
      if (round % 10 === 0)
        rpcCalls.push(
          t.daemon.services.agentRpc.call(idB, 'stats', {}, { timeoutMs: 10_000 }).catch((e) => e),
        );
    }
    // A few frames over the 1 MiB limit, on the agent socket and a tunnel.
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve) => {
        const socket = new WebSocket(`${wsUrl}/api/v2/agents/connect`, {
          headers: { authorization: `Bearer ${agentToken}` },
        });
        socket.once('open', () => {
          socket.send(Buffer.alloc(1024 * 1024 + 10, 0x41));
          frames += 1;
        });
        socket.once('close', () => resolve());
        socket.once('error', () => resolve());
      });
    }
    console.log(`fuzz: ${frames} frames sent`);
    expect(frames).toBeGreaterThanOrEqual(10_000);

    // The daemon still serves, b's calls got b's own answers, and both agents are back.
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    for (const result of await Promise.all(rpcCalls)) {
      expect(result).not.toBeInstanceOf(Error);
      expect(result).toHaveProperty('memoryTotalBytes');
    }
    for (const name of ['a', 'b']) {
      const ssh = await waitFor(
        `an SSH session into ${name}`,
        () => connectWorkspaceSsh({ url: t.url, token: new Secret(token) }, name).catch(() => undefined),
        30_000,
      );
      const output = await new Promise<string>((resolve, reject) =>
        ssh.client.exec('echo alive', (error, channel) => {
          if (error) return reject(error);
          let text = '';
          channel.on('data', (d: Buffer) => (text += d));
          channel.on('close', () => resolve(text));
        }),
      );
      ssh.close();
      expect(output.trim()).toBe('alive');
    }
  }, 180_000);

  it("a standby stream may send only SSH's first bytes before use, and they reach the client that takes it", async () => {
    const agentToken = agentTokenOf(idA);
    const openStandby = async () => {
      const socket = new WebSocket(`${wsUrl}/api/v2/agents/streams/standby`, {
        headers: { authorization: `Bearer ${agentToken}` },
      });
      const closed = new Promise<number>((resolve) => socket.once('close', resolve));
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      return { socket, closed };
    };
    const text = await openStandby();
    text.socket.send('{"type":"lifecycle","state":"ready"}');
    expect(await text.closed).toBe(1008);
    const flood = await openStandby();
    flood.socket.send(Buffer.alloc(16 * 1024 + 1, 0x53));
    expect(await flood.closed).toBe(1008);

    const primed = await openStandby();
    const toAgent = new Promise<string>((resolve) =>
      primed.socket.once('message', (data) => resolve(String(data))),
    );
    primed.socket.send(Buffer.from('SSH-2.0-standby\r\n'));
    // Until it is used, nothing reaches it; then the tunnel's stream frame, with the client's key.
    const key = ephemeralKeyPair().publicKey;
    const tunnel = await waitFor('the daemon to hold the primed standby', async () => {
      const opened = await openSshTunnel({ url: t.url, token: new Secret(token) }, 'a', key);
      const first = await new Promise<Buffer>((resolve) => opened.stream.once('data', resolve));
      if (first.toString() === 'SSH-2.0-standby\r\n') return opened;
      opened.socket.close();
      return undefined;
    });
    const frame = JSON.parse(await toAgent);
    expect(frame).toMatchObject({ type: 'stream', kind: 'ssh', clientKey: key });
    // The client left: the stream ends with it ("going away").
    tunnel.socket.close();
    expect(await primed.closed).toBe(1001);
  });
});
