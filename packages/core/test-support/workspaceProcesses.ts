import fs from 'node:fs';

/**
 * Kills every process a test's local workspaces left running: agents, and whatever they started
 * (shells, terminals, servers), recognised by the WARREN_AGENT_DIR under the test's data folder
 * that they inherited. A workspace outlives its daemon by design (the agent redials), so a test
 * that throws its daemon away must also end what ran in its workspaces. Returns how many.
 */
export function killWorkspaceProcesses(dataDir: string): number {
  const prefix = `WARREN_AGENT_DIR=${dataDir.replace(/\/+$/, '')}/`;
  let killed = 0;
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let environ: string;
    try {
      environ = fs.readFileSync(`/proc/${entry}/environ`, 'utf8');
    } catch {
      continue;
    }
    if (!environ.split('\0').some((variable) => variable.startsWith(prefix))) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
      killed += 1;
    } catch {
      // Already gone.
    }
  }
  return killed;
}
