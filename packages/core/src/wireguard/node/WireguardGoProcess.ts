import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { WarrenError } from '../../errors/WarrenError';
import { isIpPrefix, prefixNetwork } from '../addressSyntax';
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
  /**
   * Routes what leaves from this device's own addresses through this device, whatever else holds
   * an address in the same range: a routing table of its own and an `ip rule` per address. For a
   * client machine, where several devices (two `warren port-forward --wireguard` runs, say) each
   * hold an address in Warren's range and the kernel's plain prefix routes would send them all
   * through whichever came first. Connections must then leave from `sourceAddressFor(host)`.
   */
  sourceRouted?: boolean;
}

/** Where this device's source rules sit: before the main table (32766), after the local one (0). */
const SOURCE_RULE_PRIORITY = 5270;
/** Source-routed devices' tables are numbered from here (the bytes spell "WW"), one per device. */
const SOURCE_TABLE_BASE = 0x57570000;

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
  /** The routing table of a source-routed device, once chosen. */
  #table: number | undefined;

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
      if (options.sourceRouted) device.#table = await device.#freeTable();
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
      await this.#routeFrom(prefix);
    }
  }

  /** This device's own address of `host`'s family (IPv4 or IPv6), for a connection to leave from. */
  sourceAddressFor(host: string): string | undefined {
    const v6 = host.includes(':');
    const prefix = [...this.#addresses].find((candidate) => candidate.includes(':') === v6);
    return prefix?.slice(0, prefix.indexOf('/'));
  }

  /** A source-routed device's rule and route for one of its addresses (after sweeping stale rules). */
  async #routeFrom(prefix: string): Promise<void> {
    const table = this.#table;
    if (table === undefined) return;
    const family = prefix.includes(':') ? '-6' : '-4';
    const address = prefix.slice(0, prefix.indexOf('/'));
    // A device killed before it could clean up left its rule for this address behind.
    await this.#dropRules(family, address);
    await this.#ip([
      family,
      'route',
      'replace',
      prefixNetwork(prefix),
      'dev',
      this.interfaceName,
      'table',
      String(table),
    ]);
    await this.#ip([
      family,
      'rule',
      'add',
      'from',
      address,
      'lookup',
      String(table),
      'priority',
      String(SOURCE_RULE_PRIORITY),
    ]);
  }

  /** Removes every rule at this device's priority for `address` (bounded; missing ones are fine). */
  async #dropRules(family: '-4' | '-6', address: string): Promise<void> {
    for (let i = 0; i < 16; i++) {
      const gone = await this.#ip([
        family,
        'rule',
        'del',
        'from',
        address,
        'priority',
        String(SOURCE_RULE_PRIORITY),
      ]).then(
        () => false,
        () => true,
      );
      if (gone) return;
    }
  }

  /** A table number no other device (or anything else) routes through yet. */
  async #freeTable(): Promise<number> {
    let hash = 0x811c9dc5;
    for (const char of this.interfaceName) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
    for (let i = 0; i < 64; i++) {
      const table = SOURCE_TABLE_BASE + ((hash + i) & 0xffff);
      const used = await Promise.all(
        // A table nothing ever used does not exist yet, which `ip -6` reports as an error.
        ['-4', '-6'].map((family) =>
          this.#ipOutput([family, 'route', 'show', 'table', String(table)]).catch(() => ''),
        ),
      );
      if (used.every((routes) => routes.trim() === '')) return table;
    }
    throw new WarrenError('UNAVAILABLE', `Could not find a free routing table for ${this.interfaceName}.`);
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
        await this.#unrouteFrom(prefix);
      }
      await syncWireguardPeers(this.client, map.peers);
      this.#appliedVersion = map.version;
    });
    // A failed map must not block the next one; the caller still gets this one's error.
    this.#applying = next.catch(() => {});
    return next;
  }

  /** Undoes #routeFrom for an address the device no longer has; what is already gone is fine. */
  async #unrouteFrom(prefix: string): Promise<void> {
    if (this.#table === undefined) return;
    const family = prefix.includes(':') ? '-6' : '-4';
    await this.#dropRules(family, prefix.slice(0, prefix.indexOf('/')));
    const route = [family, 'route', 'del', prefixNetwork(prefix), 'table', String(this.#table)];
    await this.#ip(route).catch(() => {});
  }

  async #ip(args: string[]): Promise<void> {
    await this.#ipOutput(args);
  }

  async #ipOutput(args: string[]): Promise<string> {
    const { netns } = this.options;
    try {
      return (await run('ip', netns === undefined ? args : ['-n', netns, ...args])).stdout;
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
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined) {
      this.child.kill('SIGTERM');
      const killed = await Promise.race([this.exited.then(() => false), sleep(3000).then(() => true)]);
      if (killed) {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    }
    // The interface took its routes with it; its rules stay in the namespace until removed.
    const addresses = [...this.#addresses];
    this.#addresses.clear();
    for (const prefix of addresses) await this.#unrouteFrom(prefix);
  }
}
