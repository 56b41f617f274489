/**
 * OpenSSH config text for workspaces, shared by `warren config-ssh` (a managed block in
 * ~/.ssh/config) and the desktop (an include file): one `Host warren.NAME` entry per workspace,
 * reaching it through a ProxyCommand, with this computer's key and the daemon-pinned host key.
 */

export interface SshHostEntry {
  /** `warren.NAME` for the caller's own workspaces, `warren.OWNER--NAME` for others'. */
  alias: string;
  /** The account OpenSSH logs in as: the workspace's owner. */
  user: string;
  /** The command OpenSSH runs instead of opening a TCP connection; it carries the SSH bytes. */
  proxyCommand: string;
  identityFile: string;
  knownHostsFile: string;
}

/** The Host alias of a workspace: short for your own, owner-qualified for someone else's. */
export function sshHostAlias(workspace: { owner: string; name: string }, me: string): string {
  return workspace.owner === me ? `warren.${workspace.name}` : `warren.${workspace.owner}--${workspace.name}`;
}

/** A double-quoted OpenSSH config argument (paths may hold spaces). */
export function quoteSshArgument(text: string): string {
  return `"${text.replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * The lines of one Host entry. StrictHostKeyChecking stays on: the ProxyCommand records the key
 * the daemon pinned for the agent before OpenSSH checks it, so a mismatch is a real attack.
 */
export function sshHostEntryLines(entry: SshHostEntry): string[] {
  return [
    `Host ${entry.alias}`,
    `  HostName ${entry.alias}`,
    `  User ${entry.user}`,
    `  ProxyCommand ${entry.proxyCommand}`,
    `  IdentityFile ${quoteSshArgument(entry.identityFile)}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${quoteSshArgument(entry.knownHostsFile)}`,
    `  HostKeyAlias ${entry.alias}`,
    '  StrictHostKeyChecking yes',
    '  ConnectTimeout 0',
    '  LogLevel ERROR',
  ];
}

/**
 * `config` with `Include PATH` as its first line, unless some line already includes that path.
 * It must come first: an Include after a `Host` line would only apply inside that Host block.
 */
export function withIncludeLine(config: string, includePath: string): string {
  const line = `Include ${quoteSshArgument(includePath)}`;
  const present = config
    .split(/\r?\n/)
    .some((existing) => /^\s*include\s/i.test(existing) && existing.includes(includePath));
  if (present) return config;
  return `${line}\n${config.length > 0 && !config.startsWith('\n') ? '\n' : ''}${config}`;
}
