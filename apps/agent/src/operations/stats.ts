import fs from 'node:fs/promises';
import os from 'node:os';
import type { AgentOperationResult } from '@warren/core';
import { fsError, type OperationContext } from './paths';

interface CpuSample {
  busy: number;
  total: number;
  at: number;
}

/** CPU use is a difference of two samples; shorter than this the numbers are noise. */
const MIN_CPU_WINDOW_MS = 100;
let lastCpu: CpuSample | undefined;

/**
 * CPU, memory, disk (of the filesystem holding the workspace), load and uptime. CPU is the
 * average since the previous call (the metadata loop calls it on an interval), or over a 100 ms
 * window for the first call. Memory is the container's when a cgroup limits it, since a
 * workspace in Docker would otherwise report the host's.
 */
export async function stats(context: OperationContext): Promise<AgentOperationResult<'stats'>> {
  const [cpuPercent, memory, disk] = await Promise.all([cpuUsage(), memoryUsage(), diskUsage(context.root)]);
  const [one = 0, five = 0, fifteen = 0] = os.loadavg();
  return {
    cpuPercent,
    memoryUsedBytes: memory.used,
    memoryTotalBytes: memory.total,
    diskUsedBytes: disk.used,
    diskTotalBytes: disk.total,
    loadAverage: [one, five, fifteen],
    uptimeSeconds: Math.round(os.uptime()),
  };
}

async function cpuUsage(): Promise<number> {
  let previous = lastCpu;
  if (!previous || Date.now() - previous.at < MIN_CPU_WINDOW_MS) {
    previous = await sampleCpu();
    await new Promise((resolve) => setTimeout(resolve, MIN_CPU_WINDOW_MS));
  }
  const current = await sampleCpu();
  lastCpu = current;
  const total = current.total - previous.total;
  if (total <= 0) return 0;
  const percent = ((current.busy - previous.busy) / total) * 100;
  return Math.min(100, Math.max(0, Math.round(percent * 10) / 10));
}

/** The "cpu" line of /proc/stat: user nice system idle iowait irq softirq steal (guest is in user). */
async function sampleCpu(): Promise<CpuSample> {
  const text = await fs.readFile('/proc/stat', 'utf8').catch(() => '');
  const fields = (/^cpu\s+(.*)$/m.exec(text)?.[1] ?? '').split(/\s+/).slice(0, 8).map(Number);
  const total = fields.reduce((sum, value) => sum + (Number.isFinite(value) ? value : 0), 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total, at: Date.now() };
}

async function memoryUsage(): Promise<{ used: number; total: number }> {
  const meminfo = await fs.readFile('/proc/meminfo', 'utf8').catch(() => '');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0) * 1024;
  const total = kib('MemTotal') || os.totalmem();
  const available = kib('MemAvailable') || os.freemem();
  const host = { used: Math.max(0, total - available), total };
  const cgroup = await cgroupMemory();
  return cgroup && cgroup.total < host.total ? cgroup : host;
}

/**
 * The memory limit and use of the agent's cgroup (v2, or v1's memory controller), counting
 * page cache that can be dropped as free the way `docker stats` does. Undefined without a limit.
 */
async function cgroupMemory(): Promise<{ used: number; total: number } | undefined> {
  const read = (file: string) => fs.readFile(`/sys/fs/cgroup/${file}`, 'utf8').catch(() => undefined);
  const v2 = await read('memory.max');
  const [limitText, usageText, statText] =
    v2 !== undefined
      ? [v2, await read('memory.current'), await read('memory.stat')]
      : [
          await read('memory/memory.limit_in_bytes'),
          await read('memory/memory.usage_in_bytes'),
          await read('memory/memory.stat'),
        ];
  const limit = Number(limitText?.trim());
  const usage = Number(usageText?.trim());
  if (!Number.isFinite(limit) || !Number.isFinite(usage) || limit <= 0) return undefined;
  const inactive = Number(/^(?:total_)?inactive_file (\d+)$/m.exec(statText ?? '')?.[1] ?? 0);
  return { used: Math.max(0, usage - inactive), total: limit };
}

async function diskUsage(dir: string): Promise<{ used: number; total: number }> {
  try {
    const fsStats = await fs.statfs(dir);
    return { used: (fsStats.blocks - fsStats.bfree) * fsStats.bsize, total: fsStats.blocks * fsStats.bsize };
  } catch (error) {
    throw fsError(error, 'measure the disk of', dir);
  }
}
