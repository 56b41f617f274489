import { SseParser } from '@warren/core';
import { seededRandom, splitRandomly } from '@warren/core/test-support/seededRandom';
import { describe, expect, it } from 'vitest';
import { anthropicStream, openAiChatStream, openAiResponsesStream } from '../../test/gateway/wireSamples';
import { meteredEvents } from './meteredEvents';
import { SseScanner } from './SseScanner';
import { StreamMeter, type WireFormat } from './usage';

/** Every framing rule at once: CRLF, CR, comments, multi-line data, no-space values, UTF-8, a BOM. */
const WIRE = [
  '\uFEFFevent: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":12}}}\n\n',
  ': keep-alive comment\n\n',
  'event: content_block_delta\r\ndata: {"type":"content_block_delta","delta":{"text":"Grüße 👋"}}\r\n\r\n',
  'event: ping\rdata: {"type": "ping"}\r\r',
  'data: first line\ndata: second line\n\n',
  'data:no-space\n\n',
  'data\n\n',
  'id: 7\nretry: 100\nevent: empty\n\n',
  'event: message_stop\ndata: {"type":"message_stop"}\n\n',
  'data: half an event',
].join('');

type Seen = { events: [string, string][]; boundaries: boolean[] };

function viaScanner(chunks: Buffer[]): Seen {
  const seen: Seen = { events: [], boundaries: [] };
  const scanner = new SseScanner(
    () => true,
    (event, data) => seen.events.push([event, data]),
  );
  for (const chunk of chunks) {
    scanner.push(chunk);
    seen.boundaries.push(scanner.atBoundary);
  }
  return seen;
}

/** The reference: @warren/core's general parser, which the CLI uses. */
function viaParser(chunks: Buffer[]): Seen {
  const seen: Seen = { events: [], boundaries: [] };
  const parser = new SseParser((event) => seen.events.push([event.event, event.data]));
  for (const chunk of chunks) {
    parser.push(chunk);
    seen.boundaries.push(parser.atBoundary);
  }
  return seen;
}

describe('SseScanner', () => {
  it('frames the same events as the general SSE parser, whole and byte by byte', () => {
    const all = Buffer.from(WIRE);
    expect(viaScanner([all]).events).toEqual(viaParser([all]).events);
    expect(viaScanner([all]).events).toContainEqual(['', 'first line\nsecond line']);
    const bytes = [...all].map((b) => Buffer.of(b));
    expect(viaScanner(bytes).events).toEqual(viaParser(bytes).events);
  });

  it('agrees with the general parser on events and event boundaries for 1,000 random splits (fuzz)', () => {
    const all = Buffer.from(WIRE);
    for (let seed = 1; seed <= 1000; seed++) {
      const chunks = splitRandomly(all, seededRandom(seed).next);
      expect(viaScanner(chunks), `seed ${seed}`).toEqual(viaParser(chunks));
    }
  });

  it('decodes only the events it is asked for', () => {
    const decoded: string[] = [];
    const scanner = new SseScanner(
      (event) => event === 'ping',
      (_event, data) => decoded.push(data),
    );
    scanner.push(Buffer.from(WIRE));
    expect(decoded).toEqual(['{"type": "ping"}']);
  });
});

describe('metered events', () => {
  const streams: [WireFormat, string[]][] = [
    ['openai-chat', openAiChatStream()],
    ['openai-responses', openAiResponsesStream()],
    ['anthropic', anthropicStream()],
  ];

  it('let through every event the usage meter takes anything from, in any split (fuzz)', () => {
    for (const [format, events] of streams) {
      const all = Buffer.from(events.join(''));
      const everything = new StreamMeter(format);
      new SseParser((event) => everything.onEvent(event.event, event.data)).push(all);
      for (let seed = 1; seed <= 200; seed++) {
        const filtered = new StreamMeter(format);
        const scanner = new SseScanner(meteredEvents(format), (event, data) => filtered.onEvent(event, data));
        for (const chunk of splitRandomly(all, seededRandom(seed).next)) scanner.push(chunk);
        expect(filtered.result(), `${format}, seed ${seed}`).toEqual(everything.result());
      }
      expect(everything.result().usage.output).toBeGreaterThan(0);
    }
  });

  it('skip the chat chunks that only say "usage": null, and keep a usage object however it is spaced', () => {
    const wanted = meteredEvents('openai-chat');
    expect(wanted('', '{"choices":[{"delta":{"content":"Hi"}}],"usage":null}')).toBe(false);
    expect(wanted('', '{"choices":[],"usage" :\t{ "prompt_tokens": 3}}')).toBe(true);
    expect(wanted('', '{"choices":[{"delta":{"tool_calls":[{"function":{"name":"f"}}]}}]}')).toBe(true);
  });
});
