import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  type AgentOperationResult,
  jsonStringBytes,
  MAX_OPERATION_RESULT_BYTES,
  type ParsedAgentOperationParams,
  WarrenError,
} from '@warren/core';
import { fsError, type OperationContext, resolvePath, throwIfAborted } from './paths';

type DirEntry = AgentOperationResult<'listDir'>['entries'][number];

/** Room for an entry's fields besides its name, as JSON. */
const ENTRY_FIELDS_BYTES = 96;

/** The entries of one directory, sorted by name; symlinks are reported, not followed. */
export async function listDir(
  params: ParsedAgentOperationParams<'listDir'>,
  context: OperationContext,
): Promise<AgentOperationResult<'listDir'>> {
  const dir = resolvePath(context.root, params.path);
  let names: string[];
  try {
    const stat = await fs.stat(dir);
    if (!stat.isDirectory())
      throw new WarrenError('INVALID_INPUT', `${dir} is a file, not a directory; use readFile to read it.`);
    names = await fs.readdir(dir);
  } catch (error) {
    throw fsError(error, 'list', dir);
  }
  names.sort();
  const entries: DirEntry[] = [];
  let budget = MAX_OPERATION_RESULT_BYTES - 1024 - jsonStringBytes(dir);
  let listed = 0;
  for (const name of names) {
    budget -= jsonStringBytes(name) + ENTRY_FIELDS_BYTES;
    if (listed >= params.limit || budget < 0) break;
    throwIfAborted(context.signal);
    listed++;
    // An entry removed since readdir is simply not listed.
    const stat = await fs.lstat(path.join(dir, name)).catch(() => undefined);
    if (stat)
      entries.push({ name, type: entryType(stat), size: stat.size, modifiedMs: Math.round(stat.mtimeMs) });
  }
  return { path: dir, entries, totalEntries: names.length, truncated: listed < names.length };
}

export function entryType(stat: Stats): DirEntry['type'] {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'dir';
  if (stat.isSymbolicLink()) return 'symlink';
  return 'other';
}
