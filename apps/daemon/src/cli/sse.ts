import { isErrorCode, type Secret, type SseEvent, SseParser, WarrenError } from '@warren/core';
import { transportFailure } from './apiClient';

/** What a tRPC subscription's event means to the reader. */
export type SubscriptionMessage =
  | { type: 'data'; value: unknown }
  | { type: 'error'; error: WarrenError }
  | { type: 'return' }
  | { type: 'ignore' };

/**
 * tRPC v11's SSE protocol: `connected`, `ping` and `restore-id` are housekeeping, a plain
 * (unnamed) message carries the JSON of one yielded value, `serialized-error` the server's formatted
 * error, and `return` the end of the stream.
 */
export function subscriptionMessage(event: Pick<SseEvent, 'event' | 'data'>): SubscriptionMessage {
  switch (event.event) {
    case '':
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
  const events: SseEvent[] = [];
  const parser = new SseParser((event) => events.push(event));
  try {
    for await (const chunk of response.body) {
      parser.push(chunk);
      for (const event of events.splice(0)) {
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
