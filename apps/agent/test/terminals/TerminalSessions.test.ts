import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WarrenError } from '@warren/core';
import { afterEach, describe, expect, it } from 'vitest';
import { TerminalSessions, type TerminalSessionsOptions } from '../../src/terminals/TerminalSessions';
import { isRunning, numberedLines, printNumbered, RecordingSink, sleep, testAddon } from './terminalTestKit';

const open: TerminalSessions[] = [];
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-terminals-'));
fs.mkdirSync(path.join(home, 'project'));

function sessions(options: Partial<TerminalSessionsOptions> = {}): TerminalSessions {
  const s = new TerminalSessions({ addon: testAddon, defaultCwd: home, shell: '/bin/sh', ...options });
  open.push(s);
  return s;
}

afterEach(() => {
  for (const s of open.splice(0)) s.closeAll();
});

describe('a reconnecting terminal', () => {
  it('starts at the size the client asked for, and a resize takes effect', async () => {
    const terminals = sessions();
    const sink = new RecordingSink();
    const term = await terminals.attach('size', { cols: 123, rows: 45 }, sink);
    term.write(Buffer.from('stty size\n'));
    await sink.untilText('45 123');
    term.resize(100, 30);
    term.write(Buffer.from('stty size\n'));
    await sink.untilText('30 100');
    term.write(Buffer.from('exit\n'));
    expect(await sink.untilExit()).toEqual({ exitCode: 0, signal: null });
  });

  it('a client coming back with another window size resizes the terminal', async () => {
    const terminals = sessions();
    const first = new RecordingSink();
    (await terminals.attach('window', { cols: 80, rows: 24 }, first)).detach();
    const second = new RecordingSink();
    const term = await terminals.attach('window', { cols: 132, rows: 50 }, second);
    term.write(Buffer.from('stty size\n'));
    await second.untilText('50 132');
  });

  it('replays everything printed while no client was attached, with no byte lost or repeated', async () => {
    const terminals = sessions();
    const command = printNumbered(150, 0.01);
    const first = new RecordingSink();
    const term = await terminals.attach('seq', { command }, first);
    await first.untilText('line 30\r\n');
    term.detach();
    const seenBeforeDetach = first.text;
    await sleep(300); // the process keeps printing with nobody attached
    expect(first.text).toBe(seenBeforeDetach);

    const second = new RecordingSink();
    await terminals.attach('seq', { command }, second);
    // The replay holds what was printed while detached, and the process is still printing.
    const replayed = second.bytes.length;
    expect(replayed).toBeGreaterThan(first.bytes.length);
    expect(replayed).toBeLessThan(numberedLines(150).length);
    expect(await second.untilExit()).toEqual({ exitCode: 0, signal: null });
    expect(second.text).toBe(numberedLines(150));
    expect(second.text.startsWith(first.text)).toBe(true);
  });

  it('survives a client detaching and reattaching many times in the middle of output', async () => {
    const terminals = sessions();
    const command = printNumbered(300, 0.002);
    const clients: RecordingSink[] = [];
    for (let i = 0; i < 25; i++) {
      const sink = new RecordingSink();
      clients.push(sink);
      const term = await terminals.attach('flappy', { command }, sink);
      if (sink.exitStatus) break;
      await sleep(5 + (i % 4) * 7);
      term.detach();
      await sleep(i % 3);
    }
    const last = new RecordingSink();
    await terminals.attach('flappy', { command }, last);
    await last.untilExit();
    const full = numberedLines(300);
    expect(last.text).toBe(full);
    // Every attachment saw the replay then live output: a prefix of the whole, never a gap or a repeat.
    for (const sink of clients) expect(full.startsWith(sink.text)).toBe(true);
    // The flapping really happened in the middle of the output.
    const partial = clients.filter((c) => c.text.length > 0 && c.text.length < full.length);
    expect(partial.length).toBeGreaterThan(10);
  });

  it('keeps the newest output when the scrollback overflows, and the seam is still exact', async () => {
    const terminals = sessions({ scrollbackBytes: 256 });
    const command = printNumbered(120, 0.005);
    const first = new RecordingSink();
    (await terminals.attach('small', { command }, first)).detach();
    // Reattach once the ring has overflowed (a short visit shows how full it is).
    let second = new RecordingSink();
    for (let t = 0; t < 100; t++) {
      await sleep(50);
      second = new RecordingSink();
      const visit = await terminals.attach('small', { command }, second);
      if (second.bytes.length === 256) break;
      visit.detach();
    }
    expect(second.bytes.length).toBe(256);
    await second.untilExit();
    const full = numberedLines(120);
    expect(second.bytes.length).toBeGreaterThan(256);
    // What the client got is exactly the end of the output: the last 256 bytes at attach, then live.
    expect(full.endsWith(second.text)).toBe(true);
  });

  it('holds a busy process back while a slow client is paused, then delivers every byte', async () => {
    const terminals = sessions();
    const slow = new RecordingSink();
    const term = await terminals.attach('flood', { command: 'yes | head -n 200000' }, slow);
    term.pause();
    await sleep(700);
    // The process is blocked on a full terminal, not racing ahead into agent memory.
    expect(slow.exitStatus).toBeUndefined();
    expect(slow.bytes.length).toBeLessThan(300_000);
    term.resume();
    expect(await slow.untilExit()).toEqual({ exitCode: 0, signal: null });
    const expected = 'y\r\n'.repeat(200_000);
    expect(slow.text.length).toBe(expected.length);
    expect(slow.text === expected).toBe(true);
  });

  it('delivers the last byte of a large output before reporting the exit', async () => {
    // libuv alone reports end-of-file at the hangup with the tail still in the kernel.
    const terminals = sessions();
    const expected = `${Array.from({ length: 100_000 }, (_, i) => i + 1).join('\r\n')}\r\n`;
    for (let run = 0; run < 4; run++) {
      const sink = new RecordingSink();
      await terminals.attach(`big-${run}`, { command: 'seq 1 100000' }, sink);
      await sink.untilExit();
      expect(sink.bytes.length).toBe(expected.length);
      expect(sink.text === expected).toBe(true);
    }
  });

  it('reports the exit even while a background job keeps the terminal open', async () => {
    const terminals = sessions();
    const sink = new RecordingSink();
    const started = Date.now();
    await terminals.attach('bg', { command: "(trap '' HUP; sleep 3) & echo started; exit 5" }, sink);
    expect(await sink.untilExit(2500)).toEqual({ exitCode: 5, signal: null });
    expect(Date.now() - started).toBeLessThan(2500);
    expect(sink.text).toContain('started');
  });

  it('reports the exit code and the signal to attached clients', async () => {
    const terminals = sessions();
    const a = new RecordingSink();
    const b = new RecordingSink();
    const term = await terminals.attach('code', {}, a);
    await terminals.attach('code', {}, b);
    term.write(Buffer.from('exit 7\n'));
    expect(await a.untilExit()).toEqual({ exitCode: 7, signal: null });
    expect(await b.untilExit()).toEqual({ exitCode: 7, signal: null });

    const killed = new RecordingSink();
    await terminals.attach('signal', { command: 'kill -TERM $$' }, killed);
    expect(await killed.untilExit()).toEqual({ exitCode: null, signal: 'SIGTERM' });
  });

  it('tells a client that comes back after the process ended how it ended, then frees the id', async () => {
    const terminals = sessions();
    const first = new RecordingSink();
    (await terminals.attach('gone', { command: 'sleep 0.2; echo bye; exit 4' }, first)).detach();
    await sleep(600);
    const back = new RecordingSink();
    await terminals.attach('gone', { command: 'sleep 0.2; echo bye; exit 4' }, back);
    expect(back.exitStatus).toEqual({ exitCode: 4, signal: null });
    expect(back.text).toContain('bye');
    expect(terminals.list()).toEqual([]);
    // The same id now starts a new process.
    const again = new RecordingSink();
    await terminals.attach('gone', { command: 'echo fresh' }, again);
    await again.untilText('fresh');
  });

  it('kills a terminal nobody has attached to for the idle time, and only that one', async () => {
    const terminals = sessions({ idleTimeoutMs: 400 });
    const idle = await terminals.attach('idle', {}, new RecordingSink());
    const busySink = new RecordingSink();
    await terminals.attach('busy', {}, busySink);
    const idlePid = terminals.list().find((s) => s.id === 'idle')?.pid as number;
    idle.detach();
    await sleep(250);
    expect(isRunning(idlePid)).toBe(true);
    await sleep(700);
    expect(isRunning(idlePid)).toBe(false);
    expect(terminals.list().map((s) => s.id)).toEqual(['busy']);
    expect(busySink.exitStatus).toBeUndefined();

    const fresh = new RecordingSink();
    await terminals.attach('idle', {}, fresh);
    expect(terminals.list().find((s) => s.id === 'idle')?.pid).not.toBe(idlePid);
  });

  it('closes a terminal on request, telling its clients, and frees its place under the cap', async () => {
    const terminals = sessions({ maxSessions: 1 });
    const sink = new RecordingSink();
    await terminals.attach('ssh-1', {}, sink);
    expect(terminals.close('ssh-1')).toBe(true);
    expect(await sink.untilExit()).toEqual({ exitCode: null, signal: 'SIGHUP' });
    await terminals.attach('ssh-2', { command: 'true' }, new RecordingSink());
    expect(terminals.close('nope')).toBe(false);
  });

  it('refuses a terminal past the cap but still reattaches to a running one', async () => {
    const terminals = sessions({ maxSessions: 2 });
    await terminals.attach('one', {}, new RecordingSink());
    await terminals.attach('two', {}, new RecordingSink());
    const refused = await terminals.attach('three', {}, new RecordingSink()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WarrenError);
    expect((refused as WarrenError).code).toBe('TOO_MANY_REQUESTS');
    expect((refused as WarrenError).message).toMatch(/already runs 2 terminals/);
    const back = new RecordingSink();
    const term = await terminals.attach('one', {}, back);
    term.write(Buffer.from('echo still-here\n'));
    await back.untilText('still-here\r\n');
  });

  it('runs the command in the folder and environment asked for, without the agent token', async () => {
    const terminals = sessions({
      env: { ...process.env, WARREN_AGENT_TOKEN: 'wat_must-not-leak-0123456789' },
    });
    const sink = new RecordingSink();
    await terminals.attach(
      'env',
      {
        command: 'pwd; echo "x=$GREETING"; env | grep -c WARREN_AGENT_TOKEN',
        cwd: 'project', // relative to the workspace folder
        env: { GREETING: 'hi' },
      },
      sink,
    );
    await sink.untilExit();
    expect(sink.text).toContain(`${fs.realpathSync(path.join(home, 'project'))}\r\n`);
    expect(sink.text).toContain('x=hi\r\n');
    expect(sink.text).not.toContain('must-not-leak');
  });

  it('explains bad requests in a sentence', async () => {
    const terminals = sessions();
    const bad = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e as WarrenError,
      );
    const badId = await bad(terminals.attach('has space', {}, new RecordingSink()));
    expect(badId?.code).toBe('INVALID_INPUT');
    expect(badId?.message).toMatch(/"id"/);
    const badSize = await bad(terminals.attach('ok', { cols: 0 }, new RecordingSink()));
    expect(badSize?.message).toMatch(/"cols"/);
    const badDir = await bad(terminals.attach('ok', { cwd: '/does/not/exist' }, new RecordingSink()));
    expect(badDir?.message).toBe('The terminal cannot start in /does/not/exist: it is not a folder.');
    const term = await terminals.attach('ok', {}, new RecordingSink());
    expect(() => term.resize(0, 10)).toThrow(WarrenError);
  });

  it('fails every terminal with a clear sentence when the addon cannot be had, and keeps working after', async () => {
    let available = false;
    const terminals = sessions({
      addon: () =>
        available
          ? testAddon()
          : Promise.reject(new WarrenError('UNAVAILABLE', 'Terminals are unavailable: no addon.')),
    });
    await expect(terminals.attach('t', {}, new RecordingSink())).rejects.toThrow('Terminals are unavailable');
    available = true;
    const sink = new RecordingSink();
    await terminals.attach('t', { command: 'echo ok' }, sink);
    await sink.untilText('ok');
  });
});
