import { Secret } from '@warren/core';
import { openTerminal, type TerminalClient } from '@warren/core/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../harness';
import { ensureAgentBuilt, settle, waitFor } from '../workspaceHelpers';

/** Collects a terminal's output as text, as a screen would show it. */
class Screen {
  output = '';
  exit: { exitCode: number | null } | undefined;
  constructor(readonly terminal: TerminalClient) {
    terminal.on('output', (data) => (this.output += Buffer.from(data).toString('utf8')));
    terminal.on('exit', (exitCode) => (this.exit = { exitCode }));
  }
  type(text: string): void {
    this.terminal.write(text);
  }
  resize(cols: number, rows: number): void {
    this.terminal.resize(cols, rows);
  }
  waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    return waitFor(
      `terminal output matching ${pattern}`,
      () => this.output.match(pattern) ?? undefined,
      timeoutMs,
    );
  }
  close(): Promise<void> {
    return this.terminal.close();
  }
}

describe('reconnecting terminals through the relay', () => {
  let t: TestDaemon;
  let token: string;

  const attach = async (session: string, cols = 80, rows = 24, command?: string) =>
    new Screen(
      await openTerminal({ url: t.url, token: new Secret(token) }, 'term', { session, cols, rows, command }),
    );

  beforeAll(async () => {
    ensureAgentBuilt();
    t = await startTestDaemon('sqlite');
    token = (await t.setupOwner()).token;
    await t
      .client(token)
      .workspaces.create.mutate({ name: 'term', template: 'local', parameters: { file_server: false } });
    await settle(t.client(token), 'term', 'running', 60_000);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('a terminal has the size the client asked for, and follows a resize', async () => {
    const terminal = await attach('sizes', 101, 33);
    terminal.type('stty size\r');
    await terminal.waitFor(/33 101/);
    terminal.resize(120, 40);
    terminal.type('stty size\r');
    await terminal.waitFor(/40 120/);
    await terminal.close();
  });

  it('reattaching in the middle of output loses no line', async () => {
    const first = await attach('numbers');
    first.type('for i in $(seq 1 300); do echo "n=$i."; sleep 0.01; done; echo "fini""shed"\r');
    await first.waitFor(/n=40\./);
    await first.close();
    const seen = [...first.output.matchAll(/n=(\d+)\./g)].map((m) => Number(m[1]));
    await new Promise((resolve) => setTimeout(resolve, 500));

    const second = await attach('numbers');
    await second.waitFor(/finished\r?\n/, 30_000);
    const replayed = [...second.output.matchAll(/n=(\d+)\./g)].map((m) => Number(m[1]));
    // The replay starts at or before the first line the first client missed, and runs to the end without a gap.
    const lastSeen = Math.max(...seen);
    expect(replayed[0]).toBeLessThanOrEqual(lastSeen + 1);
    const from = replayed[0] ?? 0;
    expect(replayed.slice(replayed.indexOf(from))).toEqual(
      Array.from({ length: 300 - from + 1 }, (_, i) => from + i),
    );
    await second.close();
  });

  it('a command that ends reports its exit code to the client', async () => {
    const terminal = await attach('oneshot', 80, 24, 'echo done; exit 7');
    await waitFor('the exit frame', () => terminal.exit);
    expect(terminal.exit).toEqual({ exitCode: 7 });
    expect(terminal.output).toContain('done');
  });
});
