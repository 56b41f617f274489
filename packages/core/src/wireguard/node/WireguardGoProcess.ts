import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { WarrenError } from '../../errors/WarrenError';
import { isIpPrefix } from '../addressSyntax';
import type { WireguardNetworkMap } from '../networkMap';
import { syncWireguardPeers } from './syncWireguardPeers';
import { assertInterfaceName, UapiClient } from './UapiClient';

const run = promisify(execFile);

export interface WireguardGoOptions {
  interfaceName: string;
  /**
   * The device's own tunnel addresses as prefixes (e.g. 100.64.0.1/24); the prefix sets the route.
   * May be left out and added later (addAddresses, applyNetworkMap) once the daemon allocated them.
   */
  addresses?: string[];
  /** Runs the device inside this network namespace (`ip netns exec`); the socket stays in the shared /var/run. */
  netns?: string;
  mtu?: number;
  /** The wireguard-go binary; default from PATH. */
  binary?: string;
  socketDir?: string;
  startTimeoutMs?: number;
}

/**
 * Node only, Linux, root. A userspace WireGuard device: wireguard-go in the foreground, with its
 * addresses assigned and the link up. Keys and peers are set afterwards through `client` (UAPI).
 * `stop()` ends the process, which removes its interface and socket.
 */
export class WireguardGoProcess {
  readonly client: UapiClient;
  readonly exited: Promise<void>;
  #stderr = '';
  readonly #addresses = new Set<string>();
  /** Network maps are applied one at a time, in arrival order. */
  #applying: Promise<unknown> = Promise.resolve();
  #appliedVersion = -1;

  private constructor(
    readonly options: WireguardGoOptions,
    readonly child: ChildProcess,
  ) {
    this.client = new UapiClient(options.interfaceName, { socketDir: options.socketDir });
    // A binary that cannot be spawned emits 'error' and may never emit 'exit'.
    this.exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-2000);
    });
  }

  static async start(options: WireguardGoOptions): Promise<WireguardGoProcess> {
    assertInterfaceName(options.interfaceName);
    const binary = options.binary ?? 'wireguard-go';
    const [command, args] =
      options.netns === undefined
        ? [binary, ['-f', options.interfaceName]]
        : ['ip', ['netns', 'exec', options.netns, binary, '-f', options.interfaceName]];
    const child = spawn(command, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      // wireguard-go refuses to start on Linux, where a kernel module exists, unless told this.
      env: { ...process.env, WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1', LOG_LEVEL: 'error' },
    });
    const device = new WireguardGoProcess(options, child);
    try {
      await device.#waitForSocket(options.startTimeoutMs ?? 5000);
      await device.addAddresses(options.addresses ?? []);
      await device.#ip([
        'link',
        'set',
        options.interfaceName,
        'up',
        ...(options.mtu ? ['mtu', String(options.mtu)] : []),
      ]);
    } catch (error) {
      await device.stop();
      throw error;
    }
    return device;
  }

  get interfaceName(): string {
    return this.options.interfaceName;
  }

  async #waitForSocket(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let gone = false;
    void this.exited.then(() => {
      gone = true;
    });
    const spawnFailed = new Promise<Error>((resolve) => this.child.once('error', resolve));
    while (Date.now() < deadline) {
      const failure = await Promise.race([spawnFailed, sleep(20).then(() => undefined)]);
      if (failure)
        throw new WarrenError('UNAVAILABLE', `Could not start wireguard-go: ${failure.message}.`, {
          cause: failure,
        });
      if (gone)
        throw new WarrenError(
          'UNAVAILABLE',
          `wireguard-go exited before it created ${this.interfaceName}: ${this.#stderr.trim() || `exit code ${this.child.exitCode}`}.`,
        );
      // Ready means answering a get, not just a socket file (a crashed run may have left one).
      if (
        await this.client.getDevice().then(
          () => true,
          () => false,
        )
      )
        return;
    }
    throw new WarrenError(
      'UNAVAILABLE',
      `wireguard-go did not create ${this.client.socketPath} within ${timeoutMs} ms.`,
    );
  }

  /** Puts tunnel addresses on the interface; ones it already has are skipped. */
  async addAddresses(prefixes: readonly string[]): Promise<void> {
    for (const prefix of prefixes) {
      if (!isIpPrefix(prefix))
        throw new WarrenError(
          'INVALID_INPUT',
          `"${prefix.slice(0, 64)}" is not an address prefix like 100.64.0.1/24.`,
        );
      if (this.#addresses.has(prefix)) continue;
      await this.#ip(['address', 'add', prefix, 'dev', this.interfaceName]);
      this.#addresses.add(prefix);
    }
  }

  /**
   * Applies a network map from the daemon: its addresses (replacing others), then its peers.
   * Maps apply in arrival order; one not newer than the last applied is skipped, since maps are
   * complete and a newer one already says everything an older one did.
   */
  applyNetworkMap(map: WireguardNetworkMap): Promise<void> {
    const next = this.#applying.then(async () => {
      if (map.version <= this.#appliedVersion) return;
      await this.addAddresses(map.addresses);
      // After a daemon restart a node may get new addresses; the old ones would route nowhere.
      for (const prefix of [...this.#addresses].filter((p) => !map.addresses.includes(p))) {
        await this.#ip(['address', 'del', prefix, 'dev', this.interfaceName]);
        this.#addresses.delete(prefix);
      }
      await syncWireguardPeers(this.client, map.peers);
      this.#appliedVersion = map.version;
    });
    // A failed map must not block the next one; the caller still gets this one's error.
    this.#applying = next.catch(() => {});
    return next;
  }

  async #ip(args: string[]): Promise<void> {
    const { netns } = this.options;
    try {
      await run('ip', netns === undefined ? args : ['-n', netns, ...args]);
    } catch (error) {
      const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
      throw new WarrenError(
        'UNAVAILABLE',
        `Could not set up interface ${this.interfaceName}: ip ${args.join(' ')}: ${stderr || (error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  /** Ends wireguard-go (SIGTERM, then SIGKILL after 3 s) and waits for it. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined)
      return;
    this.child.kill('SIGTERM');
    const killed = await Promise.race([this.exited.then(() => false), sleep(3000).then(() => true)]);
    if (killed) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}
