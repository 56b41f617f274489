import fs from 'node:fs/promises';
import path from 'node:path';
import {
  type AgentOperationResult,
  jsonStringBytes,
  MAX_OPERATION_RESULT_BYTES,
  MAX_READ_LINE_CHARS,
  type ParsedAgentOperationParams,
  WarrenError,
} from '@warren/core';
import { writeFileAtomic } from './atomicWrite';
import { fsError, type OperationContext, resolvePath } from './paths';
import { readTextFile } from './textFile';

/** Room left in the result for everything but `content`. */
const READ_ENVELOPE_BYTES = 8 * 1024;

/** Lines offset..offset+limit-1 of a text file, cut to fit one frame. */
export async function readFile(
  params: ParsedAgentOperationParams<'readFile'>,
  context: OperationContext,
): Promise<AgentOperationResult<'readFile'>> {
  const file = resolvePath(context.root, params.path);
  const lines = splitLines(await readTextFile(file));
  const totalLines = lines.length;
  if (params.offset > Math.max(totalLines, 1)) {
    const size = totalLines === 0 ? 'which is empty' : `which has ${totalLines} lines`;
    throw new WarrenError('INVALID_INPUT', `Line ${params.offset} is past the end of ${file}, ${size}.`);
  }
  let budget = MAX_OPERATION_RESULT_BYTES - READ_ENVELOPE_BYTES - jsonStringBytes(file);
  const out: string[] = [];
  let longLinesCut = 0;
  const last = Math.min(totalLines, params.offset - 1 + params.limit);
  for (let index = params.offset - 1; index < last; index++) {
    let line = lines[index] ?? '';
    if (line.length > MAX_READ_LINE_CHARS) {
      line = `${line.slice(0, MAX_READ_LINE_CHARS)} … [${line.length - MAX_READ_LINE_CHARS} more characters cut]`;
      longLinesCut++;
    }
    // +2 for the "\n" that joins it, as JSON writes it.
    budget -= jsonStringBytes(line) + 2;
    if (budget < 0) break;
    out.push(line);
  }
  const endLine = params.offset - 1 + out.length;
  return {
    path: file,
    content: out.join('\n'),
    totalLines,
    startLine: params.offset,
    endLine,
    truncated: endLine < totalLines,
    longLinesCut,
  };
}

/** Lines without their "\n"; a final newline does not start another line. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return lines;
}

export async function writeFile(
  params: ParsedAgentOperationParams<'writeFile'>,
  context: OperationContext,
): Promise<AgentOperationResult<'writeFile'>> {
  const file = resolvePath(context.root, params.path);
  if (params.createDirs) {
    const dir = path.dirname(file);
    await fs.mkdir(dir, { recursive: true }).catch((error) => {
      throw fsError(error, 'create the directory', dir);
    });
  }
  const written = await writeFileAtomic(file, params.content);
  return { path: written.written, bytes: written.bytes, created: written.created };
}

/** Replaces an exact piece of text, once (it must be unique) or everywhere. */
export async function editFile(
  params: ParsedAgentOperationParams<'editFile'>,
  context: OperationContext,
): Promise<AgentOperationResult<'editFile'>> {
  const file = resolvePath(context.root, params.path);
  const { oldText, newText } = params;
  if (oldText === newText)
    throw new WarrenError(
      'INVALID_INPUT',
      `oldText and newText are the same, so the edit would not change ${file}.`,
    );
  const text = await readTextFile(file);
  const found = occurrences(text, oldText);
  if (found.length === 0) throw notFound(file, text, oldText);
  if (found.length > 1 && !params.replaceAll) {
    const lines = lineNumbers(text, found);
    const shown = lines.slice(0, 10).join(', ') + (lines.length > 10 ? ', …' : '');
    throw new WarrenError(
      'CONFLICT',
      `oldText matches ${found.length} places in ${file} (lines ${shown}); ` +
        'add surrounding lines to make it unique or set replaceAll.',
    );
  }
  const pieces: string[] = [];
  let from = 0;
  for (const at of found) {
    pieces.push(text.slice(from, at), newText);
    from = at + oldText.length;
  }
  pieces.push(text.slice(from));
  await writeFileAtomic(file, pieces.join(''));
  return { path: file, replacements: found.length };
}

/** Start offsets of the non-overlapping occurrences of `needle`. */
function occurrences(text: string, needle: string): number[] {
  const found: number[] = [];
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length))
    found.push(at);
  return found;
}

/** 1-based line numbers of ascending offsets, in one pass over the text. */
function lineNumbers(text: string, offsets: number[]): number[] {
  const lines: number[] = [];
  let line = 1;
  let scanned = 0;
  for (const offset of offsets) {
    for (let i = text.indexOf('\n', scanned); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
      line++;
      scanned = i + 1;
    }
    lines.push(line);
  }
  return lines;
}

function notFound(file: string, text: string, oldText: string): WarrenError {
  // The most common near miss: the model wrote "\n" where the file has "\r\n".
  const crlf =
    text.includes('\r\n') && oldText.includes('\n') && !oldText.includes('\r\n')
      ? ' The file has CRLF (\\r\\n) line endings; oldText must include the \\r characters.'
      : '';
  return new WarrenError(
    'CONFLICT',
    `oldText was not found in ${file}; read the file again and copy the text exactly, ` +
      `including whitespace and indentation.${crlf}`,
  );
}
