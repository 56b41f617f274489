import http from 'node:http';

export interface SseEvent {
  event: string;
  data: string;
}

/**
 * A server-sent-event stream read event by event, as the tRPC subscription link reads
 * /api/trpc/<path>: a `connected` event, then data events, `serialized-error` or `return`.
 * Built on node:http rather than fetch: an aborted fetch leaves its socket open for seconds,
 * which holds up the daemon's shutdown.
 */
export class SseStream {
  #buffer = '';
  #ended = false;
  #wake: (() => void) | undefined;

  private constructor(
    private readonly request: http.ClientRequest,
    readonly response: http.IncomingMessage,
  ) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      this.#buffer += chunk;
      this.#wake?.();
    });
    const end = () => {
      this.#ended = true;
      this.#wake?.();
    };
    response.on('end', end);
    response.on('close', end);
    response.on('error', end);
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
    return new Promise((resolve, reject) => {
      const request = http.get(url, { headers: { accept: 'text/event-stream', ...headers } });
      request.once('response', (response) => resolve(new SseStream(request, response)));
      request.once('error', reject);
    });
  }

  get status(): number {
    return this.response.statusCode ?? 0;
  }

  get isEventStream(): boolean {
    return (this.response.headers['content-type'] ?? '').startsWith('text/event-stream');
  }

  /** The next event; 'end' when the server closed the stream, 'timeout' when nothing came in time. */
  async next(timeoutMs: number): Promise<SseEvent | 'end' | 'timeout'> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const boundary = this.#buffer.indexOf('\n\n');
      if (boundary >= 0) {
        const block = this.#buffer.slice(0, boundary);
        this.#buffer = this.#buffer.slice(boundary + 2).replace(/^\n+/, '');
        const event = parseEvent(block);
        if (event) return event;
        continue;
      }
      if (this.#ended) return 'end';
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  /** Skips data events until the stream ends; false if it is still open after `timeoutMs`. */
  async endsWithin(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = await this.next(Math.max(0, deadline - Date.now()));
      if (event === 'end') return true;
      if (event === 'timeout') return false;
    }
  }

  /** The rest of a response that turned out not to be a stream. */
  async text(): Promise<string> {
    while (!this.#ended) await this.next(60_000);
    return this.#buffer;
  }

  close(): void {
    this.request.destroy();
  }
}

function parseEvent(block: string): SseEvent | undefined {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  return data.length || event !== 'message' ? { event, data: data.join('\n') } : undefined;
}
