import { describe, expect, it } from 'vitest';
import { WarrenError } from '../errors/WarrenError';
import {
  agentOperationNames,
  agentOperations,
  isAgentOperationName,
  jsonPrefixLength,
  jsonStringBytes,
  jsonSuffixStart,
  MAX_WRITE_JSON_BYTES,
  parseAgentOperationParams,
} from './operations';

function rejected(fn: () => unknown): WarrenError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WarrenError);
    expect((error as WarrenError).code).toBe('INVALID_INPUT');
    return error as WarrenError;
  }
  throw new Error('expected the params to be rejected');
}

/** Random text mixing ASCII, quotes, control characters, accents, emoji and lone surrogates. */
function randomText(length: number, seed: number): string {
  const pool = ['a', 'Z', ' ', '"', '\\', '\n', '\t', '\x1b', '\x00', 'é', '€', '😀', '\ud800', '\udc00'];
  let state = seed;
  let text = '';
  for (let i = 0; i < length; i++) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    text += pool[state % pool.length];
  }
  return text;
}

describe('agent operations', () => {
  it('fills in the documented defaults', () => {
    expect(parseAgentOperationParams('exec', { command: 'ls' })).toEqual({
      command: 'ls',
      timeoutMs: 120_000,
      maxOutputBytes: 64 * 1024,
    });
    expect(parseAgentOperationParams('readFile', { path: 'a.ts' })).toEqual({
      path: 'a.ts',
      offset: 1,
      limit: 2000,
    });
    expect(parseAgentOperationParams('listDir', {})).toEqual({ path: '.', limit: 1000 });
    expect(parseAgentOperationParams('grep', { pattern: 'x' })).toMatchObject({ maxMatches: 200 });
  });

  it('rejects unknown fields with a sentence naming them', () => {
    const error = rejected(() => parseAgentOperationParams('readFile', { path: 'a', recursive: true }));
    expect(error.message).toBe('Invalid readFile request. Field "recursive" is not a known field.');
  });

  it('rejects a timeout over an hour and an empty command', () => {
    expect(
      rejected(() => parseAgentOperationParams('exec', { command: 'x', timeoutMs: 3_600_001 })).message,
    ).toMatch(/timeoutMs/);
    rejected(() => parseAgentOperationParams('exec', { command: '' }));
    rejected(() => parseAgentOperationParams('exec', { command: 'x', env: { 'BAD-NAME': '1' } }));
  });

  it('refuses a write whose content would not fit in one frame once JSON-encoded', () => {
    // Each newline is two bytes in JSON: under the limit in UTF-8, over it as a frame.
    const content = '\n'.repeat(MAX_WRITE_JSON_BYTES / 2 + 1);
    expect(Buffer.byteLength(content)).toBeLessThan(MAX_WRITE_JSON_BYTES);
    expect(rejected(() => parseAgentOperationParams('writeFile', { path: 'a', content })).message).toMatch(
      /once JSON-encoded/,
    );
    const half = 'x'.repeat(MAX_WRITE_JSON_BYTES / 2 + 1);
    rejected(() => parseAgentOperationParams('editFile', { path: 'a', oldText: half, newText: half }));
  });

  it('rejects paths with NUL characters', () => {
    rejected(() => parseAgentOperationParams('readFile', { path: 'a\0b' }));
  });

  it('knows its operation names', () => {
    expect(agentOperationNames).toContain('grep');
    expect(isAgentOperationName('exec')).toBe(true);
    expect(isAgentOperationName('toString')).toBe(false);
    expect(agentOperations.stats.result.safeParse({}).success).toBe(false);
  });
});

describe('jsonStringBytes', () => {
  it('counts exactly what JSON.stringify writes, for 2,000 random strings', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const text = randomText(seed % 50, seed);
      expect(jsonStringBytes(text)).toBe(Buffer.byteLength(JSON.stringify(text)) - 2);
    }
  });

  it('cuts prefixes and suffixes within a budget without splitting a surrogate pair', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const text = randomText(40, seed);
      const budget = seed % 60;
      const head = text.slice(0, jsonPrefixLength(text, budget));
      const tail = text.slice(jsonSuffixStart(text, budget));
      expect(jsonStringBytes(head)).toBeLessThanOrEqual(budget);
      expect(jsonStringBytes(tail)).toBeLessThanOrEqual(budget);
      // The longest such prefix: one more character would not fit.
      if (head.length < text.length) {
        const next = (text.codePointAt(head.length) ?? 0) > 0xffff ? 2 : 1;
        expect(jsonStringBytes(text.slice(0, head.length + next))).toBeGreaterThan(budget);
      }
    }
    expect(jsonPrefixLength('a😀b', 4)).toBe(1);
    expect(jsonSuffixStart('a😀b', 4)).toBe(3);
  });
});
