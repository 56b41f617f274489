import { encodeAgentFrame, MAX_AGENT_FRAME_BYTES, MAX_LOG_LINE_CHARS } from '@warren/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultBatchLimits, LogBatcher } from '../src/LogBatcher';

type Batch = { source: string; lines: string[] };

function collect(limits = defaultBatchLimits) {
  const batches: Batch[] = [];
  const batcher = new LogBatcher((source, lines) => {
    // Every batch must make a valid frame.
    encodeAgentFrame({ type: 'logs', source, lines });
    batches.push({ source, lines: lines.map((l) => l.line) });
  }, limits);
  return { batcher, batches };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('LogBatcher', () => {
  it('sends lines that arrive together as one batch after a short delay', () => {
    vi.useFakeTimers();
    const { batcher, batches } = collect();
    batcher.push('startup_script', 'one');
    batcher.push('startup_script', 'two');
    expect(batches).toEqual([]);
    vi.advanceTimersByTime(defaultBatchLimits.delayMs);
    expect(batches).toEqual([{ source: 'startup_script', lines: ['one', 'two'] }]);
  });

  it('keeps the order of lines across sources', () => {
    const { batcher, batches } = collect();
    batcher.push('startup_script', 'a');
    batcher.push('agent', 'b');
    batcher.push('startup_script', 'c');
    batcher.flush();
    expect(batches.map((b) => `${b.source}:${b.lines.join()}`)).toEqual([
      'startup_script:a',
      'agent:b',
      'startup_script:c',
    ]);
  });

  it('splits a flood of lines into batches that fit the frame limits', () => {
    const { batcher, batches } = collect();
    const long = '€'.repeat(MAX_LOG_LINE_CHARS);
    for (let i = 0; i < 300; i++) batcher.push('startup_script', `${i}${long}`);
    for (let i = 0; i < 1200; i++) batcher.push('startup_script', `short ${i}`);
    batcher.flush();
    expect(batches.length).toBeGreaterThan(3);
    const lines = batches.flatMap((b) => b.lines);
    expect(lines).toHaveLength(1500);
    expect(lines[0]).toHaveLength(MAX_LOG_LINE_CHARS);
    expect(lines.at(-1)).toBe('short 1199');
    for (const b of batches) {
      const frame = encodeAgentFrame({
        type: 'logs',
        source: 'agent',
        lines: b.lines.map((line) => ({ time: 0, line })),
      });
      expect(Buffer.byteLength(frame)).toBeLessThan(MAX_AGENT_FRAME_BYTES);
    }
  });
});
