import { Agent, fetch } from 'undici';
import { describe, expect, it } from 'vitest';
import { dialects } from '../harness';
import {
  addModel,
  addProvider,
  anthropicAuth,
  callGateway,
  capturedReply,
  chatBody,
  expectProviderError,
  gatewayUrl,
  markRows,
  messagesBody,
  newProviderKey,
  openAiAuth,
  recorded,
  useGatewayWorld,
} from './gatewayFixtures';
import { anthropicStream, OPENAI_PRICES, openAiChatStream } from './wireSamples';

const UPSTREAM_TIMEOUT_MS = 500;

describe.each(dialects)('gateway upstream faults, on %s', (dialect) => {
  const w = useGatewayWorld(dialect, {
    env: { WARREN_AI_UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS) },
  });

  it('fails a non-streamed call over to the provider’s next key when the first gets a 5xx', async () => {
    const [first, second] = [newProviderKey('sk-first'), newProviderKey('sk-second')];
    const providerId = await addProvider(w.t, {
      name: 'twokeys',
      kind: 'openai-compatible',
      baseUrl: `${w.fake.url}/v1`,
      keys: [first, second],
    });
    await addModel(w.t, providerId, 'two-key-model', OPENAI_PRICES);
    w.fake.setDefaultReply((request) =>
      request.headers.authorization === `Bearer ${first}`
        ? { status: 503, body: { error: { message: 'overloaded', type: 'server_error' } } }
        : capturedReply(request),
    );
    const before = w.fake.requests.length;
    const since = await markRows(w.t);
    const reply = await callGateway(w.t, '/openai/v1/chat/completions', {
      headers: openAiAuth(w.owner.token),
      body: chatBody({ model: 'two-key-model' }),
    });
    expect(reply.status).toBe(200);
    expect(w.fake.requests.slice(before).map((r) => r.headers.authorization)).toEqual([
      `Bearer ${first}`,
      `Bearer ${second}`,
    ]);
    const [row] = await recorded(w.t, since);
    expect(row).toMatchObject({ status: 200, provider_id: providerId, input_tokens: 176 });
  });

  it('fails a non-streamed call over to another provider of the same model when the connection resets', async () => {
    const backupKey = newProviderKey('sk-backup');
    // "aaa-primary" sorts first, so it owns the bare model name; "zzz-backup" offers the same model.
    const primary = await addProvider(w.t, {
      name: 'aaa-primary',
      kind: 'openai-compatible',
      baseUrl: `${w.fake.url}/primary/v1`,
      keys: [newProviderKey('sk-primary')],
    });
    const backup = await addProvider(w.t, {
      name: 'zzz-backup',
      kind: 'openai-compatible',
      baseUrl: `${w.fake.url}/backup/v1`,
      keys: [backupKey],
    });
    await addModel(w.t, primary, 'shared-model', OPENAI_PRICES);
    await addModel(w.t, backup, 'shared-model', OPENAI_PRICES);
    w.fake.setDefaultReply((request) =>
      request.path.startsWith('/primary/') ? { fault: 'reset' } : capturedReply(request),
    );
    const since = await markRows(w.t);
    const reply = await callGateway(w.t, '/openai/v1/chat/completions', {
      headers: openAiAuth(w.owner.token),
      body: chatBody({ model: 'shared-model' }),
    });
    expect(reply.status).toBe(200);
    expect(w.fake.lastRequest().headers.authorization).toBe(`Bearer ${backupKey}`);
    const [row] = await recorded(w.t, since);
    expect(row).toMatchObject({ status: 200, provider_id: backup });
  });

  it('passes the provider’s own 500 through as it is when there is nothing to fail over to', async () => {
    const upstreamError = {
      error: { message: 'The server had an error.', type: 'server_error', param: null, code: null },
    };
    w.fake.setDefaultReply(() => ({ status: 500, body: upstreamError }));
    const since = await markRows(w.t);
    const reply = await callGateway(w.t, '/openai/v1/chat/completions', {
      headers: openAiAuth(w.owner.token),
      body: chatBody(),
    });
    expect(reply.status).toBe(500);
    expect(reply.json).toEqual(upstreamError);
    const [row] = await recorded(w.t, since);
    expect(row).toMatchObject({ status: 500, error: 'The server had an error.' });
  });

  it('turns a connection reset into a provider-shaped 502', async () => {
    w.fake.setDefaultReply(() => ({ fault: 'reset' }));
    expectProviderError(
      await callGateway(w.t, '/openai/v1/chat/completions', {
        headers: openAiAuth(w.owner.token),
        body: chatBody(),
      }),
      'openai',
      502,
      'server_error',
    );
    expectProviderError(
      await callGateway(w.t, '/anthropic/v1/messages', {
        headers: anthropicAuth(w.owner.token),
        body: messagesBody(),
      }),
      'anthropic',
      502,
      'api_error',
    );
  });

  it('turns a silent upstream into a provider-shaped 504 after the upstream timeout', async () => {
    w.fake.setDefaultReply(() => ({ fault: 'hang' }));
    const started = Date.now();
    const reply = await callGateway(w.t, '/anthropic/v1/messages', {
      headers: anthropicAuth(w.owner.token),
      body: messagesBody(),
    });
    expectProviderError(reply, 'anthropic', 504, 'timeout_error');
    expect(Date.now() - started).toBeGreaterThanOrEqual(UPSTREAM_TIMEOUT_MS - 50);
    expect(Date.now() - started).toBeLessThan(UPSTREAM_TIMEOUT_MS + 3000);
  });

  it('ends a stream whose upstream resets between events with the provider’s error event', async () => {
    const events = anthropicStream();
    w.fake.setDefaultReply(() => ({ events: [...events.slice(0, 3), { waitMs: 100 }], ending: 'reset' }));
    const since = await markRows(w.t);
    const reply = await callGateway(w.t, '/anthropic/v1/messages', {
      headers: anthropicAuth(w.owner.token),
      body: messagesBody({ stream: true }),
    });
    expect(reply.status).toBe(200);
    expect(reply.text.startsWith(events.slice(0, 3).join(''))).toBe(true);
    expect(reply.text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"api_error"/);
    const [row] = await recorded(w.t, since);
    // What arrived before the break is still counted.
    expect(row).toMatchObject({ status: 502, input_tokens: 50, cache_read_tokens: 8000 });
  });

  it('aborts the upstream request when the client disconnects, and records the call as 499', async () => {
    const [first, ...rest] = openAiChatStream();
    w.fake.setDefaultReply(() => ({ events: [first as string, { waitMs: 2000 }, ...rest] }));
    const since = await markRows(w.t);
    const abort = new AbortController();
    // A client of its own: after an abort, undici opens a spare connection that would idle until shutdown.
    const client = new Agent();
    const response = await fetch(gatewayUrl(w.t, '/openai/v1/chat/completions'), {
      method: 'POST',
      headers: { ...openAiAuth(w.owner.token), 'content-type': 'application/json' },
      body: JSON.stringify(chatBody({ stream: true })),
      signal: abort.signal,
      dispatcher: client,
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    abort.abort();
    await client.destroy();
    await expect.poll(() => w.fake.lastRequest().abortedByClient, { timeout: 1500 }).toBe(true);
    const [row] = await recorded(w.t, since);
    expect(row).toMatchObject({ status: 499, streaming: 1 });
    expect(JSON.parse(row?.tool_calls ?? '')).toEqual([{ id: 'call_weather1', name: 'get_weather' }]);
  });
});
