import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runScript, type ScriptOptions } from '../src/runScript';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function run(script: string, options: Partial<ScriptOptions> = {}) {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-script-'));
  dirs.push(cwd);
  const lines: string[] = [];
  const result = runScript({
    script,
    cwd,
    env: { PATH: process.env.PATH },
    timeoutMs: 10_000,
    onLine: (l) => lines.push(l),
    ...options,
  });
  return { cwd, lines, result };
}

describe('runScript', () => {
  it('streams stdout and stderr line by line in its working directory', async () => {
    const { cwd, lines, result } = run('pwd; printf "a\\r\\nb\\n"; echo err >&2; printf "no newline"');
    expect(await result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(lines).toContain(fs.realpathSync(cwd));
    expect(lines).toEqual(expect.arrayContaining(['a', 'b', 'err', 'no newline']));
    expect(lines.indexOf('a')).toBeLessThan(lines.indexOf('b'));
  });

  it('reports a failing exit code', async () => {
    expect(await run('exit 7').result).toMatchObject({ exitCode: 7, timedOut: false });
  });

  it('kills the whole process group when it runs past its timeout', async () => {
    const { cwd, result } = run('(sleep 30; echo late > late.txt) & sleep 30', {
      timeoutMs: 300,
      killGraceMs: 200,
    });
    const outcome = await result;
    expect(outcome.timedOut).toBe(true);
    expect(outcome.exitCode).not.toBe(0);
    await new Promise((r) => setTimeout(r, 400));
    expect(fs.existsSync(path.join(cwd, 'late.txt'))).toBe(false);
  });

  it('finishes when the shell exits, even if a background server keeps its output open', async () => {
    const started = Date.now();
    const { lines, result } = run('(sleep 0.6; echo "from background") & echo started');
    expect(await result).toMatchObject({ exitCode: 0 });
    expect(Date.now() - started).toBeLessThan(550);
    expect(lines).toEqual(['started']);
    await new Promise((r) => setTimeout(r, 800));
    expect(lines).toEqual(['started', 'from background']);
  });

  it('stops when aborted', async () => {
    const abort = new AbortController();
    const { result } = run('sleep 30', { signal: abort.signal });
    setTimeout(() => abort.abort(), 100);
    expect(await result).toMatchObject({ aborted: true, timedOut: false });
  });
});
