// Processes seen through Linux /proc: the ones working inside a directory, and resident memory.
// Elsewhere there is no /proc, and these answer "none" or NaN.
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
