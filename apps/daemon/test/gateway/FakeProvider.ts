import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { anthropicJson, openAiChatJson, openAiResponsesJson } from './wireSamples';

/** A request as the fake provider received it. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown> | undefined;
  /** The client (the gateway) closed the connection before the answer was complete. */
  aborted: boolean;
  /** performance.now() when each scripted event was written. */
  eventSentAt: number[];
}

/** What the fake answers one request with. */
export type FakeAnswer =
  | { status?: number; json: unknown; headers?: Record<string, string> }
  | { events: (string | { waitMs: number })[]; thenReset?: boolean; thenHang?: boolean }
  | { reset: true }
  | { hang: true };

/** The provider's usual answer for each path, not streamed. */
export function defaultAnswer(request: ReceivedRequest): FakeAnswer {
  const model = String(request.json?.model ?? 'unknown');
  if (request.path.endsWith('/chat/completions')) return { json: openAiChatJson(model) };
  if (request.path.endsWith('/responses')) return { json: openAiResponsesJson(model) };
  if (request.path.endsWith('/messages/count_tokens')) return { json: { input_tokens: 42 } };
  if (request.path.endsWith('/messages')) return { json: anthropicJson(model) };
  return {
    status: 404,
    json: { error: { message: `no route ${request.path}`, type: 'invalid_request_error' } },
  };
}

/**
 * A minimal model provider on 127.0.0.1: records what it received (headers included) and
 * answers in either provider's format as the test scripts it, streaming with pauses, or
 * failing (500, connection reset, silence).
 */
export class FakeProvider {
  readonly requests: ReceivedRequest[] = [];
  script: (request: ReceivedRequest) => FakeAnswer = defaultAnswer;
  readonly #sockets = new Set<Socket>();

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(): Promise<FakeProvider> {
    let fake: FakeProvider | undefined;
    const server = http.createServer((req, res) => {
      fake?.answer(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeProvider(server, `http://127.0.0.1:${port}`);
    return fake;
  }

  /** The last request received, failing if there was none. */
  last(): ReceivedRequest {
    const request = this.requests[this.requests.length - 1];
    if (!request) throw new Error('The fake provider received no request.');
    return request;
  }

  /** Whether the last request was aborted by its client, waiting up to `timeoutMs` for it. */
  async lastAborted(timeoutMs = 1500): Promise<boolean> {
    const request = this.last();
    const until = Date.now() + timeoutMs;
    while (!request.aborted && Date.now() < until) await sleep(10);
    return request.aborted;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(body) as Record<string, unknown>;
    } catch {}
    const received: ReceivedRequest = {
      method: req.method ?? '',
      path: (req.url ?? '').split('?')[0] ?? '',
      headers: req.headers,
      body,
      json,
      aborted: false,
      eventSentAt: [],
    };
    this.requests.push(received);
    res.once('close', () => {
      if (!res.writableFinished) received.aborted = true;
    });
    const answer = this.script(received);
    if ('reset' in answer) return void req.socket.resetAndDestroy();
    if ('hang' in answer) return;
    if ('json' in answer) {
      const text = JSON.stringify(answer.json);
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
      res.end(text);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const event of answer.events) {
      if (typeof event !== 'string') {
        await sleep(event.waitMs);
        continue;
      }
      if (res.destroyed) return;
      res.write(event);
      received.eventSentAt.push(performance.now());
    }
    if (answer.thenReset) return void req.socket.resetAndDestroy();
    if (answer.thenHang) return;
    res.end();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
