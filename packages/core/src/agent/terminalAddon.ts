/**
 * The native PTY addon the agent downloads from the daemon: one file per platform, CPU and Node
 * ABI, because a compiled addon only loads into the Node.js it was built for.
 */
export const TERMINAL_ADDON_ROUTE_PREFIX = '/bin/warren-agent-pty/';
/** The addon's SHA-256 in hex, sent with it so the agent can check what it received. */
export const TERMINAL_ADDON_SHA256_HEADER = 'x-warren-sha256';

export interface TerminalAddonTarget {
  platform: string;
  arch: string;
  /** `process.versions.modules`, the Node ABI version. */
  abi: string;
}

/** `linux-x64-abi115`: names the one build that loads into that Node. */
export function terminalAddonKey(target: TerminalAddonTarget): string {
  return `${target.platform}-${target.arch}-abi${target.abi}`;
}

const keyPattern = /^([a-z0-9]{1,16})-([a-z0-9]{1,16})-abi([0-9]{1,5})$/;

export function parseTerminalAddonKey(key: string): TerminalAddonTarget | undefined {
  const match = keyPattern.exec(key);
  if (!match) return undefined;
  return { platform: match[1] as string, arch: match[2] as string, abi: match[3] as string };
}

/** How a person reads a target: "linux-x64 with Node ABI 115". */
export function describeTerminalAddonTarget(target: TerminalAddonTarget): string {
  return `${target.platform}-${target.arch} with Node ABI ${target.abi}`;
}
