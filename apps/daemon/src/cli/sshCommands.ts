import { WarrenError } from '@warren/core';
import {
  connectWorkspaceForwardsOverWireguard,
  connectWorkspaceSsh,
  connectWorkspaceSshOverWireguard,
  type ForwardConnection,
  openSshTunnel,
  PortForwarder,
  parsePortForward,
  WireguardClientDevice,
  type WorkspaceSsh,
  wireguardControl,
  wireguardModeUnavailableReason,
} from '@warren/core/node';
import type { Command } from 'commander';
import { type CliSession, currentSession } from './CliSession';
import { workspaceRef } from './flags';
import { loadOrCreateDeviceKey, rememberHostKey } from './sshKeys';

interface SshFlags {
  stdio?: boolean;
  hostAlias?: string;
  tty?: boolean;
  wireguard?: boolean;
}

const WIREGUARD_FLAG =
  'connect over WireGuard instead of the relay (needs root and wireguard-go here, and a server with WireGuard mode)';

/** How a command reaches the workspace: through the relay, or over this process's WireGuard device. */
async function connector<T>(
  session: CliSession,
  wireguard: boolean | undefined,
  ways: { relay: () => Promise<T>; wireguard: (device: WireguardClientDevice) => Promise<T> },
): Promise<{ connect: () => Promise<T>; close: () => Promise<void> }> {
  if (!wireguard) return { connect: ways.relay, close: async () => {} };
  const control = wireguardControl(session.client.wireguard);
  // WARREN_WIREGUARD_GO names the wireguard-go binary (default: from PATH).
  const binary = process.env.WARREN_WIREGUARD_GO?.trim() || undefined;
  const unavailable = await wireguardModeUnavailableReason(control, binary ? { binary } : {});
  if (unavailable)
    throw new WarrenError(
      'UNAVAILABLE',
      `Cannot use WireGuard: ${unavailable}; connect without --wireguard.`,
    );
  // WARREN_WIREGUARD_INTERFACE names the device (default: a random wgc… name).
  const interfaceName = process.env.WARREN_WIREGUARD_INTERFACE?.trim() || undefined;
  const device = await WireguardClientDevice.start(control, {
    ...(interfaceName ? { interfaceName } : {}),
    ...(binary ? { binary } : {}),
  });
  return { connect: () => ways.wireguard(device), close: () => device.close() };
}

export function registerSshCommands(program: Command): void {
  program
    .command('ssh')
    .description('open a shell in a workspace, or run a command there, over SSH through the server')
    .argument('<workspace>', 'NAME, or OWNER/NAME')
    .argument('[command...]', 'a command to run instead of a shell')
    .option('--stdio', 'relay raw SSH bytes on stdin/stdout, for OpenSSH’s ProxyCommand (see config-ssh)')
    .option('--host-alias <alias>', 'with --stdio: record the pinned host key under this name')
    .option('-t, --tty', 'give the command a terminal even when one was not asked for')
    .option('--wireguard', WIREGUARD_FLAG)
    .action(async (workspace: string, command: string[], flags: SshFlags) => {
      const ref = workspaceRef(workspace);
      const name = ref.owner ? `${ref.owner}/${ref.name}` : ref.name;
      if (flags.stdio && flags.wireguard)
        throw new WarrenError(
          'INVALID_INPUT',
          '--stdio relays through the server; it cannot be combined with --wireguard.',
        );
      if (flags.stdio) return relayStdio(name, flags.hostAlias);
      const session = currentSession();
      const route = await connector(session, flags.wireguard, {
        relay: () => connectWorkspaceSsh(session, name),
        wireguard: (device) => connectWorkspaceSshOverWireguard(device, name),
      });
      try {
        process.exitCode = await interactive(await route.connect(), command.join(' '), flags.tty ?? false);
      } finally {
        await route.close();
      }
    });

  program
    .command('port-forward')
    .description('forward local TCP ports to ports inside a workspace until interrupted')
    .argument('<workspace>', 'NAME, or OWNER/NAME')
    .requiredOption(
      '--tcp <local:remote>',
      'a forward, e.g. 8080:3000 (repeat for several)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--wireguard', WIREGUARD_FLAG)
    .action(async (workspace: string, flags: { tcp: string[]; wireguard?: boolean }) => {
      const ref = workspaceRef(workspace);
      const name = ref.owner ? `${ref.owner}/${ref.name}` : ref.name;
      const session = currentSession();
      const forwards = flags.tcp.map(parsePortForward);
      // Over WireGuard the forwards are plain TCP (WireGuard already encrypts), not SSH.
      const route = await connector<ForwardConnection>(session, flags.wireguard, {
        relay: () => connectWorkspaceSsh(session, name),
        wireguard: (device) => connectWorkspaceForwardsOverWireguard(device, name),
      });
      const forwarder = new PortForwarder(route.connect, forwards);
      forwarder.on('state', (state, detail) => {
        if (state === 'reconnecting') process.stderr.write(`reconnecting: ${detail ?? 'connection lost'}\n`);
        if (state === 'connected') process.stderr.write(`connected to ${name}\n`);
      });
      forwarder.on('refused', (forward, reason) =>
        process.stderr.write(`127.0.0.1:${forward.localPort} -> ${name}:${forward.remotePort}: ${reason}\n`),
      );
      const bound = await forwarder.start().catch(async (error: unknown) => {
        await route.close();
        throw error;
      });
      for (const forward of bound)
        process.stdout.write(`forwarding 127.0.0.1:${forward.localPort} -> ${name}:${forward.remotePort}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => void forwarder.stop().then(route.close).then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

/** OpenSSH does the SSH; this process only carries its bytes to and from the relay. */
async function relayStdio(workspace: string, hostAlias: string | undefined): Promise<void> {
  const session = currentSession();
  const key = loadOrCreateDeviceKey();
  const { connected, stream } = await openSshTunnel(session, workspace, key.publicKey);
  if (hostAlias && connected.hostKey) rememberHostKey(hostAlias, connected.hostKey);
  await new Promise<void>((resolve) => {
    process.stdin.pipe(stream).pipe(process.stdout);
    stream.once('close', resolve);
    stream.once('error', resolve);
    process.stdin.once('end', () => stream.end());
  });
}

async function interactive(ssh: WorkspaceSsh, command: string, forceTty: boolean): Promise<number> {
  const { stdin, stdout, stderr } = process;
  const tty = stdin.isTTY && stdout.isTTY;
  const wantPty = command ? forceTty && tty : tty;
  const window = {
    term: process.env.TERM ?? 'xterm-256color',
    cols: stdout.columns ?? 80,
    rows: stdout.rows ?? 24,
  };
  // The exit status can arrive in the same read as the session's acceptance (a command as quick as
  // `true`), and ssh2 emits it there and then: listen before anything is awaited, or it is lost.
  let exit = 255;
  const channel = await new Promise<import('ssh2').ClientChannel>((resolve, reject) => {
    const done = (error: Error | undefined, stream: import('ssh2').ClientChannel) => {
      if (error)
        return reject(new WarrenError('UPSTREAM', `The workspace refused the session: ${error.message}.`));
      stream.on('exit', (status: number | null, signal?: string) => {
        exit = status ?? (signal ? 128 + signalNumber(signal) : 255);
      });
      resolve(stream);
    };
    if (command) ssh.client.exec(command, wantPty ? { pty: window } : {}, done);
    else ssh.client.shell(wantPty ? window : false, done);
  });
  if (wantPty) {
    stdin.setRawMode(true);
    stdout.on('resize', () => channel.setWindow(stdout.rows ?? 24, stdout.columns ?? 80, 0, 0));
  }
  stdin.pipe(channel);
  channel.pipe(stdout, { end: false });
  channel.stderr.pipe(stderr, { end: false });
  const code = await new Promise<number>((resolve) => channel.on('close', () => resolve(exit)));
  if (wantPty) stdin.setRawMode(false);
  stdin.unpipe(channel);
  stdin.pause();
  ssh.close();
  return code;
}

function signalNumber(name: string): number {
  const numbers: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, TERM: 15, PIPE: 13 };
  return numbers[name] ?? 1;
}
