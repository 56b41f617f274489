// The WireGuard port forward row of the tunnel benchmark: Warren's WireGuard mode end to end, as
// apps/daemon/test/tunnels/wireguardNetns.test.ts runs it. The daemon (the built CLI's `server`,
// WARREN_WIREGUARD=1) in one network namespace, the workspace agent (placed there by the local
// provisioner through a wrapper) in a second, and the built CLI's `port-forward --wireguard` in a
// third; the daemon's namespace routes between the other two. Bytes go from a sender in the client
// namespace through the forward (plain TCP over WireGuard: the CLI's listener, a TCP connection to
// the agent's forward port, the agent's connection to the receiver) to a receiver in the agent's
// namespace, and are checked against the agent device's own counters. Each round also times raw
// wireguard-go between the same namespaces: TCP from the same sender straight to a receiver on the
// agent's tunnel address, over the same two devices, without the forward. The forward is judged
// against that, round by round (the two take turns, so load from elsewhere falls on both alike);
// wireguard.mjs's two-namespace row is a second, independent reference.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTempDir, onCleanup } from '../lib/cleanup.mjs';
import { DAEMON_BIN, ROOT, signInFirstUser, trpc } from '../lib/daemon.mjs';
import { log } from '../lib/log.mjs';
import { median } from '../lib/stats.mjs';

const AGENT_BIN = path.join(ROOT, 'apps', 'agent', 'dist', 'warren-agent.mjs');
const PORT = 7080;
const FORWARD_PORT = 9200;
/** Where the receiver listens on the agent's tunnel address for the transfers without the forward. */
const BARE_PORT = 9201;
const WORKSPACE = 'wgbench';

/** `wg` is core's bundled WireGuard and namespace code (wireguard.mjs's loadWireguardModule). */
export async function measureWireguardForward({ seconds = 3, rounds = 5, wg }) {
  const skipped = wg.netnsUnavailableReason(['wireguard-go', 'socat']);
  if (skipped) return { skipped };
  for (const bundle of [DAEMON_BIN, AGENT_BIN])
    if (!fs.existsSync(bundle)) return { skipped: `${path.relative(ROOT, bundle)} is not built` };

  const lab = new wg.NetnsLab();
  const { dir, remove } = makeTempDir('warren-bench-wgfwd-');
  const children = [];
  const stage = { lab, children, bridge: undefined };
  onCleanup('WireGuard forward stage', async () => {
    for (const child of children) child.kill('SIGTERM');
    stage.bridge?.close();
    await sleep(300);
    await lab.cleanup();
    await remove();
  });
  log('WireGuard forward: daemon, agent and client namespaces...');
  const {
    daemon: nsDaemon,
    agent: nsAgent,
    client: nsClient,
    daemonForAgent,
    daemonForClient,
  } = await lab.routedThroughDaemon({ daemon: 'bd', agent: 'ba', client: 'bc' }, 85, 86);
  const wrapper = lab.writeAgentWrapper(
    path.join(dir, 'agent-in-netns.mjs'),
    nsAgent,
    AGENT_BIN,
    lab.interfaceName('ag'),
  );
  const daemon = lab.spawn(nsDaemon, 'env', [
    'WARREN_WIREGUARD=1',
    `WARREN_AGENT_BINARY=${wrapper}`,
    process.execPath,
    DAEMON_BIN,
    'server',
    '--listen',
    `0.0.0.0:${PORT}`,
    '--access-url',
    `http://${daemonForAgent}:${PORT}`,
    '--data-dir',
    path.join(dir, 'data'),
    '--log-level',
    'warn',
  ]);
  children.push(daemon);
  daemon.stdout.resume();
  daemon.stderr.resume();

  // This process stays in the host's namespace and reaches the daemon through a Unix socket.
  const socketPath = path.join(dir, 'daemon.sock');
  children.push(lab.spawn(nsDaemon, 'socat', [`UNIX-LISTEN:${socketPath},fork`, `TCP:127.0.0.1:${PORT}`]));
  stage.bridge = net.createServer((socket) => {
    const upstream = net.connect(socketPath);
    socket.pipe(upstream).pipe(socket);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise((resolve) => stage.bridge.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${stage.bridge.address().port}`;
  await until(
    'the daemon in its namespace',
    async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.ok,
  );

  log('WireGuard forward: the daemon answers; signing in...');
  const { headers } = await signInFirstUser(url, { name: 'wireguard forward', username: 'bench' });
  await trpc(url, 'POST', 'workspaces.create', {
    input: { name: WORKSPACE, template: 'local', parameters: { file_server: false } },
    headers,
  });
  log('WireGuard forward: waiting for the workspace and its WireGuard device...');
  await until('the workspace to run', async () => {
    const view = await trpc(url, 'GET', 'workspaces.get', { input: { name: WORKSPACE }, headers });
    if (['failed', 'canceled', 'stopped'].includes(view?.status))
      throw new Error(`The workspace is ${view.status}.`);
    return view?.status === 'running' && view.agent?.lifecycle === 'ready';
  });
  const iface = await until('the agent’s WireGuard interface', async () => {
    return (await lab.exec(nsAgent, 'ip', ['-o', 'link'])).includes(`: ${lab.interfaceName('ag')}:`)
      ? lab.interfaceName('ag')
      : undefined;
  });
  const agentDevice = new wg.UapiClient(iface);

  const forward = lab.spawn(nsClient, 'env', [
    `WARREN_URL=http://${daemonForClient}:${PORT}`,
    `WARREN_TOKEN=${headers.authorization.slice('Bearer '.length)}`,
    `WARREN_CONFIG_DIR=${path.join(dir, 'cli')}`,
    `WARREN_WIREGUARD_INTERFACE=${lab.interfaceName('fc')}`,
    process.execPath,
    DAEMON_BIN,
    'port-forward',
    '--wireguard',
    WORKSPACE,
    '--tcp',
    `${FORWARD_PORT}:${FORWARD_PORT}`,
  ]);
  children.push(forward);
  forward.stderr.resume();
  const setupStarted = performance.now();
  await new Promise((resolve, reject) => {
    let out = '';
    forward.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('forwarding')) resolve();
    });
    forward.once('exit', (code) => reject(new Error(`warren port-forward --wireguard exited with ${code}.`)));
  });
  const setupMs = performance.now() - setupStarted;

  const agentAddress = await lab.ipv4Address(nsAgent, iface);
  const received = async () => (await agentDevice.getDevice()).peers[0]?.rxBytes ?? 0;
  const forwarded = [];
  const bare = [];
  let bytes = 0;
  let counted = 0;
  let connectMs = 0;
  // Taking turns, so that load from elsewhere on the machine falls on both alike.
  for (let round = 1; round <= rounds; round++) {
    log(`WireGuard port forward for ${seconds} s (round ${round}/${rounds})...`);
    const before = await received();
    const { sink, source } = await wg.runTcpTransfer(lab, {
      sinkNs: nsAgent,
      sourceNs: nsClient,
      host: '127.0.0.1',
      port: FORWARD_PORT,
      seconds,
    });
    const rx = (await received()) - before;
    if (rx < sink.bytes)
      throw new Error(
        `The agent's device counted ${rx} bytes received, fewer than the ${sink.bytes} forwarded.`,
      );
    if (sink.sha256 !== source.sha256) throw new Error('The forwarded bytes arrived changed.');
    forwarded.push(mbPerSecond(sink));
    bytes += sink.bytes;
    counted += rx;
    connectMs ||= source.connectMs;
    log(`  ${forwarded.at(-1).toFixed(0)} MB/s; the same devices without the forward for ${seconds} s...`);
    const direct = await wg.runTcpTransfer(lab, {
      sinkNs: nsAgent,
      sourceNs: nsClient,
      host: agentAddress,
      port: BARE_PORT,
      seconds,
    });
    if (direct.sink.sha256 !== direct.source.sha256)
      throw new Error('The bytes over WireGuard arrived changed.');
    bare.push(mbPerSecond(direct.sink));
    log(`  ${bare.at(-1).toFixed(0)} MB/s`);
  }
  const mbps = median(forwarded);
  const bareMbps = median(bare);
  const shares = forwarded.map((value, i) => value / bare[i]);
  return {
    mbps,
    bytes,
    connectMs,
    setupMs,
    bareMbps,
    /** The median of each round's forward / raw ratio. */
    share: median(shares),
    shares,
    detail: `median of ${rounds} x ${seconds} s, ${(bytes / 1e6).toFixed(0)} MB, sha256 checked, agent peer rx ${(counted / 1e6).toFixed(0)} MB; device up + registered + first ticket ${setupMs.toFixed(0)} ms`,
  };
}

const mbPerSecond = (side) => side.bytes / 1e6 / (side.ms / 1000);

async function until(what, check, timeoutMs = 60_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await sleep(100);
  }
}
