import { WarrenError } from '@warren/core';
import { tuneHeapForStreaming } from '@warren/core/node';
import { Agent } from './Agent';
import { readAgentConfig } from './AgentConfig';
import { AgentLog } from './AgentLog';
import { runTerminalCheck } from './terminals/terminalCheck';

/** Entry point of warren-agent.mjs: settings from the environment, then run until told to stop. */
function main(): void {
  tuneHeapForStreaming();
  if (process.argv[2] === 'terminal-check') {
    void runTerminalCheck(process.argv.slice(3)).then((code) =>
      process.stdout.write('', () => process.exit(code)),
    );
    return;
  }
  let config: ReturnType<typeof readAgentConfig>;
  try {
    config = readAgentConfig(process.env);
  } catch (error) {
    const message = error instanceof WarrenError ? error.message : String(error);
    process.stderr.write(`warren-agent: ${message}\n`);
    process.exit(1);
  }
  const log = new AgentLog([config.token]);
  const agent = new Agent({ config, log, exit: (code) => process.exit(code) });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => void agent.shutdown(`received ${signal}`));
  }
  process.on('uncaughtException', (error) => {
    log.error('unexpected error', { error: error.stack ?? error.message });
    process.exit(1);
  });
  try {
    agent.start();
  } catch (error) {
    log.error('could not start', { error: (error as Error).message });
    process.exit(1);
  }
}

main();
