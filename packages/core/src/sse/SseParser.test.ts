import { describe, expect, it } from 'vitest';
import { seededRandom, splitRandomly } from '../../test-support/seededRandom';
import { type SseEvent, SseParser } from './SseParser';

function parseChunks(chunks: Uint8Array[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = new SseParser((event) => events.push(event));
  for (const chunk of chunks) parser.push(chunk);
  return events;
}

const bytes = (text: string) => new TextEncoder().encode(text);

/** An Anthropic stream as the API sends it, with a multi-byte character and CRLF and CR endings mixed in. */
const WIRE = [
  'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":12}}}\n\n',
  ': keep-alive comment\n\n',
  'event: content_block_delta\r\ndata: {"type":"content_block_delta","delta":{"text":"Grüße 👋"}}\r\n\r\n',
  'event: ping\rdata: {"type": "ping"}\r\r',
  'data: first line\ndata: second line\n\n',
  'data:no-space\n\n',
  'event: message_stop\ndata: {"type":"message_stop"}\n\n',
].join('');

const EXPECTED: Pick<SseEvent, 'event' | 'data'>[] = [
  { event: 'message_start', data: '{"type":"message_start","message":{"usage":{"input_tokens":12}}}' },
  { event: 'content_block_delta', data: '{"type":"content_block_delta","delta":{"text":"Grüße 👋"}}' },
  { event: 'ping', data: '{"type": "ping"}' },
  { event: '', data: 'first line\nsecond line' },
  { event: '', data: 'no-space' },
  { event: 'message_stop', data: '{"type":"message_stop"}' },
];

/** What the daemon sent for `workspaces.logs` of a finished build (captured with curl, trimmed). */
const LOGS_WIRE = [
  'event: connected\ndata: {}\n\n',
  '\ndata: {"seq":1,"level":"info","line":"Build start of admin/w1"}\n\n',
  '\ndata: {"end":true,"status":"succeeded","error":null}\n\n',
  '\nevent: return\ndata: \n\n',
].join('');

describe('SseParser', () => {
  it('reads every event of a stream that arrives in one piece', () => {
    expect(parseChunks([bytes(WIRE)])).toEqual(EXPECTED);
  });

  it('reads the same events byte by byte, including a CRLF and a UTF-8 character split in two', () => {
    const all = bytes(WIRE);
    expect(parseChunks([...all].map((b) => Uint8Array.of(b)))).toEqual(EXPECTED);
  });

  it('gives identical events for 500 random splits of the same bytes (fuzz)', () => {
    const all = bytes(WIRE);
    for (let seed = 1; seed <= 500; seed++) {
      expect(parseChunks(splitRandomly(all, seededRandom(seed).next)), `seed ${seed}`).toEqual(EXPECTED);
    }
  });

  it('knows when the bytes so far end between events, for appending an error event', () => {
    const parser = new SseParser(() => {});
    expect(parser.atBoundary).toBe(true);
    parser.push(bytes('data: {"a":'));
    expect(parser.atBoundary).toBe(false);
    parser.push(bytes('1}\n'));
    expect(parser.atBoundary).toBe(false);
    parser.push(bytes('\n'));
    expect(parser.atBoundary).toBe(true);
  });

  it('does not dispatch an event without data', () => {
    expect(parseChunks([bytes('event: lonely\n\n: just a comment\n\n')])).toEqual([]);
  });

  it('reads the daemon’s own log stream (tRPC over SSE), however it is cut in two', () => {
    const wire = bytes(LOGS_WIRE);
    const whole = parseChunks([wire]);
    expect(whole).toEqual([
      { event: 'connected', data: '{}' },
      { event: '', data: '{"seq":1,"level":"info","line":"Build start of admin/w1"}' },
      { event: '', data: '{"end":true,"status":"succeeded","error":null}' },
      { event: 'return', data: '' },
    ]);
    for (let cut = 0; cut <= wire.length; cut++) {
      expect(parseChunks([wire.subarray(0, cut), wire.subarray(cut)]), `cut ${cut}`).toEqual(whole);
    }
  });

  it('keeps an event’s id for that event only, and ignores an id with a NUL in it', () => {
    const events = parseChunks([bytes('id: 7\ndata: a\ndata:b\ndata\n\ndata: c\n\nid: x\0y\ndata: d\n\n')]);
    expect(events).toStrictEqual([
      { event: '', data: 'a\nb\n', id: '7' },
      { event: '', data: 'c', id: undefined },
      { event: '', data: 'd', id: undefined },
    ]);
  });

  it('waits for the blank line before dispatching', () => {
    const events: SseEvent[] = [];
    const parser = new SseParser((event) => events.push(event));
    parser.push(bytes('data: {"seq":1}\n'));
    expect(events).toEqual([]);
    parser.push(bytes('\n'));
    expect(events).toEqual([{ event: '', data: '{"seq":1}' }]);
  });
});
