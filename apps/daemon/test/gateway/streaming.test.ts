import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { OVERHEAD_HEADER } from '../../src/gateway/forwardedHeaders';
import { dialects } from '../harness';
import {
  anthropicAuth,
  callGateway,
  chatBody,
  gatewayUrl,
  markRows,
  messagesBody,
  openAiAuth,
  recorded,
  useGatewayWorld,
} from './gatewayFixtures';
import {
  ANTHROPIC_COST_PICO,
  anthropicStream,
  OPENAI_CHAT_COST_PICO,
  OPENAI_RESPONSES_COST_PICO,
  openAiChatStream,
  openAiResponsesStream,
} from './wireSamples';

const ANTHROPIC_USAGE = {
  input_tokens: 50,
  cache_read_tokens: 8000,
  cache_write_tokens: 2000,
  output_tokens: 120,
};
const CHAT_USAGE = { input_tokens: 176, cache_read_tokens: 1024, cache_write_tokens: 0, output_tokens: 35 };
const RESPONSES_USAGE = {
  input_tokens: 388,
  cache_read_tokens: 512,
  cache_write_tokens: 0,
  output_tokens: 60,
};

describe.each(dialects)('gateway streaming and records, on %s', (dialect) => {
  const w = useGatewayWorld(dialect);

  it('passes each streamed event on as it arrives: event 1 reaches the client before event 2 is sent', async () => {
    const [first, second, ...rest] = anthropicStream();
    w.fake.setDefaultReply(() => ({ events: [first as string, { waitMs: 300 }, second as string, ...rest] }));
    const response = await fetch(gatewayUrl(w.t, '/anthropic/v1/messages'), {
      method: 'POST',
      headers: { ...anthropicAuth(w.owner.token), 'content-type': 'application/json' },
      body: JSON.stringify(messagesBody({ stream: true })),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(Number(response.headers.get(OVERHEAD_HEADER))).toBeGreaterThan(0);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    let firstEventAt = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
      if (!firstEventAt && text.includes('message_start')) firstEventAt = performance.now();
    }
    const secondSentAt = w.fake.lastRequest().eventSentAt[1] as number;
    expect(firstEventAt).toBeGreaterThan(0);
    expect(firstEventAt).toBeLessThan(secondSentAt);
    // The bytes are the provider's, unchanged.
    expect(text).toBe(anthropicStream().join(''));
  });

  it('records an Anthropic stream’s usage, exact cost and tool calls from message_start and message_delta', async () => {
    w.fake.setDefaultReply(() => ({ events: anthropicStream() }));
    const since = await markRows(w.t);
    const reply = await callGateway(w.t, '/anthropic/v1/messages', {
      headers: anthropicAuth(w.owner.token),
      body: messagesBody({ stream: true }),
    });
    expect(reply.status).toBe(200);
    const [row] = await recorded(w.t, since);
    expect(row).toMatchObject({
      user_id: w.owner.userId,
      provider_id: w.providers.anthropic,
      provider_kind: 'anthropic',
      endpoint: 'messages',
      model: 'claude-sonnet-4-5',
      streaming: 1,
      credential: 'central',
      status: 200,
      error: null,
      chat_id: null,
      ...ANTHROPIC_USAGE,
      cost_pico_usd: ANTHROPIC_COST_PICO,
    });
    expect(row?.api_key_id).toBeTruthy();
    expect(JSON.parse(row?.tool_calls ?? '')).toEqual([{ id: 'toolu_01A', name: 'read_file' }]);
    expect(row?.ttfb_ms).not.toBeNull();
    expect(row?.total_ms).toBeGreaterThanOrEqual(row?.ttfb_ms ?? 0);
    expect(row?.overhead_ms).toBeGreaterThan(0);
  });

  it('records the same usage and cost for the Anthropic call not streamed', async () => {
    const since = await markRows(w.t);
    await callGateway(w.t, '/anthropic/v1/messages', {
      headers: anthropicAuth(w.owner.token),
      body: messagesBody(),
    });
    const [row] = await recorded(w.t, since);
    expect(row).toMatchObject({
      streaming: 0,
      status: 200,
      ...ANTHROPIC_USAGE,
      cost_pico_usd: ANTHROPIC_COST_PICO,
    });
    expect(JSON.parse(row?.tool_calls ?? '')).toEqual([{ id: 'toolu_01A', name: 'read_file' }]);
  });

  it('asks OpenAI for usage on a streamed chat completion and records it from the final chunk', async () => {
    w.fake.setDefaultReply(() => ({ events: openAiChatStream() }));
    const since = await markRows(w.t);
    const reply = await callGateway(w.t, '/openai/v1/chat/completions', {
      headers: openAiAuth(w.owner.token),
      body: chatBody({ stream: true }),
    });
    expect(reply.text).toBe(openAiChatStream().join(''));
    expect(w.fake.lastRequest().body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
    const [row] = await recorded(w.t, since);
    expect(row).toMatchObject({
      endpoint: 'chat.completions',
      model: 'gpt-4.1',
      streaming: 1,
      ...CHAT_USAGE,
      cost_pico_usd: OPENAI_CHAT_COST_PICO,
    });
    expect(JSON.parse(row?.tool_calls ?? '')).toEqual([
      { id: 'call_weather1', name: 'get_weather' },
      { id: 'call_time2', name: 'get_time' },
    ]);
  });

  it('records the same usage and cost for the chat completion not streamed', async () => {
    const since = await markRows(w.t);
    await callGateway(w.t, '/openai/v1/chat/completions', {
      headers: openAiAuth(w.owner.token),
      body: chatBody(),
    });
    const [row] = await recorded(w.t, since);
    expect(row).toMatchObject({ streaming: 0, ...CHAT_USAGE, cost_pico_usd: OPENAI_CHAT_COST_PICO });
    expect(JSON.parse(row?.tool_calls ?? '')).toEqual([{ id: 'call_weather1', name: 'get_weather' }]);
  });

  it('records the Responses API’s usage and function calls, streamed and not', async () => {
    const since = await markRows(w.t);
    w.fake.setDefaultReply(() => ({ events: openAiResponsesStream() }));
    const streamed = await callGateway(w.t, '/openai/v1/responses', {
      headers: openAiAuth(w.owner.token),
      body: { model: 'gpt-4.1', input: 'Where is order 42?', stream: true },
    });
    expect(streamed.text).toBe(openAiResponsesStream().join(''));
    // The Responses API streams usage anyway: the request goes up untouched.
    expect(w.fake.lastRequest().rawBody).toBe(
      JSON.stringify({ model: 'gpt-4.1', input: 'Where is order 42?', stream: true }),
    );
    w.fake.setDefaultReply();
    await callGateway(w.t, '/openai/v1/responses', {
      headers: openAiAuth(w.owner.token),
      body: { model: 'gpt-4.1', input: 'Where is order 42?' },
    });
    const rows = await recorded(w.t, since, 2);
    expect(rows.map((r) => r.streaming)).toEqual([1, 0]);
    for (const row of rows) {
      expect(row).toMatchObject({
        endpoint: 'responses',
        ...RESPONSES_USAGE,
        cost_pico_usd: OPENAI_RESPONSES_COST_PICO,
      });
      expect(JSON.parse(row.tool_calls)).toEqual([{ id: 'call_lookup1', name: 'lookup_order' }]);
    }
  });

  it('passes count_tokens through and records it at no cost', async () => {
    const since = await markRows(w.t);
    const reply = await callGateway(w.t, '/anthropic/v1/messages/count_tokens', {
      headers: anthropicAuth(w.owner.token),
      body: { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(reply.json).toEqual({ input_tokens: 42 });
    expect(w.fake.lastRequest().path).toBe('/v1/messages/count_tokens');
    const [row] = await recorded(w.t, since);
    expect(row).toMatchObject({
      endpoint: 'messages.count_tokens',
      status: 200,
      cost_pico_usd: 0,
      input_tokens: 0,
    });
  });

  it('takes a body far above the API’s 1 MiB limit', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024);
    const reply = await callGateway(w.t, '/openai/v1/chat/completions', {
      headers: openAiAuth(w.owner.token),
      body: chatBody({ messages: [{ role: 'user', content: big }] }),
    });
    expect(reply.status).toBe(200);
    expect(w.fake.lastRequest().rawBody.length).toBeGreaterThan(3 * 1024 * 1024);
  });

  it('routes "provider/model" to that provider and sends the model name the provider knows', async () => {
    const reply = await callGateway(w.t, '/openai/v1/chat/completions', {
      headers: openAiAuth(w.owner.token),
      body: chatBody({ model: 'openai/gpt-4.1' }),
    });
    expect(reply.status).toBe(200);
    expect(w.fake.lastRequest().body).toMatchObject({ model: 'gpt-4.1' });
  });
});
