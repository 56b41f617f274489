import { type Command, Option } from 'commander';
import { resolveServerConfig, serverOptions } from '../config/ServerConfig';

export function registerServerCommand(program: Command): void {
  const command = program.command('server').description('run the Warren daemon');
  for (const option of serverOptions) {
    const fallback = 'default' in option ? ` (default: ${option.default})` : '';
    const flag = new Option(`--${option.flag} <value>`, `${option.describe}; env ${option.env}${fallback}`);
    command.addOption('hidden' in option ? flag.hideHelp() : flag);
  }
  command.action(async (flags: Record<string, string | undefined>) => {
    const kebab = Object.fromEntries(
      Object.entries(flags).map(([key, value]) => [
        key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
        value,
      ]),
    );
    const config = resolveServerConfig(kebab);
    const { startDaemon } = await import('../server');
    const daemon = await startDaemon(config);
    const needsFirstUser = !(await daemon.services.users.hasUsers());
    const where = config.postgresUrl ? 'PostgreSQL' : `SQLite in ${config.dataDir}`;
    process.stdout.write(`\nWarren is running at ${daemon.url} (data: ${where})\n`);
    if (needsFirstUser) {
      process.stdout.write(
        `No users yet. Create the first user (the owner) from another terminal:\n` +
          `  pnpm warren login ${daemon.url} --first-user --username admin --email admin@example.com\n\n`,
      );
    }
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        process.stdout.write('Forced exit.\n');
        process.exit(1);
      }
      stopping = true;
      daemon.log.info({ signal }, 'shutting down: finishing in-flight requests');
      daemon.close().then(
        () => process.exit(0),
        (error) => {
          daemon.log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}
