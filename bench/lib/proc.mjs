// Processes seen through Linux /proc: the ones working inside a directory, resident memory and
// CPU time, per process and for the whole machine.
// Elsewhere there is no /proc, and these answer "none" or NaN.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** The pids of the processes whose cwd is `dir` or below it; undefined when there is no /proc. */
export function pidsIn(dir) {
  let entries;
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return undefined;
  }
  const pids = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let cwd;
    try {
      cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
    } catch {
      continue;
    }
    if (cwd === dir || cwd.startsWith(`${dir}/`)) pids.push(Number(entry));
  }
  return pids;
}

/** SIGKILLs every process (but this one) whose cwd is `dir` or below it; returns how many. */
export function killProcessesIn(dir) {
  let killed = 0;
  for (const pid of pidsIn(dir) ?? []) {
    if (pid === process.pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed++;
    } catch {}
  }
  return killed;
}

/** Resident memory of a process from /proc/<pid>/status, in bytes: { rss: VmRSS now, hwm: VmHWM its peak }. */
export function memoryOf(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
    return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
  } catch {
    return { rss: Number.NaN, hwm: Number.NaN };
  }
}

let clockTicks;
/** Clock ticks per second for /proc/<pid>/stat (`getconf CLK_TCK`, 100 when that fails). */
function ticksPerSecond() {
  if (clockTicks === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(out.stdout?.trim());
    clockTicks = out.status === 0 && n > 0 ? n : 100;
  }
  return clockTicks;
}

/** CPU time a process has used so far (user + system, from /proc/<pid>/stat), in seconds; NaN without /proc. */
export function cpuSecondsOf(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing paren are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond(); // utime, stime: fields 14, 15
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time the whole machine has spent so far, from the first line of /proc/stat, in seconds
 * summed over all CPUs: { busy: user + nice + system + irq + softirq + steal, total: busy + idle
 * + iowait }. NaN without /proc. Subtract two readings and the CPU time of your own processes to
 * see how much other work competed with a measurement.
 */
export function machineCpuSeconds() {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const busy = user + nice + system + irq + softirq + (steal || 0);
    return { busy: busy / ticksPerSecond(), total: (busy + idle + iowait) / ticksPerSecond() };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

/** `pid` and every process below it (from /proc/<pid>/task/<tid>/children), e.g. sshd and its per-connection children. */
export function processTree(pid) {
  const tree = [];
  const queue = [pid];
  while (queue.length) {
    const next = queue.shift();
    tree.push(next);
    let tasks = [];
    try {
      tasks = fs.readdirSync(`/proc/${next}/task`);
    } catch {}
    for (const tid of tasks) {
      try {
        const children = fs.readFileSync(`/proc/${next}/task/${tid}/children`, 'utf8').trim();
        if (children) queue.push(...children.split(' ').map(Number));
      } catch {}
    }
  }
  return tree;
}
