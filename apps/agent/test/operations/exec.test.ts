import fs from 'node:fs';
import path from 'node:path';
import { parseAgentOperationParams } from '@warren/core';
import { describe, expect, it } from 'vitest';
import { execStreaming, runAgentOperation } from '../../src/operations';
import { failure, tempWorkspace } from './tempWorkspace';

/** Whether a process is gone: no /proc entry, or a zombie waiting for init to reap it. */
function processGone(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

describe('exec', () => {
  it('runs a shell command in a directory of the workspace with extra environment', async () => {
    const root = tempWorkspace({ 'sub/file.txt': 'x' });
    const result = await runAgentOperation(
      'exec',
      {
        command: 'pwd; echo "$GREETING"; ls; echo oops >&2; exit 3',
        cwd: 'sub',
        env: { GREETING: 'hi there' },
      },
      { root },
    );
    expect(result).toMatchObject({
      exitCode: 3,
      signal: null,
      timedOut: false,
      truncated: false,
      stdout: `${path.join(root, 'sub')}\nhi there\nfile.txt\n`,
      stderr: 'oops\n',
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('kills the whole process tree on timeout, SIGKILLing a grandchild that ignores SIGTERM', async () => {
    const root = tempWorkspace();
    const command =
      `sh -c 'echo $$ > grandchild.pid; trap "" TERM; while :; do sleep 0.05; done' & ` +
      'sleep 30 & echo started; wait';
    const params = parseAgentOperationParams('exec', { command, timeoutMs: 400 });
    const started = Date.now();
    const result = await execStreaming(params, { root }, { killGraceMs: 600 });
    const elapsed = Date.now() - started;

    expect(result).toMatchObject({ timedOut: true, exitCode: null, stdout: 'started\n' });
    // The result waited for the SIGKILL that the stubborn grandchild needed, and not much more.
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(3000);
    const grandchild = Number(fs.readFileSync(path.join(root, 'grandchild.pid'), 'utf8'));
    expect(grandchild).toBeGreaterThan(0);
    expect(processGone(grandchild)).toBe(true);
  });

  it('returns soon after SIGTERM when the tree obeys it', async () => {
    const root = tempWorkspace();
    const started = Date.now();
    const result = await runAgentOperation(
      'exec',
      { command: '(sleep 30; touch late.txt) & sleep 30', timeoutMs: 300 },
      { root },
    );
    expect(result).toMatchObject({ timedOut: true, signal: 'SIGTERM', exitCode: null });
    expect(Date.now() - started).toBeLessThan(1500);
    await new Promise((r) => setTimeout(r, 200));
    expect(fs.existsSync(path.join(root, 'late.txt'))).toBe(false);
  });

  it('keeps the head and tail of long output and says how many bytes were cut', async () => {
    const root = tempWorkspace();
    const result = await runAgentOperation(
      'exec',
      { command: 'echo FIRST; seq 1 100000; echo LAST; echo small-stderr >&2', maxOutputBytes: 4096 },
      { root },
    );
    let full = 'FIRST\n';
    for (let i = 1; i <= 100_000; i++) full += `${i}\n`;
    full += 'LAST\n';

    expect(result.truncated).toBe(true);
    expect(result.stderr).toBe('small-stderr\n');
    expect(Buffer.byteLength(result.stdout) + Buffer.byteLength(result.stderr)).toBeLessThanOrEqual(4096);
    expect(result.stdout.startsWith('FIRST\n1\n2\n')).toBe(true);
    expect(result.stdout.endsWith('99999\n100000\nLAST\n')).toBe(true);
    const marker = /\n\[\.\.\. (\d+) bytes of output cut \.\.\.\]\n/.exec(result.stdout);
    expect(marker).not.toBeNull();
    const kept = result.stdout.replace(marker?.[0] ?? '', '');
    expect(Buffer.byteLength(kept) + Number(marker?.[1])).toBe(Buffer.byteLength(full));
  });

  it('streams output as it arrives without splitting a character across chunks', async () => {
    const root = tempWorkspace();
    const chunks: string[] = [];
    const errors: string[] = [];
    const params = parseAgentOperationParams('exec', {
      command: "printf 'price: \\342\\202'; sleep 0.1; printf '\\254\\n'; echo warn >&2",
    });
    const result = await execStreaming(
      params,
      { root },
      { onStdout: (c) => chunks.push(c), onStderr: (c) => errors.push(c) },
    );
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(chunks.join('')).toBe('price: €\n');
    expect(chunks.join('')).not.toContain('\ufffd');
    expect(errors.join('')).toBe('warn\n');
    expect(result.stdout).toBe('price: €\n');
  });

  it('finishes when the shell exits and leaves a background server running', async () => {
    const root = tempWorkspace();
    const started = Date.now();
    const result = await runAgentOperation(
      'exec',
      { command: '(sleep 0.8; echo still-running > alive.txt) & echo started' },
      { root },
    );
    expect(result).toMatchObject({ exitCode: 0, stdout: 'started\n', timedOut: false });
    expect(Date.now() - started).toBeLessThan(700);
    await new Promise((r) => setTimeout(r, 1200));
    expect(fs.readFileSync(path.join(root, 'alive.txt'), 'utf8')).toBe('still-running\n');
  });

  it('stops the command when the caller aborts', async () => {
    const root = tempWorkspace();
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    const result = await runAgentOperation('exec', { command: 'sleep 30' }, { root, signal: abort.signal });
    expect(result).toMatchObject({ timedOut: false, signal: 'SIGTERM' });
  });

  it('says which working directory does not exist', async () => {
    const root = tempWorkspace();
    const error = await failure(runAgentOperation('exec', { command: 'ls', cwd: 'nope' }, { root }));
    expect(error).toMatchObject({
      code: 'NOT_FOUND',
      message: `The working directory ${root}/nope does not exist.`,
    });
  });
});
