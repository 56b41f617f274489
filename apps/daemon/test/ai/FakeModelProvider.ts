import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  anthropicErrorBody,
  modelListBody as anthropicModelList,
  anthropicStreamError,
  countTokensBody,
  messageBody,
  messageEvents,
} from './anthropicWire';
import {
  chatCompletionBody,
  chatCompletionEvents,
  openAiErrorBody,
  modelListBody as openAiModelList,
  openAiStreamError,
  responseBody,
  responseEvents,
} from './openAiWire';
import {
  echoReply,
  isErrorReply,
  isFaultReply,
  isVerbatimReply,
  type ModelReply,
  type RecordedRequest,
  type ResolvedTurn,
  resolveTurn,
  type ScriptEntry,
  type ScriptedReply,
  type VerbatimReply,
  type WireContext,
} from './ScriptedReply';

export type * from './ScriptedReply';

/**
 * A model provider on a loopback port that speaks OpenAI's and Anthropic's wire formats exactly,
 * answers from a script, and records what it received. Node built-ins only, so a benchmark can
 * load it too; per request it does one JSON.parse and a few JSON.stringify calls, nothing more.
 */
export interface FakeModelProviderOptions {
  /** The key(s) clients must present, as `Authorization: Bearer` (OpenAI) or `x-api-key` (Anthropic). */
  apiKey?: string | string[];
  /** Take any key at all, for a proxy test that adds providers and keys of its own (default off). */
  acceptAnyKey?: boolean;
  /** What GET /v1/models lists for each provider. */
  openAiModels?: string[];
  anthropicModels?: string[];
  /** Answer 404 in the provider's shape for a model not in its list (the real APIs do; default off). */
  rejectUnknownModels?: boolean;
  /** The reply when the script is empty (default: `echo: <last user message>`). */
  defaultReply?: ScriptEntry;
  /** What count_tokens answers as input_tokens (default: an estimate from the request's size). */
  countTokens?: number;
  /** Recorded requests kept (default 10,000; older ones are dropped); 0 records nothing, for benchmarks. */
  maxRecorded?: number;
}

type Provider = RecordedRequest['provider'];
type Endpoint = 'chat' | 'responses' | 'messages' | 'count_tokens' | 'models' | 'model';

const DEFAULT_KEY = 'sk-fake-upstream-key';
const JSON_TYPE = 'application/json';
const SSE_TYPE = 'text/event-stream; charset=utf-8';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class FakeModelProvider {
  /** http://127.0.0.1:<port>, no trailing slash; the OpenAI SDK wants `${url}/v1`, Anthropic's `url`. */
  url = '';
  readonly acceptedKeys: Set<string>;
  /** Every request received, oldest first (up to maxRecorded). */
  readonly requests: RecordedRequest[] = [];
  /** Requests served since start, recorded or not. */
  requestCount = 0;
  readonly #server: http.Server;
  readonly #queue: ScriptEntry[] = [];
  readonly #options: Required<Omit<FakeModelProviderOptions, 'apiKey' | 'defaultReply' | 'countTokens'>> & {
    defaultReply: ScriptEntry;
    countTokens: number | undefined;
  };
  #defaultReply: ScriptEntry;
  readonly #idTag = randomBytes(8).toString('hex');
  #idCounter = 0;

  constructor(options: FakeModelProviderOptions = {}) {
    const keys = options.apiKey ?? DEFAULT_KEY;
    this.acceptedKeys = new Set(Array.isArray(keys) ? keys : [keys]);
    this.#options = {
      openAiModels: options.openAiModels ?? ['gpt-4.1', 'gpt-4.1-mini'],
      anthropicModels: options.anthropicModels ?? ['claude-sonnet-4-5', 'claude-haiku-4-5'],
      rejectUnknownModels: options.rejectUnknownModels ?? false,
      acceptAnyKey: options.acceptAnyKey ?? false,
      defaultReply: options.defaultReply ?? echoReply,
      countTokens: options.countTokens,
      maxRecorded: options.maxRecorded ?? 10_000,
    };
    this.#defaultReply = this.#options.defaultReply;
    this.#server = http.createServer((req, res) => this.#receive(req, res));
    this.#server.keepAliveTimeout = 30_000;
  }

  /** The first accepted key: what a gateway's central key should be. */
  get apiKey(): string {
    return this.acceptedKeys.values().next().value as string;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  /** Queues replies for the next model calls (chat, responses, messages), consumed in order. */
  script(replies: ScriptEntry[]): void {
    this.#queue.push(...replies);
  }

  /** The reply for every model call while the script is empty; none restores the one given at start. */
  setDefaultReply(entry: ScriptEntry = this.#options.defaultReply): void {
    this.#defaultReply = entry;
  }

  /** The last request received, failing if there was none. */
  lastRequest(): RecordedRequest {
    const request = this.requests.at(-1);
    if (!request) throw new Error('The fake model provider received no request.');
    return request;
  }

  /** Scripted replies not yet consumed. */
  pendingReplies(): number {
    return this.#queue.length;
  }

  /** Forgets the script, the recorded requests and any default reply set since start. */
  reset(): void {
    this.#queue.length = 0;
    this.requests.length = 0;
    this.#defaultReply = this.#options.defaultReply;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #id(prefix: string): string {
    return `${prefix}${this.#idTag}${(++this.#idCounter).toString(36).padStart(8, '0')}`;
  }

  #receive(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = chunks.length === 1 ? (chunks[0] as Buffer).toString() : Buffer.concat(chunks).toString();
      this.#handle(req, res, raw).catch((error: Error) => {
        if (!res.headersSent)
          this.#json(res, 500, { error: { message: error.message, type: 'server_error' } });
        else res.destroy(error);
      });
    });
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string): Promise<void> {
    this.requestCount++;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    const { headers } = req;
    let body: unknown;
    let badJson = false;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        badJson = true;
      }
    }
    // A base URL with a path prefix (`${url}/tenant/v1`) reaches the same routes.
    const v1 = path.indexOf('/v1/');
    const route = routeOf(method, v1 > 0 ? path.slice(v1) : path, headers);
    const provider: Provider = route?.provider ?? 'openai';
    const recorded: RecordedRequest = {
      method,
      path,
      query: q < 0 ? '' : url.slice(q + 1),
      headers,
      body,
      rawBody: raw,
      provider,
      abortedByClient: false,
      eventSentAt: [],
    };
    this.#record(recorded);

    if (!route) return this.#error(res, provider, 404, `Invalid URL (${method} ${path})`);
    const authFailure = this.#options.acceptAnyKey ? undefined : this.#authFailure(provider, headers);
    if (authFailure) return this.#error(res, provider, 401, authFailure);
    if (
      (route.endpoint === 'messages' || route.endpoint === 'count_tokens') &&
      !headers['anthropic-version']
    ) {
      return this.#error(res, provider, 400, 'anthropic-version: header is required');
    }
    if (route.endpoint === 'models' || route.endpoint === 'model') {
      return this.#models(res, provider, v1 > 0 ? path.slice(v1) : path);
    }
    if (badJson || typeof body !== 'object' || body === null) {
      return this.#error(res, provider, 400, 'The request body is not valid JSON.');
    }
    const fields = body as Record<string, unknown>;
    if (typeof fields.model !== 'string') return this.#error(res, provider, 400, 'model: Field required');
    if (this.#options.rejectUnknownModels && !this.#modelsOf(provider).includes(fields.model)) {
      const message =
        provider === 'openai'
          ? `The model \`${fields.model}\` does not exist or you do not have access to it.`
          : `model: ${fields.model}`;
      return this.#error(res, provider, 404, message);
    }
    if (route.endpoint === 'count_tokens') {
      const counted = this.#options.countTokens;
      const answer = counted === undefined ? countTokensBody(fields) : { input_tokens: counted };
      return this.#json(res, 200, answer, provider);
    }

    const entry = this.#queue.shift() ?? this.#defaultReply;
    const reply = typeof entry === 'function' ? entry(recorded) : entry;
    res.on('close', () => {
      if (!res.writableFinished) recorded.abortedByClient = true;
    });
    await this.#answer(res, route.endpoint, fields, raw.length, reply, recorded);
  }

  #record(request: RecordedRequest): void {
    const max = this.#options.maxRecorded;
    if (max <= 0) return;
    if (this.requests.length >= max) this.requests.splice(0, this.requests.length - Math.floor(max / 2));
    this.requests.push(request);
  }

  #modelsOf(provider: Provider): string[] {
    return provider === 'openai' ? this.#options.openAiModels : this.#options.anthropicModels;
  }

  #authFailure(provider: Provider, headers: http.IncomingHttpHeaders): string | undefined {
    const bearer = headers.authorization?.startsWith('Bearer ') ? headers.authorization.slice(7) : undefined;
    if (provider === 'openai') {
      if (!headers.authorization) {
        return "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
      }
      if (bearer !== undefined && this.acceptedKeys.has(bearer)) return undefined;
      const key = bearer ?? '';
      return `Incorrect API key provided: ${key.slice(0, 3)}***${key.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`;
    }
    // Anthropic takes the key as x-api-key (older clients, curl) or as a bearer token (SDK 1.x).
    const key = headers['x-api-key'] ?? bearer;
    if (!key) return 'x-api-key header is required';
    return typeof key === 'string' && this.acceptedKeys.has(key) ? undefined : 'invalid x-api-key';
  }

  #models(res: http.ServerResponse, provider: Provider, path: string): void {
    const models = this.#modelsOf(provider);
    const list = (ids: string[]) =>
      (provider === 'openai' ? openAiModelList(ids, 1_700_000_000) : anthropicModelList(ids)) as {
        data: object[];
      };
    if (path === '/v1/models') {
      this.#json(res, 200, list(models), provider);
      return;
    }
    const id = decodeURIComponent(path.slice('/v1/models/'.length));
    if (models.includes(id)) this.#json(res, 200, list([id]).data[0] as object, provider);
    else
      this.#error(
        res,
        provider,
        404,
        provider === 'openai' ? `The model '${id}' does not exist` : `model: ${id}`,
      );
  }

  async #answer(
    res: http.ServerResponse,
    endpoint: Endpoint,
    body: Record<string, unknown>,
    requestChars: number,
    reply: ScriptedReply,
    recorded: RecordedRequest,
  ): Promise<void> {
    const provider = recorded.provider;
    if (reply.delayMs) await sleep(reply.delayMs);
    if (res.destroyed) return;
    const streaming = body.stream === true;
    const turnOf = (r: ModelReply | undefined) =>
      resolveTurn(r ?? echoReply(recorded), body.model as string, requestChars);
    const ctx: WireContext = { id: (p) => this.#id(p), created: Math.floor(Date.now() / 1000), body };

    if (isVerbatimReply(reply)) return this.#verbatim(res, provider, reply, recorded);
    if (isErrorReply(reply)) {
      const message = reply.message ?? defaultErrorMessage(reply.status);
      if (!streaming || reply.afterChunks === undefined) {
        const headers: Record<string, string> =
          reply.retryAfterSeconds === undefined ? {} : { 'retry-after': String(reply.retryAfterSeconds) };
        return this.#error(res, provider, reply.status, message, reply.type, headers);
      }
      const events = formatEvents(endpoint, turnOf(reply.reply), ctx).slice(0, reply.afterChunks);
      const tail =
        provider === 'openai'
          ? openAiStreamError(reply.status, message, reply.type)
          : anthropicStreamError(reply.status, message, this.#id('req_'), reply.type);
      return this.#stream(res, provider, [...events, tail], reply.reply?.chunkDelayMs ?? 0, 'end', recorded);
    }
    if (isFaultReply(reply)) {
      if (!streaming || reply.afterChunks === undefined) return fault(res, reply.fault);
      const events = formatEvents(endpoint, turnOf(reply.reply), ctx).slice(0, reply.afterChunks);
      return this.#stream(res, provider, events, reply.reply?.chunkDelayMs ?? 0, reply.fault, recorded);
    }
    const turn = turnOf(reply);
    if (!streaming) return this.#json(res, 200, formatBody(endpoint, turn, ctx), provider);
    return this.#stream(
      res,
      provider,
      formatEvents(endpoint, turn, ctx),
      reply.chunkDelayMs ?? 0,
      'end',
      recorded,
    );
  }

  async #verbatim(
    res: http.ServerResponse,
    provider: Provider,
    reply: VerbatimReply,
    recorded: RecordedRequest,
  ): Promise<void> {
    if ('events' in reply)
      return this.#stream(res, provider, reply.events, 0, reply.ending ?? 'end', recorded);
    this.#json(res, reply.status ?? 200, reply.body as object, provider, reply.headers);
  }

  async #stream(
    res: http.ServerResponse,
    provider: Provider,
    events: (string | { waitMs: number })[],
    chunkDelayMs: number,
    ending: 'end' | 'reset' | 'hang',
    recorded: RecordedRequest,
  ): Promise<void> {
    res.writeHead(200, {
      'content-type': SSE_TYPE,
      'cache-control': 'no-cache',
      [requestIdHeader(provider)]: this.#id('req_'),
    });
    if (!chunkDelayMs && ending === 'end' && events.every((event) => typeof event === 'string')) {
      res.end(events.join(''));
      return;
    }
    res.flushHeaders();
    for (const event of events) {
      if (typeof event !== 'string') {
        await sleep(event.waitMs);
        continue;
      }
      if (res.destroyed) return;
      res.write(event);
      recorded.eventSentAt.push(performance.now());
      if (chunkDelayMs) await sleep(chunkDelayMs);
    }
    if (ending === 'end') res.end();
    // Let the events already written reach the client before the RST, which would discard them.
    else if (ending === 'reset') res.write('', () => setTimeout(() => fault(res, 'reset'), 50));
  }

  #json(
    res: http.ServerResponse,
    status: number,
    body: object,
    provider: Provider = 'openai',
    extra = {},
  ): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': JSON_TYPE,
      'content-length': Buffer.byteLength(text),
      [requestIdHeader(provider)]: this.#id('req_'),
      ...extra,
    });
    res.end(text);
  }

  #error(
    res: http.ServerResponse,
    provider: Provider,
    status: number,
    message: string,
    type?: string,
    headers: Record<string, string> = {},
  ): void {
    const body =
      provider === 'openai'
        ? openAiErrorBody(status, message, type)
        : anthropicErrorBody(status, message, this.#id('req_'), type);
    this.#json(res, status, body, provider, headers);
  }
}

/** Starts a fake provider on a free loopback port. */
export async function startFakeModelProvider(
  options: FakeModelProviderOptions = {},
): Promise<FakeModelProvider> {
  return new FakeModelProvider(options).listen();
}

function routeOf(
  method: string,
  path: string,
  headers: http.IncomingHttpHeaders,
): { provider: Provider; endpoint: Endpoint } | undefined {
  if (method === 'POST') {
    if (path === '/v1/chat/completions') return { provider: 'openai', endpoint: 'chat' };
    if (path === '/v1/responses') return { provider: 'openai', endpoint: 'responses' };
    if (path === '/v1/messages') return { provider: 'anthropic', endpoint: 'messages' };
    if (path === '/v1/messages/count_tokens') return { provider: 'anthropic', endpoint: 'count_tokens' };
    return undefined;
  }
  if (method !== 'GET' || !path.startsWith('/v1/models')) return undefined;
  // Both providers list models at GET /v1/models; Anthropic's clients always send anthropic-version.
  const provider: Provider = headers['anthropic-version'] || headers['x-api-key'] ? 'anthropic' : 'openai';
  if (path === '/v1/models') return { provider, endpoint: 'models' };
  return path.indexOf('/', '/v1/models/'.length) < 0 ? { provider, endpoint: 'model' } : undefined;
}

function formatBody(endpoint: Endpoint, turn: ResolvedTurn, ctx: WireContext): object {
  if (endpoint === 'chat') return chatCompletionBody(turn, ctx);
  if (endpoint === 'responses') return responseBody(turn, ctx);
  return messageBody(turn, ctx);
}

function formatEvents(endpoint: Endpoint, turn: ResolvedTurn, ctx: WireContext): string[] {
  if (endpoint === 'chat') return chatCompletionEvents(turn, ctx);
  if (endpoint === 'responses') return responseEvents(turn, ctx);
  return messageEvents(turn, ctx);
}

function requestIdHeader(provider: Provider): string {
  return provider === 'openai' ? 'x-request-id' : 'request-id';
}

function fault(res: http.ServerResponse, kind: 'reset' | 'hang'): void {
  // A hang leaves the response open; close() or the client ends it.
  if (kind === 'reset') res.socket?.resetAndDestroy();
}

function defaultErrorMessage(status: number): string {
  if (status === 429) return 'Rate limit reached. Please try again later.';
  if (status === 529) return 'Overloaded';
  if (status >= 500) return 'The server had an error while processing your request.';
  return `The request failed with status ${status}.`;
}
