import { WarrenError } from '@warren/core';

/** A `**` segment: any number of directories, including none. */
const GLOBSTAR = Symbol('globstar');
type Segment = SegmentMatcher | typeof GLOBSTAR;

/** More alternatives than this from {a,b} braces is a mistake, not a search. */
const MAX_ALTERNATIVES = 256;

/**
 * A compiled glob over '/'-separated relative paths: `**` (whole segment), `*`, `?`, `[ab]`,
 * `[!ab]`, `{a,b}` (nested too) and `\` escapes. Like most globs, wildcards do not match a
 * leading dot: hidden files and directories match only when the pattern spells the dot
 * (`.github/**`, `**\/.env`).
 */
export class GlobPattern {
  private constructor(
    readonly source: string,
    /** One segment list per brace alternative. */
    private readonly alternatives: readonly (readonly Segment[])[],
  ) {}

  static compile(pattern: string): GlobPattern {
    const alternatives = expandBraces(pattern).map((alt) =>
      alt
        .split('/')
        .filter((s, i, all) => s !== '' && !(s === '**' && all[i - 1] === '**'))
        .map(compileSegment),
    );
    return new GlobPattern(pattern, alternatives);
  }

  /** Whether a path (its segments) matches. */
  matches(segments: readonly string[]): boolean {
    return this.alternatives.some((alt) => matchFrom(alt, 0, segments, 0, false));
  }

  /** Whether a directory (its segments) may hold matches, so a walk can skip the rest. */
  mayContain(segments: readonly string[]): boolean {
    return this.alternatives.some((alt) => matchFrom(alt, 0, segments, 0, true));
  }
}

/**
 * Brace alternatives of a pattern, each split off as a plain glob: `src/{a,b{1,2}}.ts` gives
 * `src/a.ts`, `src/b1.ts`, `src/b2.ts`. A brace without a comma is literal.
 */
export function expandBraces(pattern: string): string[] {
  const out: string[] = [];
  const pending = [pattern];
  while (pending.length > 0) {
    const current = pending.pop() as string;
    const brace = findBrace(current);
    if (!brace) {
      out.push(current);
      continue;
    }
    const before = current.slice(0, brace.open);
    const after = current.slice(brace.close + 1);
    for (const option of brace.options) pending.push(before + option + after);
    if (out.length + pending.length > MAX_ALTERNATIVES)
      throw new WarrenError(
        'INVALID_INPUT',
        `The glob "${pattern}" expands to more than ${MAX_ALTERNATIVES} patterns.`,
      );
  }
  return out.reverse();
}

/** The first top-level `{...}` holding a comma, with its comma-separated options. */
function findBrace(text: string): { open: number; close: number; options: string[] } | undefined {
  for (let open = 0; open < text.length; open++) {
    if (text[open] === '\\') {
      open++;
      continue;
    }
    if (text[open] !== '{') continue;
    let depth = 0;
    let start = open + 1;
    const options: string[] = [];
    for (let i = open; i < text.length; i++) {
      const char = text[i];
      if (char === '\\') i++;
      else if (char === '{') depth++;
      else if (char === '}' && --depth === 0) {
        options.push(text.slice(start, i));
        if (options.length > 1) return { open, close: i, options };
        break;
      } else if (char === ',' && depth === 1) {
        options.push(text.slice(start, i));
        start = i + 1;
      }
    }
  }
  return undefined;
}

/** One character of a segment: a literal, `?` (ANY), a `[...]` class, or `*` (STAR). */
const STAR = Symbol('star');
const ANY = Symbol('any');
type Token = string | RegExp | typeof STAR | typeof ANY;

/**
 * Matches one name against one segment's tokens. Not a RegExp: `*a*a*a*b` against a long name
 * would make a backtracking engine take minutes; this greedy scan with one resume point is
 * O(name x pattern).
 */
class SegmentMatcher {
  constructor(
    private readonly tokens: readonly Token[],
    /** Hidden names match only a segment that starts with a literal dot. */
    private readonly allowsHidden: boolean,
  ) {}

  test(name: string): boolean {
    if (name.startsWith('.') && !this.allowsHidden) return false;
    const tokens = this.tokens;
    let t = 0;
    let n = 0;
    let starAt = -1;
    let resumeAt = 0;
    while (n < name.length) {
      const token = tokens[t];
      if (token === STAR) {
        starAt = t++;
        resumeAt = n;
      } else if (token !== undefined && fits(token, name[n] as string)) {
        t++;
        n++;
      } else if (starAt !== -1) {
        // Let the last star swallow one more character and try again from there.
        t = starAt + 1;
        n = ++resumeAt;
      } else return false;
    }
    while (tokens[t] === STAR) t++;
    return t === tokens.length;
  }
}

function fits(token: string | RegExp | typeof ANY, char: string): boolean {
  if (token === ANY) return true;
  return typeof token === 'string' ? token === char : token.test(char);
}

function compileSegment(segment: string): Segment {
  if (segment === '**') return GLOBSTAR;
  const tokens: Token[] = [];
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i] as string;
    if (char === '\\' && i + 1 < segment.length) tokens.push(segment[++i] as string);
    else if (char === '*') {
      if (tokens.at(-1) !== STAR) tokens.push(STAR);
    } else if (char === '?') tokens.push(ANY);
    else if (char === '[') {
      const klass = readClass(segment, i);
      if (klass) {
        tokens.push(new RegExp(`^${klass.source}$`));
        i = klass.end;
      } else tokens.push('[');
    } else tokens.push(char);
  }
  return new SegmentMatcher(tokens, segment.startsWith('.'));
}

/** `[ab]`, `[a-z]`, `[!ab]` or `[^ab]` starting at `open`, or undefined when it never closes. */
function readClass(segment: string, open: number): { source: string; end: number } | undefined {
  let i = open + 1;
  let negate = false;
  if (segment[i] === '!' || segment[i] === '^') {
    negate = true;
    i++;
  }
  let body = '';
  // A ']' right after the opening bracket is a literal member.
  for (let first = true; i < segment.length; i++, first = false) {
    const char = segment[i] as string;
    if (char === ']' && !first) return { source: `[${negate ? '^' : ''}${body}]`, end: i };
    if (char === '\\' && i + 1 < segment.length) body += `\\${segment[++i]}`;
    else body += char === '-' ? '-' : char.replace(/[\\\]^[]/, '\\$&');
  }
  return undefined;
}

/**
 * Matches pattern segments from `p` against path segments from `s`. With `partial`, running out
 * of path first is a success: the directory so far may still lead to a match. Results are
 * memoised per (p, s), so several `**` cost O(pattern x path), not a power of the depth.
 */
function matchFrom(
  pattern: readonly Segment[],
  p: number,
  path: readonly string[],
  s: number,
  partial: boolean,
  memo = new Map<number, boolean>(),
): boolean {
  const key = p * (path.length + 1) + s;
  const known = memo.get(key);
  if (known !== undefined) return known;
  let result: boolean;
  const segment = pattern[p];
  if (segment === undefined) result = s === path.length;
  else if (segment === GLOBSTAR) {
    result = false;
    // `**` swallows zero or more segments, but never a hidden one.
    for (let skip = s; skip <= path.length && !result; skip++) {
      if (skip > s && (path[skip - 1] as string).startsWith('.')) break;
      result = matchFrom(pattern, p + 1, path, skip, partial, memo);
    }
  } else if (s >= path.length) result = partial;
  else result = segment.test(path[s] as string) && matchFrom(pattern, p + 1, path, s + 1, partial, memo);
  memo.set(key, result);
  return result;
}
