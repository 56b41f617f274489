import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { runAgentOperation } from '../../src/operations';
import { tempWorkspace } from './tempWorkspace';

describe('stats', () => {
  it('reports CPU, memory, disk, load and uptime in sane ranges', async () => {
    const root = tempWorkspace();
    const stats = await runAgentOperation('stats', {}, { root });
    expect(stats.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(stats.cpuPercent).toBeLessThanOrEqual(100);
    expect(stats.memoryTotalBytes).toBeGreaterThan(64 * 1024 * 1024);
    expect(stats.memoryTotalBytes).toBeLessThanOrEqual(os.totalmem() * 1.01);
    expect(stats.memoryUsedBytes).toBeGreaterThan(0);
    expect(stats.memoryUsedBytes).toBeLessThanOrEqual(stats.memoryTotalBytes);
    expect(stats.diskTotalBytes).toBeGreaterThan(0);
    expect(stats.diskUsedBytes).toBeGreaterThan(0);
    expect(stats.diskUsedBytes).toBeLessThanOrEqual(stats.diskTotalBytes);
    expect(stats.loadAverage).toHaveLength(3);
    expect(stats.uptimeSeconds).toBeGreaterThan(0);
  });

  it('sees a busy CPU as busy', async () => {
    const root = tempWorkspace();
    await runAgentOperation('stats', {}, { root });
    // Spin for 300 ms: at least one core of those the machine has is fully used.
    const until = Date.now() + 300;
    while (Date.now() < until) Math.sqrt(Math.random());
    const stats = await runAgentOperation('stats', {}, { root });
    expect(stats.cpuPercent).toBeGreaterThanOrEqual((100 / os.availableParallelism()) * 0.5);
  });
});
