import { decodeTerminalAgentFrame, encodeTerminalClientFrame } from '@warren/core';
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { useEffect, useRef, useState } from 'react';
import { Badge, Button } from '../design';
import { type TerminalPipe, useTerminalConnector } from './terminalConnector';

/**
 * Every ANSI colour at least 4.5:1 against the background, so whatever a program prints stays
 * readable (xterm's defaults include dark blue on black).
 */
const readableColors = {
  background: '#0d1117',
  foreground: '#e6e8eb',
  cursor: '#e6e8eb',
  black: '#7d8590',
  red: '#ff7b72',
  green: '#7ee787',
  yellow: '#e3b341',
  blue: '#79c0ff',
  magenta: '#d2a8ff',
  cyan: '#a5d6ff',
  white: '#e6e8eb',
  brightBlack: '#8b949e',
  brightRed: '#ffa198',
  brightGreen: '#56d364',
  brightYellow: '#f2cc60',
  brightBlue: '#a5d6ff',
  brightMagenta: '#e2c5ff',
  brightCyan: '#b3f0ff',
  brightWhite: '#ffffff',
};

type Phase = 'connecting' | 'connected' | 'reconnecting' | 'exited';

/** A terminal session id kept per workspace for this tab, so a reload reattaches to the same shell. */
function sessionFor(workspace: string): string {
  const key = `warren.terminal.${workspace}`;
  let session = sessionStorage.getItem(key);
  if (!session) {
    session = `web-${crypto.randomUUID().slice(0, 8)}`;
    sessionStorage.setItem(key, session);
  }
  return session;
}

/**
 * xterm.js over the workspace's reconnecting PTY: it fits its box and tells the PTY the new
 * size; a dropped connection comes back with backoff and the agent replays the scrollback.
 */
export default function WorkspaceTerminal({ workspace }: { workspace: string }) {
  const connect = useTerminalConnector();
  const box = useRef<HTMLDivElement>(null);
  const [phase, setPhase] = useState<Phase>('connecting');
  const [note, setNote] = useState<string>();
  const [generation, setGeneration] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new generation is a new session.
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const term = new Terminal({ cursorBlink: true, fontSize: 13, scrollback: 5000, theme: readableColors });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(element);
    fit.fit();
    const session = sessionFor(workspace);
    let pipe: TerminalPipe | undefined;
    let stopped = false;
    let attempt = 0;
    let retry: ReturnType<typeof setTimeout> | undefined;

    const open = () => {
      pipe = connect(
        { workspace, session, cols: term.cols, rows: term.rows },
        {
          onOpen: () => {
            attempt = 0;
            setPhase('connected');
            setNote(undefined);
            // A reattach replays the scrollback: start from a clean screen.
            term.reset();
          },
          onFrame: (bytes) => {
            const frame = decodeTerminalAgentFrame(bytes);
            if (frame.type === 'output') term.write(frame.data);
            else if (frame.type === 'exit') {
              stopped = true;
              setPhase('exited');
              setNote(`The shell exited${frame.exitCode === null ? '' : ` with code ${frame.exitCode}`}.`);
            } else setNote(frame.message);
          },
          onClose: () => {
            if (stopped) return;
            setPhase('reconnecting');
            setNote('The connection dropped; reconnecting…');
            attempt += 1;
            retry = setTimeout(open, Math.min(500 * 2 ** attempt, 10_000));
          },
        },
      );
    };
    open();
    const input = term.onData((data) =>
      pipe?.send(encodeTerminalClientFrame({ type: 'input', data: new TextEncoder().encode(data) })),
    );
    const resized = term.onResize(({ cols, rows }) =>
      pipe?.send(encodeTerminalClientFrame({ type: 'resize', cols, rows })),
    );
    const observer = new ResizeObserver(() => fit.fit());
    observer.observe(element);
    return () => {
      stopped = true;
      clearTimeout(retry);
      observer.disconnect();
      input.dispose();
      resized.dispose();
      pipe?.close();
      term.dispose();
    };
  }, [workspace, generation, connect]);

  return (
    <div>
      <div className="row" style={{ marginBottom: '0.5rem' }}>
        <Badge tone={phase === 'connected' ? 'good' : phase === 'exited' ? 'neutral' : 'busy'}>{phase}</Badge>
        {note ? (
          <span className="muted" role="status">
            {note}
          </span>
        ) : null}
        {phase === 'exited' ? (
          <Button
            onClick={() => {
              sessionStorage.removeItem(`warren.terminal.${workspace}`);
              setGeneration((g) => g + 1);
              setPhase('connecting');
            }}
          >
            Start a new shell
          </Button>
        ) : null}
      </div>
      <div ref={box} className="terminal-box" role="application" aria-label={`Terminal of ${workspace}`} />
    </div>
  );
}
