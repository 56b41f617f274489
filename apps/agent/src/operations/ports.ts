import fs from 'node:fs/promises';
import path from 'node:path';
import type { AgentOperationResult } from '@warren/core';

type ListeningPort = AgentOperationResult<'listeningPorts'>['ports'][number];
type Protocol = ListeningPort['protocol'];

/** TCP_LISTEN in the kernel's `st` column. */
const LISTEN_STATE = '0A';
/** A workspace with more listeners than this is not one a person reads through. */
const MAX_PORTS = 1000;

export interface ProcNetListener {
  port: number;
  address: string;
  inode: number;
}

/**
 * TCP sockets listening in the agent's network namespace, from /proc/net/tcp and tcp6, with the
 * owning process where /proc/PID/fd is readable (the agent's own user's processes, or all of
 * them as root).
 */
export async function listeningPorts(): Promise<AgentOperationResult<'listeningPorts'>> {
  const tables = await Promise.all(
    (['tcp', 'tcp6'] as const).map(async (protocol) => ({
      protocol,
      listeners: parseProcNetTcp(await fs.readFile(`/proc/net/${protocol}`, 'utf8').catch(() => '')),
    })),
  );
  const owners = await socketOwners(new Set(tables.flatMap((t) => t.listeners.map((l) => l.inode))));
  const ports: ListeningPort[] = [];
  const seen = new Set<string>();
  for (const { protocol, listeners } of tables) {
    for (const listener of listeners) {
      // SO_REUSEPORT servers show one row per socket; one entry per address is enough.
      const key = `${protocol} ${listener.address} ${listener.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const owner = owners.get(listener.inode);
      ports.push({ port: listener.port, protocol, address: listener.address, ...owner });
    }
  }
  ports.sort((a, b) => a.port - b.port || compareProtocols(a.protocol, b.protocol));
  return { ports: ports.slice(0, MAX_PORTS) };
}

function compareProtocols(a: Protocol, b: Protocol): number {
  return a === b ? 0 : a === 'tcp' ? -1 : 1;
}

/**
 * Listening sockets from the text of /proc/net/tcp or /proc/net/tcp6. Addresses there are hex
 * in the kernel's byte order: each 32-bit word little-endian on the machines we run on.
 */
export function parseProcNetTcp(table: string): ProcNetListener[] {
  const listeners: ProcNetListener[] = [];
  for (const row of table.split('\n').slice(1)) {
    const columns = row.trim().split(/\s+/);
    const local = columns[1];
    if (columns[3] !== LISTEN_STATE || !local) continue;
    const [hexAddress, hexPort] = local.split(':');
    const inode = Number(columns[9]);
    const port = Number.parseInt(hexPort ?? '', 16);
    if (!hexAddress || !Number.isInteger(port) || port < 1 || port > 65_535) continue;
    const address = hexAddress.length === 8 ? ipv4(hexAddress) : ipv6(hexAddress);
    if (address) listeners.push({ port, address, inode: Number.isInteger(inode) ? inode : 0 });
  }
  return listeners;
}

/** The bytes of one 32-bit word as stored little-endian. */
function wordBytes(hex: string): number[] {
  const word = Number.parseInt(hex, 16);
  return [word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24];
}

function ipv4(hex: string): string | undefined {
  return /^[0-9A-Fa-f]{8}$/.test(hex) ? wordBytes(hex).join('.') : undefined;
}

function ipv6(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]{32}$/.test(hex)) return undefined;
  const bytes = [0, 8, 16, 24].flatMap((at) => wordBytes(hex.slice(at, at + 8)));
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff)
    return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return compressIpv6(groups);
}

/** RFC 5952: the longest run of two or more zero groups becomes "::". */
function compressIpv6(groups: string[]): string {
  let best = { start: -1, length: 0 };
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let end = i;
    while (end < groups.length && groups[end] === '0') end++;
    if (end - i > best.length) best = { start: i, length: end - i };
    i = end;
  }
  if (best.length < 2) return groups.join(':');
  return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.length).join(':')}`;
}

/** Listening socket inode -> owning process, from the /proc/PID/fd links the agent may read. */
async function socketOwners(wanted: Set<number>): Promise<Map<number, { pid: number; process?: string }>> {
  const owners = new Map<number, { pid: number; process?: string }>();
  if (wanted.size === 0) return owners;
  const pids = (await fs.readdir('/proc').catch(() => [] as string[])).filter((name) => /^\d+$/.test(name));
  for (const pid of pids) {
    if (owners.size === wanted.size) break;
    const fdDir = path.join('/proc', pid, 'fd');
    const fds = await fs.readdir(fdDir).catch(() => [] as string[]);
    const links = await Promise.all(fds.map((fd) => fs.readlink(path.join(fdDir, fd)).catch(() => '')));
    let name: string | undefined;
    for (const link of links) {
      const inode = Number(/^socket:\[(\d+)\]$/.exec(link)?.[1]);
      if (!wanted.has(inode) || owners.has(inode)) continue;
      name ??= (await fs.readFile(path.join('/proc', pid, 'comm'), 'utf8').catch(() => '')).trim();
      owners.set(inode, name ? { pid: Number(pid), process: name } : { pid: Number(pid) });
    }
  }
  return owners;
}
