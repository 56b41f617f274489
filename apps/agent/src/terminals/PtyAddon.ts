import os from 'node:os';
import {
  describeTerminalAddonTarget,
  type TerminalAddonTarget,
  terminalAddonKey,
  WarrenError,
} from '@warren/core';

/**
 * The functions of node-pty's compiled `pty.node` that the agent calls (node-pty 1.1, Unix). The
 * agent talks to the addon directly instead of bundling node-pty's JavaScript, so the bundle
 * needs no build-time patching and tests run the very code workspaces run.
 */
export interface PtyAddon {
  fork(
    file: string,
    args: string[],
    env: string[],
    cwd: string,
    cols: number,
    rows: number,
    uid: number,
    gid: number,
    utf8: boolean,
    helperPath: string,
    onExit: (code: number, signal: number) => void,
  ): { fd: number; pid: number; pty: string };
  resize(fd: number, cols: number, rows: number): void;
  /** Only on macOS: node-pty spawns through this helper there. Empty elsewhere. */
  readonly spawnHelperPath: string;
}

/** The platform, CPU and Node ABI this agent runs on: the only addon build it can load. */
export function currentAddonTarget(): TerminalAddonTarget {
  return { platform: process.platform, arch: process.arch, abi: process.versions.modules };
}

/**
 * Loads a downloaded addon. It refuses, before touching the file, a build made for another
 * platform or Node ABI (loading one would fail with a linker error at best), and turns the
 * loader's own failures into a sentence naming the file.
 */
export function loadPtyAddon(
  file: string,
  built: TerminalAddonTarget,
  options: { spawnHelperPath?: string; running?: TerminalAddonTarget } = {},
): PtyAddon {
  const running = options.running ?? currentAddonTarget();
  if (terminalAddonKey(built) !== terminalAddonKey(running)) {
    throw new WarrenError(
      'UNAVAILABLE',
      `Terminals are unavailable: the terminal addon was built for ${describeTerminalAddonTarget(built)}, but this agent runs on ${describeTerminalAddonTarget(running)} (Node ${process.versions.node}). Run the workspace with the same Node.js version as the Warren server.`,
    );
  }
  const module = { exports: {} as Record<string, unknown> };
  try {
    // dlopen straight from the file: the bundle has no node_modules to require from.
    process.dlopen(module, file, os.constants.dlopen.RTLD_NOW);
  } catch (error) {
    throw new WarrenError(
      'UNAVAILABLE',
      `Terminals are unavailable: the terminal addon ${file} could not be loaded (${firstLine(error)}).`,
      { cause: error },
    );
  }
  const { fork, resize } = module.exports;
  if (typeof fork !== 'function' || typeof resize !== 'function') {
    throw new WarrenError(
      'UNAVAILABLE',
      `Terminals are unavailable: ${file} is a Node.js addon but not node-pty's pty.node (it has no fork and resize).`,
    );
  }
  return {
    fork: fork as PtyAddon['fork'],
    resize: resize as PtyAddon['resize'],
    spawnHelperPath: options.spawnHelperPath ?? '',
  };
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? message).trim();
}
