import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sshHostAlias, sshHostEntryLines, writeFileAtomically } from '@warren/core/node';
import type { Command } from 'commander';
import { currentSession } from './CliSession';
import { canPrompt, confirm } from './prompt';
import { identityFile, knownHostsFile, loadOrCreateDeviceKey } from './sshKeys';

export const BLOCK_START = '# ------------START-WARREN------------';
export const BLOCK_END = '# ------------END-WARREN--------------';

interface ConfigSshFlags {
  sshConfigFile: string;
  yes?: boolean;
  dryRun?: boolean;
}

/** Host `warren.NAME` for each workspace, through `warren ssh --stdio`, pinned host keys and this computer's key. */
export function sshConfigBlock(
  workspaces: { owner: string; name: string }[],
  me: string,
  warrenCommand: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const lines = [
    BLOCK_START,
    '# Written by `warren config-ssh`; run it again to update. Edits here are replaced.',
  ];
  for (const workspace of workspaces) {
    const alias = sshHostAlias(workspace, me);
    const ref = workspace.owner === me ? workspace.name : `${workspace.owner}/${workspace.name}`;
    lines.push(
      ...sshHostEntryLines({
        alias,
        user: workspace.owner,
        proxyCommand: `${warrenCommand} ssh --stdio --host-alias ${alias} ${ref}`,
        identityFile: identityFile(env),
        knownHostsFile: knownHostsFile(env),
      }),
    );
  }
  lines.push(BLOCK_END);
  return `${lines.join('\n')}\n`;
}

/**
 * The config with Warren's block replaced (or appended), everything else kept byte for byte.
 * The end marker is looked for after the start marker: a stray end line above the block (a
 * hand edit, a half-removed block) must not make the block be appended a second time.
 */
export function replaceBlock(existing: string, block: string): string {
  const start = existing.indexOf(BLOCK_START);
  const end = start < 0 ? -1 : existing.indexOf(BLOCK_END, start + BLOCK_START.length);
  if (end >= 0) {
    const after = existing.slice(end + BLOCK_END.length).replace(/^\n/, '');
    return `${existing.slice(0, start)}${block}${after}`;
  }
  const separator =
    existing.length === 0 || existing.endsWith('\n\n') ? '' : existing.endsWith('\n') ? '\n' : '\n\n';
  return `${existing}${separator}${block}`;
}

/** How OpenSSH should run this CLI: the same node and script that run now, quoted. */
function currentWarrenCommand(): string {
  const script = process.argv[1] ? path.resolve(process.argv[1]) : 'warren';
  return `"${process.execPath}" "${script}"`;
}

export function registerConfigSshCommand(program: Command): void {
  program
    .command('config-ssh')
    .description(
      'add Host warren.NAME entries for your workspaces to your SSH config (ssh, scp, rsync, VS Code)',
    )
    .option('--ssh-config-file <path>', 'the SSH config to edit', path.join(os.homedir(), '.ssh', 'config'))
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--dry-run', 'print the new Warren section instead of writing it')
    .action(async (flags: ConfigSshFlags) => {
      const session = currentSession();
      const me = await session.client.auth.whoami.query();
      const workspaces = await session.client.workspaces.list.query({});
      const block = sshConfigBlock(
        workspaces.map((w) => ({ owner: w.owner, name: w.name })),
        me.username,
        currentWarrenCommand(),
      );
      if (flags.dryRun) return void process.stdout.write(block);
      const file = path.resolve(flags.sshConfigFile);
      let existing = '';
      try {
        existing = fs.readFileSync(file, 'utf8');
      } catch {}
      const updated = replaceBlock(existing, block);
      if (updated === existing) return void process.stdout.write(`${file} is up to date.\n`);
      if (!flags.yes && canPrompt() && !(await confirm(`Update the Warren section of ${file}?`)))
        return void process.stdout.write('Nothing changed.\n');
      loadOrCreateDeviceKey();
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      // Through a symlink (dotfile managers) and keeping the file's mode; 0600 for a new one.
      writeFileAtomically(file, updated);
      process.stdout.write(
        `Updated ${file}: ${workspaces.length} workspace${workspaces.length === 1 ? '' : 's'}.\n` +
          (workspaces[0] ? `Try: ssh warren.${workspaces[0].name}\n` : ''),
      );
    });
}
