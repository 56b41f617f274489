import { isErrorCode, type Secret, WarrenError } from '@warren/core';
import { transportFailure } from './apiClient';

/** One server-sent event: `event` is "message" unless the server named it. */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * The text/event-stream format, fed chunk by chunk as it arrives: lines end in LF, CRLF or CR,
 * a blank line dispatches the event, `:` lines are comments, `data:` lines join with LF.
 */
export class SseDecoder {
  #buffer = '';
  #event = '';
  #data: string[] = [];
  #id: string | undefined;

  push(chunk: string): SseEvent[] {
    this.#buffer += chunk;
    const events: SseEvent[] = [];
    for (;;) {
      const end = this.#buffer.search(/\r\n|\r|\n/);
      // A CR at the very end may be the first half of a CRLF split across chunks.
      if (end < 0 || (end === this.#buffer.length - 1 && this.#buffer[end] === '\r')) break;
      const line = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + (this.#buffer.startsWith('\r\n', end) ? 2 : 1));
      const event = this.#line(line);
      if (event) events.push(event);
    }
    return events;
  }

  #line(line: string): SseEvent | undefined {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') this.#event = value;
    else if (field === 'data') this.#data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
    return undefined;
  }

  #dispatch(): SseEvent | undefined {
    const [event, data, id] = [this.#event, this.#data, this.#id];
    this.#event = '';
    this.#data = [];
    this.#id = undefined;
    // An event with no data line is not dispatched (the id it set still counts, per the spec).
    if (data.length === 0) return undefined;
    return { event: event || 'message', data: data.join('\n'), ...(id === undefined ? {} : { id }) };
  }
}

/** What a tRPC subscription's event means to the reader. */
export type SubscriptionMessage =
  | { type: 'data'; value: unknown }
  | { type: 'error'; error: WarrenError }
  | { type: 'return' }
  | { type: 'ignore' };

/**
 * tRPC v11's SSE protocol: `connected`, `ping` and `restore-id` are housekeeping, a plain
 * message carries the JSON of one yielded value, `serialized-error` the server's formatted
 * error, and `return` the end of the stream.
 */
export function subscriptionMessage(event: SseEvent): SubscriptionMessage {
  switch (event.event) {
    case 'message':
      try {
        return { type: 'data', value: JSON.parse(event.data) };
      } catch {
        return {
          type: 'error',
          error: new WarrenError('UPSTREAM', 'the server sent a stream event that is not JSON'),
        };
      }
    case 'serialized-error':
      return { type: 'error', error: serializedError(event.data) };
    case 'return':
      return { type: 'return' };
    default:
      return { type: 'ignore' };
  }
}

/** The server's error formatter wrote `{ message, data: { code } }`; anything else is reported as it is. */
function serializedError(data: string): WarrenError {
  let shape: { message?: unknown; data?: { code?: unknown } } | undefined;
  try {
    shape = JSON.parse(data);
  } catch {
    shape = undefined;
  }
  const code = shape?.data?.code;
  const message =
    typeof shape?.message === 'string' ? shape.message : 'the server ended the stream with an error';
  return new WarrenError(isErrorCode(code) ? code : 'UPSTREAM', message);
}

/**
 * The values a subscription yields, read over fetch (Node 20 has no EventSource). Ends when the
 * server sends `return`; a stream cut short throws UNAVAILABLE so the caller may resume it.
 */
export async function* subscribe(
  server: { url: string; token: Secret },
  path: string,
  input: unknown,
  signal?: AbortSignal,
): AsyncGenerator<unknown> {
  const url = `${server.url}/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `Bearer ${server.token.reveal()}`, accept: 'text/event-stream' },
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    throw new WarrenError('UNAVAILABLE', `cannot reach Warren at ${server.url}: ${transportFailure(error)}`);
  }
  if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream') || !response.body) {
    await response.body?.cancel();
    throw new WarrenError(
      'UPSTREAM',
      `${server.url} did not answer like a Warren server (HTTP ${response.status}).`,
    );
  }
  const decoder = new SseDecoder();
  const text = new TextDecoder();
  try {
    for await (const chunk of response.body) {
      for (const event of decoder.push(text.decode(chunk, { stream: true }))) {
        const message = subscriptionMessage(event);
        if (message.type === 'data') yield message.value;
        else if (message.type === 'error') throw message.error;
        else if (message.type === 'return') return;
      }
    }
  } catch (error) {
    if (error instanceof WarrenError || signal?.aborted) throw error;
    throw new WarrenError(
      'UNAVAILABLE',
      `the connection to ${server.url} was lost: ${transportFailure(error)}`,
    );
  }
  throw new WarrenError('UNAVAILABLE', `${server.url} closed the stream before it ended`);
}
