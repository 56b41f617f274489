import vm from 'node:vm';
import { WarrenError } from '@warren/core';

/**
 * How long one file's regex search may hold the agent's event loop. A model-written pattern such
 * as `(a+)+$` can backtrack for minutes on one line, and a regex cannot be interrupted from
 * JavaScript; running it under vm's timeout lets V8 stop it, so terminals and other requests
 * stall for at most this long.
 */
export const REGEX_FILE_TIMEOUT_MS = 1000;

const sandbox = vm.createContext({});
new vm.Script(`
  globalThis.findLines = function (lines, regex, max) {
    const found = [];
    for (let i = 0; i < lines.length && found.length < max * 2; i++) {
      const line = lines[i].endsWith('\\r') ? lines[i].slice(0, -1) : lines[i];
      const match = regex.exec(line);
      if (match) found.push(i, match.index);
    }
    return found;
  };
`).runInContext(sandbox);
const call = new vm.Script('findLines(input.lines, input.regex, input.max)');

export interface LineMatch {
  /** 0-based index into `lines`. */
  index: number;
  /** Where in the line (without a trailing CR) the match starts. */
  at: number;
}

/** The first `max` lines that `regex` matches; throws INVALID_INPUT if it runs away on `file`. */
export function matchLines(lines: string[], regex: RegExp, max: number, file: string): LineMatch[] {
  sandbox.input = { lines, regex, max };
  let found: number[];
  try {
    found = call.runInContext(sandbox, { timeout: REGEX_FILE_TIMEOUT_MS }) as number[];
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw error;
    throw new WarrenError(
      'INVALID_INPUT',
      `The grep pattern ran for over ${REGEX_FILE_TIMEOUT_MS / 1000} s on ${file}; it probably backtracks ` +
        'without end. Simplify it (avoid nested quantifiers such as (a+)+).',
    );
  } finally {
    sandbox.input = undefined;
  }
  const matches: LineMatch[] = [];
  for (let i = 0; i + 1 < found.length; i += 2)
    matches.push({ index: found[i] as number, at: found[i + 1] as number });
  return matches;
}
