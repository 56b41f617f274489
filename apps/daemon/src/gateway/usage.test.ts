import { describe, expect, it } from 'vitest';
import {
  ANTHROPIC_COST_PICO,
  ANTHROPIC_PRICES,
  anthropicJson,
  anthropicStream,
  OPENAI_CHAT_COST_PICO,
  OPENAI_PRICES,
  OPENAI_RESPONSES_COST_PICO,
  openAiChatJson,
  openAiChatStream,
  openAiResponsesJson,
  openAiResponsesStream,
} from '../../test/gateway/wireSamples';
import { bodyMeter } from './BodyMeter';
import { costPico } from './cost';
import { type MeteredCall, meterJson, type WireFormat } from './usage';

/** Meters a stream as the gateway does: bytes in arbitrary chunks through the SSE meter. */
function meterStream(format: WireFormat, events: string[], chunkSize = 0): MeteredCall {
  const meter = bodyMeter(format, 'text/event-stream; charset=utf-8');
  const all = new TextEncoder().encode(events.join(''));
  if (chunkSize === 0) meter.push(all);
  else for (let at = 0; at < all.length; at += chunkSize) meter.push(all.subarray(at, at + chunkSize));
  return meter.result();
}

describe('usage and tool calls, from the providers’ own fields', () => {
  it('OpenAI chat.completions streamed: the final usage chunk, cached tokens split out, both tool calls', () => {
    const metered = meterStream('openai-chat', openAiChatStream());
    expect(metered.usage).toEqual({ input: 176, cacheRead: 1024, cacheWrite: 0, output: 35 });
    expect(metered.toolCalls).toEqual([
      { id: 'call_weather1', name: 'get_weather' },
      { id: 'call_time2', name: 'get_time' },
    ]);
    expect(costPico(metered.usage, OPENAI_PRICES)).toBe(OPENAI_CHAT_COST_PICO);
  });

  it('OpenAI chat.completions not streamed: the same usage and cost from the body', () => {
    const metered = meterJson('openai-chat', openAiChatJson());
    expect(metered.usage).toEqual({ input: 176, cacheRead: 1024, cacheWrite: 0, output: 35 });
    expect(metered.toolCalls).toEqual([{ id: 'call_weather1', name: 'get_weather' }]);
    expect(costPico(metered.usage, OPENAI_PRICES)).toBe(OPENAI_CHAT_COST_PICO);
  });

  it('OpenAI Responses streamed and not: usage from response.completed, function calls by call id', () => {
    for (const metered of [
      meterStream('openai-responses', openAiResponsesStream()),
      meterJson('openai-responses', openAiResponsesJson()),
    ]) {
      expect(metered.usage).toEqual({ input: 388, cacheRead: 512, cacheWrite: 0, output: 60 });
      expect(metered.toolCalls).toEqual([{ id: 'call_lookup1', name: 'lookup_order' }]);
      expect(costPico(metered.usage, OPENAI_PRICES)).toBe(OPENAI_RESPONSES_COST_PICO);
    }
  });

  it('Anthropic streamed and not: message_start input and cache counts, message_delta output, tool_use blocks', () => {
    for (const metered of [
      meterStream('anthropic', anthropicStream()),
      meterJson('anthropic', anthropicJson()),
    ]) {
      expect(metered.usage).toEqual({ input: 50, cacheRead: 8000, cacheWrite: 2000, output: 120 });
      expect(metered.toolCalls).toEqual([{ id: 'toolu_01A', name: 'read_file' }]);
      expect(costPico(metered.usage, ANTHROPIC_PRICES)).toBe(ANTHROPIC_COST_PICO);
    }
  });

  it('meters identically however the stream is chunked (fuzz over chunk sizes)', () => {
    const cases: [WireFormat, string[]][] = [
      ['openai-chat', openAiChatStream()],
      ['openai-responses', openAiResponsesStream()],
      ['anthropic', anthropicStream()],
    ];
    for (const [format, events] of cases) {
      const whole = meterStream(format, events);
      for (let size = 1; size <= 97; size += 3)
        expect(meterStream(format, events, size), `${format} by ${size}`).toEqual(whole);
    }
  });

  it('an Anthropic message_delta that repeats cumulative input counts replaces them instead of adding', () => {
    const events = anthropicStream();
    events.splice(
      -1,
      0,
      'event: message_delta\ndata: {"type":"message_delta","delta":{},"usage":{"input_tokens":50,"cache_read_input_tokens":8000,"output_tokens":130}}\n\n',
    );
    expect(meterStream('anthropic', events).usage).toEqual({
      input: 50,
      cacheRead: 8000,
      cacheWrite: 2000,
      output: 130,
    });
  });

  it('a stream cut off before its usage reports what it saw and no more', () => {
    const events = anthropicStream().slice(0, 5);
    expect(meterStream('anthropic', events)).toEqual({
      usage: { input: 50, cacheRead: 8000, cacheWrite: 2000, output: 1 },
      toolCalls: [{ id: 'toolu_01A', name: 'read_file' }],
    });
  });

  it('an OpenAI-compatible server that reports cache writes is billed for them at the cache-write price', () => {
    const metered = meterJson('openai-chat', {
      choices: [],
      usage: {
        prompt_tokens: 1000,
        completion_tokens: 10,
        prompt_tokens_details: { cached_tokens: 300, cache_write_tokens: 200 },
      },
    });
    expect(metered.usage).toEqual({ input: 500, cacheRead: 300, cacheWrite: 200, output: 10 });
    expect(costPico(metered.usage, { input: 1, cacheRead: 10, cacheWrite: 100, output: 1000 })).toBe(
      500 + 3000 + 20_000 + 10_000,
    );
  });
});

describe('costPico', () => {
  it('is exact where floating point would not be', () => {
    // 0.1 + 0.2 style inputs: 3 tokens at USD 0.10 and 0.20 per million.
    expect(
      costPico(
        { input: 3, output: 3, cacheRead: 0, cacheWrite: 0 },
        { input: 100_000, output: 200_000, cacheRead: 0, cacheWrite: 0 },
      ),
    ).toBe(900_000);
    // A million output tokens at USD 75 per million is USD 75 = 75 * 10^12 pico-dollars.
    expect(
      costPico(
        { input: 0, output: 1_000_000, cacheRead: 0, cacheWrite: 0 },
        { input: 0, output: 75_000_000, cacheRead: 0, cacheWrite: 0 },
      ),
    ).toBe(75e12);
  });
});
