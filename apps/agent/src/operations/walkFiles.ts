import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { throwIfAborted } from './paths';

/** Directories a search never enters unless it is asked to by name. */
export const SKIPPED_DIRECTORIES = ['.git', 'node_modules'];

export interface WalkedFile {
  absolute: string;
  /** Path segments relative to the walk's base. */
  segments: string[];
  entry: Dirent;
}

export interface WalkOptions {
  /** Whether to enter a directory (its segments relative to the base). */
  descend: (segments: readonly string[]) => boolean;
  /** Stop after looking at this many entries, so a walk of `/` cannot run for hours. */
  maxEntries: number;
  signal?: AbortSignal | undefined;
}

/**
 * Walks `base` depth first in name order, calling `onFile` for everything that is not a
 * directory (symlinks are not followed, so loops cannot happen). `onFile` returns false to stop.
 * Unreadable subdirectories are skipped. Resolves to whether the walk saw everything.
 */
export async function walkFiles(
  base: string,
  options: WalkOptions,
  onFile: (file: WalkedFile) => Promise<boolean> | boolean,
): Promise<{ complete: boolean }> {
  const stack: string[][] = [[]];
  let seen = 0;
  while (stack.length > 0) {
    throwIfAborted(options.signal);
    const segments = stack.pop() as string[];
    const dir = path.join(base, ...segments);
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[]);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirectories: string[][] = [];
    for (const entry of entries) {
      if (++seen > options.maxEntries) return { complete: false };
      const child = [...segments, entry.name];
      if (entry.isDirectory()) {
        if (options.descend(child)) subdirectories.push(child);
      } else if (!(await onFile({ absolute: path.join(dir, entry.name), segments: child, entry }))) {
        return { complete: false };
      }
    }
    // Reversed so that the stack pops them in name order.
    for (let i = subdirectories.length - 1; i >= 0; i--) stack.push(subdirectories[i] as string[]);
  }
  return { complete: true };
}
