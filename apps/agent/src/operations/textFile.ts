import fs from 'node:fs/promises';
import { MAX_TEXT_FILE_BYTES, WarrenError } from '@warren/core';
import { formatBytes, fsError } from './paths';

/** Git's heuristic: a NUL byte in the first 8,000 bytes means binary. */
const BINARY_SNIFF_BYTES = 8000;

export function looksBinary(bytes: Uint8Array): boolean {
  return bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0);
}

/**
 * Reads a UTF-8 text file for readFile and editFile; refuses directories, binary files and files
 * over MAX_TEXT_FILE_BYTES with sentences that say what to do instead.
 */
export async function readTextFile(file: string): Promise<string> {
  let size: number;
  try {
    const stat = await fs.stat(file);
    if (stat.isDirectory())
      throw new WarrenError(
        'INVALID_INPUT',
        `${file} is a directory, not a file; use listDir to see inside it.`,
      );
    if (!stat.isFile()) throw new WarrenError('INVALID_INPUT', `${file} is not a regular file.`);
    size = stat.size;
  } catch (error) {
    throw fsError(error, 'read', file);
  }
  if (size > MAX_TEXT_FILE_BYTES) throw tooLarge(file, size);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    throw fsError(error, 'read', file);
  }
  // The file may have grown between stat and read.
  if (bytes.byteLength > MAX_TEXT_FILE_BYTES) throw tooLarge(file, bytes.byteLength);
  if (looksBinary(bytes))
    throw new WarrenError(
      'INVALID_INPUT',
      `${file} looks like a binary file (it contains NUL bytes); only text files can be read or edited.`,
    );
  return bytes.toString('utf8');
}

function tooLarge(file: string, size: number): WarrenError {
  return new WarrenError(
    'PAYLOAD_TOO_LARGE',
    `${file} is ${formatBytes(size)}, over the ${formatBytes(MAX_TEXT_FILE_BYTES)} limit for reading or editing; ` +
      'use grep to find lines or exec (head, sed) to read parts of it.',
  );
}
