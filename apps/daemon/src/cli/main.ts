import { tuneHeapForStreaming } from '@warren/core/node';
import { Command, CommanderError } from 'commander';
import { registerAiCommands } from './aiCommands';
import { registerAuditCommand } from './auditCommand';
import { registerAuthCommands } from './authCommands';
import { describeCliError } from './cliError';
import { registerConfigSshCommand } from './configSshCommand';
import { outputOption } from './output';
import { registerProvisionerCommand } from './provisionerCommand';
import { registerServerCommand } from './serverCommand';
import { registerSshCommands } from './sshCommands';
import { registerTemplatesCommand } from './templatesCommand';
import { registerTokensCommand } from './tokensCommand';
import { registerUsageCommand } from './usageCommand';
import { registerUsersCommand } from './usersCommand';
import { registerWorkspaceCommands } from './workspaceCommands';
import { registerWorkspaceInfoCommands } from './workspaceInfoCommands';

export function buildProgram(): Command {
  const program = new Command('warren')
    .description('Warren: self-hosted development workspaces and AI coding agents')
    .addOption(outputOption)
    .showHelpAfterError()
    .exitOverride();
  registerServerCommand(program);
  registerAuthCommands(program);
  registerUsersCommand(program);
  registerTokensCommand(program);
  registerAuditCommand(program);
  registerTemplatesCommand(program);
  registerWorkspaceInfoCommands(program);
  registerWorkspaceCommands(program);
  registerSshCommands(program);
  registerConfigSshCommand(program);
  registerProvisionerCommand(program);
  registerAiCommands(program);
  registerUsageCommand(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  // The server relays tunnels; port-forward and ssh carry them.
  tuneHeapForStreaming();
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    // Commander has already printed its own message for usage errors and --help.
    if (error instanceof CommanderError) process.exit(error.exitCode);
    const { message, exitCode } = describeCliError(error);
    process.stderr.write(`error: ${message}\n`);
    process.exit(exitCode);
  }
}

void main(process.argv);
