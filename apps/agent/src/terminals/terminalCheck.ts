import { WarrenError } from '@warren/core';
import { connectUrl } from '../AgentConfig';
import { daemonUrlFromConnectUrl, PtyAddonSource } from './PtyAddonSource';
import { TerminalSessions } from './TerminalSessions';

/**
 * `warren-agent.mjs terminal-check [COMMAND]`: can this workspace run terminals? Downloads the
 * PTY addon from WARREN_AGENT_URL, runs COMMAND (default: `tty`) on a real terminal, copies
 * its output to stdout and exits with its code. Needs no agent token, so a template author
 * can try an image by hand; the tests use it to drive the real bundle.
 */
export async function runTerminalCheck(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  try {
    const base = env.WARREN_AGENT_URL?.trim();
    if (!base) throw new WarrenError('INVALID_INPUT', 'WARREN_AGENT_URL is not set: give the daemon URL.');
    const source = new PtyAddonSource({ daemonUrl: daemonUrlFromConnectUrl(connectUrl(base)) });
    const terminals = new TerminalSessions({ addon: () => source.load(), defaultCwd: process.cwd(), env });
    const command = args.join(' ').trim() || 'tty';
    return await new Promise<number>((resolve, reject) => {
      terminals
        .attach(
          'terminal-check',
          { command, cols: 80, rows: 24 },
          {
            data: (chunk) => process.stdout.write(chunk),
            exit: (exitCode, signal) => {
              if (signal) process.stderr.write(`warren-agent: the command was killed by ${signal}\n`);
              resolve(exitCode ?? 1);
            },
          },
        )
        .catch(reject);
    });
  } catch (error) {
    const message = error instanceof WarrenError ? error.message : String(error);
    process.stderr.write(`warren-agent: ${message}\n`);
    return 1;
  }
}
