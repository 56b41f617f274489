import fs from 'node:fs/promises';
import path from 'node:path';
import {
  type AgentOperationResult,
  jsonStringBytes,
  MAX_GREP_LINE_CHARS,
  MAX_OPERATION_RESULT_BYTES,
  MAX_TEXT_FILE_BYTES,
  type ParsedAgentOperationParams,
  WarrenError,
} from '@warren/core';
import { expandBraces, GlobPattern } from './GlobPattern';
import { matchLines } from './matchLines';
import { displayPath, fsError, type OperationContext, resolvePath } from './paths';
import { looksBinary } from './textFile';
import { SKIPPED_DIRECTORIES, walkFiles } from './walkFiles';

/** A search looks at no more entries than this; past it the result says truncated. */
const MAX_WALK_ENTRIES = 200_000;
/** Room for a match's or path's fields besides its text, as JSON. */
const ITEM_FIELDS_BYTES = 48;

/** Files under `cwd` matching a glob, most recently modified first (then by name). */
export async function glob(
  params: ParsedAgentOperationParams<'glob'>,
  context: OperationContext,
): Promise<AgentOperationResult<'glob'>> {
  const cwd = resolvePath(context.root, params.cwd ?? '.');
  await assertDirectory(cwd, 'search');
  const absolutePattern = path.isAbsolute(params.pattern);
  const found = new Set<string>();
  let complete = true;
  for (const alternative of expandBraces(params.pattern)) {
    const { base, rest } = splitStaticPrefix(alternative, cwd);
    const pattern = GlobPattern.compile(rest);
    const walk = await walkFiles(
      base,
      {
        descend: (segments) => !skipped(segments, alternative) && pattern.mayContain(segments),
        maxEntries: MAX_WALK_ENTRIES,
        signal: context.signal,
      },
      (file) => {
        if (pattern.matches(file.segments)) found.add(file.absolute);
        return true;
      },
    );
    complete &&= walk.complete;
  }
  const dated = await Promise.all(
    [...found].map(async (file) => ({
      file,
      mtime: (await fs.lstat(file).catch(() => undefined))?.mtimeMs ?? 0,
    })),
  );
  dated.sort((a, b) => b.mtime - a.mtime || (a.file < b.file ? -1 : 1));
  const paths: string[] = [];
  let budget = MAX_OPERATION_RESULT_BYTES - 1024 - jsonStringBytes(cwd);
  for (const { file } of dated) {
    const shown = absolutePattern ? file : path.relative(cwd, file);
    budget -= jsonStringBytes(shown) + 4;
    if (paths.length >= params.limit || budget < 0) break;
    paths.push(shown);
  }
  return { cwd, paths, truncated: !complete || paths.length < dated.length };
}

/** Lines matching a regular expression in a file or under a directory. */
export async function grep(
  params: ParsedAgentOperationParams<'grep'>,
  context: OperationContext,
): Promise<AgentOperationResult<'grep'>> {
  const regex = compileRegex(params.pattern, params.caseInsensitive);
  const target = resolvePath(context.root, params.path ?? '.');
  const stat = await fs.stat(target).catch((error) => {
    throw fsError(error, 'search', target);
  });
  const filter = params.glob === undefined ? undefined : GlobPattern.compile(params.glob);
  // Like ripgrep's -g: a glob without "/" is matched against the file name alone.
  const filterByName = params.glob !== undefined && !params.glob.includes('/');
  const wanted = (segments: readonly string[]) =>
    !filter || filter.matches(filterByName ? segments.slice(-1) : segments);

  const matches: AgentOperationResult<'grep'>['matches'] = [];
  let filesSearched = 0;
  let full = false;
  let budget = MAX_OPERATION_RESULT_BYTES - 1024;
  /** Returns false once no more matches fit. */
  const searchFile = async (file: string): Promise<boolean> => {
    const lines = await readSearchableLines(file);
    if (!lines) return true;
    filesSearched++;
    const shown = displayPath(context.root, file);
    // One more than still fits, so that a full result knows it is truncated.
    for (const { index, at } of matchLines(lines, regex, params.maxMatches - matches.length + 1, shown)) {
      const text = clip((lines[index] as string).replace(/\r$/, ''), at);
      budget -= jsonStringBytes(shown) + jsonStringBytes(text) + ITEM_FIELDS_BYTES;
      if (matches.length >= params.maxMatches || budget < 0) {
        full = true;
        return false;
      }
      matches.push({ path: shown, line: index + 1, text });
    }
    return true;
  };

  let complete = true;
  if (stat.isDirectory()) {
    const walk = await walkFiles(
      target,
      {
        descend: (segments) =>
          !skipped(segments, params.glob ?? '') && (filterByName || !filter || filter.mayContain(segments)),
        maxEntries: MAX_WALK_ENTRIES,
        signal: context.signal,
      },
      (file) => (file.entry.isFile() && wanted(file.segments) ? searchFile(file.absolute) : true),
    );
    complete = walk.complete;
  } else {
    await searchFile(target);
  }
  return { matches, truncated: full || !complete, filesSearched };
}

function compileRegex(pattern: string, caseInsensitive: boolean): RegExp {
  try {
    return new RegExp(pattern, caseInsensitive ? 'i' : '');
  } catch (error) {
    throw new WarrenError(
      'INVALID_INPUT',
      `The grep pattern is not a valid JavaScript regular expression: ${(error as Error).message}.`,
    );
  }
}

/** A file's lines, or undefined for what grep skips: binary, too large or unreadable files. */
async function readSearchableLines(file: string): Promise<string[] | undefined> {
  const size = (await fs.stat(file).catch(() => undefined))?.size;
  if (size === undefined || size > MAX_TEXT_FILE_BYTES) return undefined;
  const bytes = await fs.readFile(file).catch(() => undefined);
  if (!bytes || looksBinary(bytes)) return undefined;
  const lines = bytes.toString('utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** A long line cut to MAX_GREP_LINE_CHARS, keeping the match and a little before it in view. */
function clip(line: string, matchAt: number): string {
  if (line.length <= MAX_GREP_LINE_CHARS) return line;
  const start = Math.max(0, Math.min(matchAt - 100, line.length - MAX_GREP_LINE_CHARS));
  const end = start + MAX_GREP_LINE_CHARS;
  return `${start > 0 ? '…' : ''}${line.slice(start, end)}${end < line.length ? '…' : ''}`;
}

/** .git and node_modules are skipped unless the pattern names them. */
function skipped(segments: readonly string[], pattern: string): boolean {
  const name = segments.at(-1) ?? '';
  return SKIPPED_DIRECTORIES.includes(name) && !pattern.includes(name);
}

/** The literal leading directories of a glob become the walk's base; the rest is matched. */
function splitStaticPrefix(pattern: string, cwd: string): { base: string; rest: string } {
  const segments = pattern.split('/');
  let literal = 0;
  // The last segment is always matched, so that a walk lists its directory.
  while (literal < segments.length - 1 && !/[*?[\\]/.test(segments[literal] as string)) literal++;
  const prefix = segments.slice(0, literal);
  const base = path.isAbsolute(pattern) ? path.resolve('/', ...prefix) : path.resolve(cwd, ...prefix);
  return { base, rest: segments.slice(literal).join('/') };
}

async function assertDirectory(dir: string, action: string): Promise<void> {
  const stat = await fs.stat(dir).catch((error) => {
    throw fsError(error, action, dir);
  });
  if (!stat.isDirectory()) throw new WarrenError('INVALID_INPUT', `${dir} is a file, not a directory.`);
}
