import fs from 'node:fs';
import path from 'node:path';
import { sshHostAlias, sshHostEntryLines, withIncludeLine, writeFileAtomically } from '@warren/core/node';

export const INCLUDE_FILE_NAME = 'warren-desktop.config';

export interface SshConfigWriterOptions {
  /** Usually ~/.ssh: holds `config` (gets the Include line) and the include file. */
  sshDir: string;
  identityFile: string;
  knownHostsFile: string;
  /** The ProxyCommand for one workspace (see proxyCommandLine). */
  proxyCommand: (workspace: { ref: string; alias: string }) => string;
}

/**
 * Keeps `~/.ssh/warren-desktop.config` in step with the workspace list (a `Host warren.NAME` entry
 * per workspace, through the desktop's ProxyCommand) and adds `Include` for it once at the top of
 * `~/.ssh/config`. The person's own config is otherwise left byte for byte as it was.
 */
export class SshConfigWriter {
  readonly includeFile: string;
  readonly configFile: string;

  constructor(private readonly options: SshConfigWriterOptions) {
    this.includeFile = path.join(options.sshDir, INCLUDE_FILE_NAME);
    this.configFile = path.join(options.sshDir, 'config');
  }

  /** The include file's text for these workspaces. */
  render(workspaces: readonly { owner: string; name: string }[], me: string): string {
    const lines = [
      '# Written by Warren desktop from your workspace list; edits here are replaced.',
      `# ${this.configFile} includes this file.`,
    ];
    for (const workspace of [...workspaces].sort((a, b) => a.name.localeCompare(b.name))) {
      const alias = sshHostAlias(workspace, me);
      const ref = workspace.owner === me ? workspace.name : `${workspace.owner}/${workspace.name}`;
      lines.push(
        '',
        ...sshHostEntryLines({
          alias,
          user: workspace.owner,
          proxyCommand: this.options.proxyCommand({ ref, alias }),
          identityFile: this.options.identityFile,
          knownHostsFile: this.options.knownHostsFile,
        }),
      );
    }
    return `${lines.join('\n')}\n`;
  }

  /** Writes what changed; returns whether anything did. */
  sync(workspaces: readonly { owner: string; name: string }[], me: string): boolean {
    fs.mkdirSync(this.options.sshDir, { recursive: true, mode: 0o700 });
    let changed = false;
    const text = this.render(workspaces, me);
    if (readOrEmpty(this.includeFile) !== text) {
      writeFileAtomically(this.includeFile, text, 0o600);
      changed = true;
    }
    const config = readOrEmpty(this.configFile);
    const included = withIncludeLine(config, this.includeFile);
    if (included !== config) {
      // Keep the person's mode on their config (OpenSSH refuses group/world-writable ones).
      const mode = fs.existsSync(this.configFile) ? fs.statSync(this.configFile).mode & 0o777 : 0o600;
      writeFileAtomically(this.configFile, included, mode);
      changed = true;
    }
    return changed;
  }
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * The ProxyCommand line: `runtime` runs the proxy script (Node in tests, the app binary with
 * ELECTRON_RUN_AS_NODE in the packaged app, which is why `env` may be given).
 */
export function proxyCommandLine(options: {
  runtime: string;
  script: string;
  socketPath: string;
  keyFile: string;
  env?: Record<string, string>;
}): (workspace: { ref: string; alias: string }) => string {
  const q = (text: string) => `"${text.replace(/(["\\])/g, '\\$1')}"`;
  const env = Object.entries(options.env ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  const prefix = env ? `env ${env} ` : '';
  return ({ ref, alias }) =>
    `${prefix}${q(options.runtime)} ${q(options.script)} --socket ${q(options.socketPath)} --key-file ${q(options.keyFile)} --workspace ${ref} --alias ${alias}`;
}
