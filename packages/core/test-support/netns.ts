import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

/**
 * Network namespaces joined by veth pairs, for tests and benches that need real separate hosts
 * (root, Linux). Every name carries a random run id, so parallel runs never collide; everything
 * is undone by `cleanup()`, and what a crash leaves behind is removed at process exit. Left-overs
 * from a SIGKILLed run are all named `wtest-*` (namespaces) and `w<id>*` (links).
 */

const run = promisify(execFile);
export const NETNS_PREFIX = 'wtest-';

/** Why namespace tests cannot run here, or undefined when they can. `needs` lists extra binaries. */
export function netnsUnavailableReason(needs: string[] = []): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux, not ${process.platform}`;
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing, so no TUN device can be made';
  for (const binary of ['ip', ...needs]) {
    const found = spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0;
    if (!found)
      return `${binary} is not installed (apt-get install ${binary === 'ip' ? 'iproute2' : binary})`;
  }
  const probe = `${NETNS_PREFIX}probe-${randomBytes(3).toString('hex')}`;
  const added = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (added.status !== 0) return `ip netns add failed: ${added.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

async function ip(args: string[]): Promise<string> {
  try {
    return (await run('ip', args)).stdout;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`ip ${args.join(' ')} failed: ${stderr || (error as Error).message}`);
  }
}

const live = new Set<NetnsLab>();
process.once('exit', () => {
  for (const lab of live) lab.cleanupSync();
});

export class NetnsLab {
  /** 6 hex characters shared by every name this lab makes. */
  readonly id = randomBytes(3).toString('hex');
  readonly #namespaces: string[] = [];
  readonly #children = new Set<ChildProcess>();
  #links = 0;

  constructor() {
    live.add(this);
  }

  /** A fresh namespace with loopback up; `label` is for people reading `ip netns`. */
  async namespace(label: string): Promise<string> {
    const name = `${NETNS_PREFIX}${this.id}-${label}`;
    await ip(['netns', 'add', name]);
    this.#namespaces.push(name);
    await ip(['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** An interface name unique to this lab (15 characters at most, as Linux requires). */
  interfaceName(suffix: string): string {
    return `w${this.id}${suffix}`.slice(0, 15);
  }

  /** A veth pair between two namespaces, with `addressA`/`addressB` (prefixes) on its ends, up. */
  async connect(
    nsA: string,
    addressA: string,
    nsB: string,
    addressB: string,
  ): Promise<{ a: string; b: string }> {
    const n = this.#links++;
    return this.#veth(
      { ns: nsA, name: this.interfaceName(`v${n}a`), address: addressA },
      { ns: nsB, name: this.interfaceName(`v${n}b`), address: addressB },
    );
  }

  /**
   * A veth pair between the host's own namespace and `ns`, with `hostAddress`/`nsAddress`
   * (prefixes) on its ends, up: for a process of the test itself that must reach into `ns`.
   */
  async connectHost(ns: string, hostAddress: string, nsAddress: string): Promise<{ a: string; b: string }> {
    const n = this.#links++;
    return this.#veth(
      { ns: undefined, name: this.interfaceName(`v${n}h`), address: hostAddress },
      { ns, name: this.interfaceName(`v${n}n`), address: nsAddress },
    );
  }

  /**
   * Warren's WireGuard layout: a daemon namespace routing between an agent namespace and a client
   * namespace, each on its own /24 (`192.168.<agentNet>.0` and `192.168.<clientNet>.0`; the
   * daemon is `.1` on both, the others `.2`).
   */
  async routedThroughDaemon(
    labels: { daemon: string; agent: string; client: string },
    agentNet: number,
    clientNet: number,
  ): Promise<{
    daemon: string;
    agent: string;
    client: string;
    daemonForAgent: string;
    daemonForClient: string;
  }> {
    const [daemonForAgent, daemonForClient] = [`192.168.${agentNet}.1`, `192.168.${clientNet}.1`];
    const daemon = await this.namespace(labels.daemon);
    const agent = await this.namespace(labels.agent);
    const client = await this.namespace(labels.client);
    await this.connect(daemon, `${daemonForAgent}/24`, agent, `192.168.${agentNet}.2/24`);
    await this.connect(daemon, `${daemonForClient}/24`, client, `192.168.${clientNet}.2/24`);
    await this.exec(daemon, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    await this.exec(agent, 'ip', ['route', 'add', 'default', 'via', daemonForAgent]);
    await this.exec(client, 'ip', ['route', 'add', 'default', 'via', daemonForClient]);
    return { daemon, agent, client, daemonForAgent, daemonForClient };
  }

  /**
   * Writes a script for WARREN_AGENT_BINARY that runs the agent bundle inside `ns` with its
   * WireGuard device named `interfaceName` (the local provisioner runs `node <agent binary>`).
   */
  writeAgentWrapper(file: string, ns: string, agentBundle: string, interfaceName: string): string {
    writeFileSync(
      file,
      `import { spawn } from 'node:child_process';
const child = spawn('ip', ['netns', 'exec', ${JSON.stringify(ns)}, process.execPath, ${JSON.stringify(agentBundle)}], { stdio: 'inherit', env: { ...process.env, WARREN_WIREGUARD_INTERFACE: ${JSON.stringify(interfaceName)} } });
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
`,
    );
    return file;
  }

  /** `ns` undefined is the host's own namespace; deleting either namespace removes the pair. */
  async #veth(
    a: { ns: string | undefined; name: string; address: string },
    b: { ns: string | undefined; name: string; address: string },
  ): Promise<{ a: string; b: string }> {
    const into = (ns: string | undefined) => (ns === undefined ? [] : ['netns', ns]);
    const inNs = (ns: string | undefined) => (ns === undefined ? [] : ['-n', ns]);
    await ip(['link', 'add', a.name, ...into(a.ns), 'type', 'veth', 'peer', 'name', b.name, ...into(b.ns)]);
    for (const end of [a, b]) {
      await ip([...inNs(end.ns), 'address', 'add', end.address, 'dev', end.name]);
      await ip([...inNs(end.ns), 'link', 'set', end.name, 'up']);
    }
    return { a: a.name, b: b.name };
  }

  /** The IPv4 address (without its prefix length) of `iface` in `ns`. */
  async ipv4Address(ns: string, iface: string): Promise<string> {
    const out = await this.exec(ns, 'ip', ['-o', '-4', 'address', 'show', 'dev', iface]);
    const address = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(out)?.[1];
    if (!address) throw new Error(`${iface} in ${ns} has no IPv4 address: ${out}`);
    return address;
  }

  /** Starts a process inside `ns`; it is killed at cleanup if still running. */
  spawn(ns: string, command: string, args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, command, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return child;
  }

  /** Runs a command inside `ns` to completion and returns its stdout. */
  async exec(ns: string, command: string, args: string[]): Promise<string> {
    return ip(['netns', 'exec', ns, command, ...args]);
  }

  /** Kills what runs in the namespaces and deletes them (their veths and TUN devices go with them). */
  async cleanup(): Promise<void> {
    for (const child of this.#children) child.kill('SIGKILL');
    for (const ns of this.#namespaces) {
      const pids = await ip(['netns', 'pids', ns]).catch(() => '');
      for (const pid of pids.split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    // A killed process's TUN device must be released before its namespace can really go.
    if (this.#namespaces.length > 0) await sleep(50);
    for (const ns of this.#namespaces.splice(0)) await ip(['netns', 'del', ns]).catch(() => {});
    this.#removeSockets();
    live.delete(this);
  }

  /** A SIGKILLed wireguard-go leaves its UAPI socket behind; only this lab's names are touched. */
  #removeSockets(): void {
    const dir = '/var/run/wireguard';
    if (!existsSync(dir)) return;
    for (const file of readdirSync(dir))
      if (file.startsWith(`w${this.id}`) && file.endsWith('.sock')) rmSync(`${dir}/${file}`, { force: true });
  }

  /** The same, synchronously, for process exit. */
  cleanupSync(): void {
    for (const child of this.#children) child.kill('SIGKILL');
    for (const ns of this.#namespaces.splice(0)) {
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
      for (const pid of pids.split('\n').filter(Boolean)) spawnSync('kill', ['-9', pid]);
      spawnSync('ip', ['netns', 'del', ns]);
    }
    this.#removeSockets();
    live.delete(this);
  }
}
