import { WarrenError } from '@warren/core';
import { Command, CommanderError } from 'commander';
import { registerServerCommand } from './serverCommand';

export function buildProgram(): Command {
  const program = new Command('warren')
    .description('Warren: self-hosted development workspaces and AI coding agents')
    .showHelpAfterError()
    .exitOverride();
  registerServerCommand(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    const message = error instanceof WarrenError ? error.message : `Unexpected error: ${(error as Error).message}`;
    process.stderr.write(`error: ${message}\n`);
    process.exit(error instanceof WarrenError ? 1 : 2);
  }
}

void main(process.argv);
