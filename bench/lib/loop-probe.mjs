// A diagnostic preload for a server under test: `node --import ./bench/lib/loop-probe.mjs ...`
// (with the gateway benchmark: --daemon-node-options "--import ./bench/lib/loop-probe.mjs").
// Every event-loop gap over LOOP_PROBE_MS (default 40) is appended to the file LOOP_PROBE_LOG
// (default loop-probe.log in the working directory) with the CPU time the process used meanwhile
// (about the gap: busy, in JS, GC or synchronous native code; far less: blocked in a system call
// or not scheduled) and the GC pauses that overlap it. At exit it adds the longest GC pause seen.
// A 10 ms interval timer runs in the server while it is loaded.
import fs from 'node:fs';
import path from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';

const out = process.env.LOOP_PROBE_LOG || path.resolve('loop-probe.log');
const threshold = Number(process.env.LOOP_PROBE_MS) || 40;
const gcs = [];
let longestGc = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcs.push([entry.startTime, entry.duration, entry.detail?.kind]);
    longestGc = Math.max(longestGc, entry.duration);
  }
  if (gcs.length > 2000) gcs.splice(0, 1000);
}).observe({ entryTypes: ['gc'] });

let last = performance.now();
let lastCpu = process.cpuUsage();
setInterval(() => {
  const now = performance.now();
  const cpu = process.cpuUsage();
  const gap = now - last;
  if (gap > threshold) {
    const cpuMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
    const systemMs = (cpu.system - lastCpu.system) / 1000;
    const overlapping = gcs
      .filter(([start, duration]) => start + duration >= last && start <= now)
      .map(([, duration, kind]) => `${duration.toFixed(1)} ms (kind ${kind})`);
    fs.appendFileSync(
      out,
      `${new Date().toISOString()} pid ${process.pid}: loop gap ${gap.toFixed(1)} ms, CPU ${cpuMs.toFixed(1)} ms (system ${systemMs.toFixed(1)}), GC: ${overlapping.join(', ') || 'none'}\n`,
    );
  }
  last = now;
  lastCpu = cpu;
}, 10).unref();

process.on('exit', () => {
  fs.appendFileSync(
    out,
    `${new Date().toISOString()} pid ${process.pid}: exit, longest GC pause ${longestGc.toFixed(1)} ms\n`,
  );
});
