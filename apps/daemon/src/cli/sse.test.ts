import { WarrenError } from '@warren/core';
import { describe, expect, it } from 'vitest';
import { SseDecoder, type SseEvent, subscriptionMessage } from './sse';

/** The bytes the daemon sent for `workspaces.logs` of a finished build, as captured with curl. */
const LOGS_WIRE = [
  'event: connected\ndata: {}\n\n',
  '\ndata: {"seq":1,"time":1795621460725,"level":"info","line":"Build start of admin/w1 on the local provisioner"}\n\n',
  '\ndata: {"seq":2,"time":1795621460986,"level":"info","line":"Build start succeeded."}\n\n',
  '\ndata: {"end":true,"status":"succeeded","error":null}\n\n',
  '\nevent: return\ndata: \n\n',
].join('');

function decodeAll(chunks: string[]): SseEvent[] {
  const decoder = new SseDecoder();
  return chunks.flatMap((chunk) => decoder.push(chunk));
}

describe('SseDecoder', () => {
  it('reads the daemon’s log stream into its events', () => {
    expect(decodeAll([LOGS_WIRE])).toEqual([
      { event: 'connected', data: '{}' },
      {
        event: 'message',
        data: '{"seq":1,"time":1795621460725,"level":"info","line":"Build start of admin/w1 on the local provisioner"}',
      },
      {
        event: 'message',
        data: '{"seq":2,"time":1795621460986,"level":"info","line":"Build start succeeded."}',
      },
      { event: 'message', data: '{"end":true,"status":"succeeded","error":null}' },
      { event: 'return', data: '' },
    ]);
  });

  it('gives the same events however the stream is cut into chunks', () => {
    const whole = decodeAll([LOGS_WIRE]);
    for (let cut = 0; cut <= LOGS_WIRE.length; cut++) {
      expect(decodeAll([LOGS_WIRE.slice(0, cut), LOGS_WIRE.slice(cut)])).toEqual(whole);
    }
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 200; round++) {
      const chunks: string[] = [];
      for (let at = 0; at < LOGS_WIRE.length; ) {
        const size = 1 + Math.floor(random() * 12);
        chunks.push(LOGS_WIRE.slice(at, at + size));
        at += size;
      }
      expect(decodeAll(chunks)).toEqual(whole);
    }
  });

  it('accepts CRLF and CR line ends, even a CRLF split across chunks', () => {
    const crlf = 'event: a\r\ndata: 1\r\n\r\ndata: 2\r\rdata: 3\n\n';
    const expected = [
      { event: 'a', data: '1' },
      { event: 'message', data: '2' },
      { event: 'message', data: '3' },
    ];
    expect(decodeAll([crlf])).toEqual(expected);
    for (let cut = 0; cut <= crlf.length; cut++) {
      expect(decodeAll([crlf.slice(0, cut), crlf.slice(cut)])).toEqual(expected);
    }
  });

  it('joins data lines, skips comments and keeps the id; an event without data is not dispatched', () => {
    const events = decodeAll([': keep-alive\n\nevent: ping\n\nid: 7\ndata: a\ndata:b\ndata\n\n']);
    expect(events).toEqual([{ event: 'message', data: 'a\nb\n', id: '7' }]);
  });

  it('waits for the blank line before dispatching', () => {
    const decoder = new SseDecoder();
    expect(decoder.push('data: {"seq":1}\n')).toEqual([]);
    expect(decoder.push('\n')).toEqual([{ event: 'message', data: '{"seq":1}' }]);
  });
});

describe('subscriptionMessage', () => {
  it('parses a data event’s JSON', () => {
    expect(subscriptionMessage({ event: 'message', data: '{"seq":3,"line":"x"}' })).toEqual({
      type: 'data',
      value: { seq: 3, line: 'x' },
    });
  });

  it('turns the server’s serialized error into a WarrenError with its code and sentence', () => {
    const message = subscriptionMessage({
      event: 'serialized-error',
      data: '{"code":-32004,"message":"No workspace is named \\"nope\\".","data":{"code":"NOT_FOUND","httpStatus":404}}',
    });
    expect(message.type).toBe('error');
    const error = (message as { error: WarrenError }).error;
    expect(error).toBeInstanceOf(WarrenError);
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe('No workspace is named "nope".');
  });

  it('reports an error it cannot read as an upstream problem rather than crashing', () => {
    const garbled = subscriptionMessage({ event: 'serialized-error', data: '<html>' });
    expect(garbled).toMatchObject({ type: 'error', error: { code: 'UPSTREAM' } });
    expect(subscriptionMessage({ event: 'message', data: 'not json' })).toMatchObject({
      type: 'error',
      error: { code: 'UPSTREAM' },
    });
  });

  it('ends at return and ignores the housekeeping events', () => {
    expect(subscriptionMessage({ event: 'return', data: '' })).toEqual({ type: 'return' });
    for (const event of ['connected', 'ping', 'restore-id']) {
      expect(subscriptionMessage({ event, data: '{}' })).toEqual({ type: 'ignore' });
    }
  });
});
