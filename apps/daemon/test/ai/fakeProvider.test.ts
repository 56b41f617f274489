import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeModelProvider, startFakeModelProvider } from './FakeModelProvider';
import { ANTHROPIC_MODEL, OPENAI_MODEL, type SdkClients, sdkScenarios } from './sdkScenarios';

/** The fake speaks the providers' formats well enough that the official SDKs cannot tell. */

let fake: FakeModelProvider;
let clients: SdkClients;

function sdkClients(key: string): SdkClients {
  return {
    openai: new OpenAI({ apiKey: key, baseURL: `${fake.url}/v1`, maxRetries: 0, timeout: 5000 }),
    anthropic: new Anthropic({ apiKey: key, baseURL: fake.url, maxRetries: 0, timeout: 5000 }),
  };
}

beforeAll(async () => {
  fake = await startFakeModelProvider({ apiKey: 'sk-upstream-direct' });
  clients = sdkClients(fake.apiKey);
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

describe('the official SDKs pointed at the fake', () => {
  for (const scenario of sdkScenarios) {
    it(scenario.name, async () => {
      fake.script(scenario.script);
      const { outcome, deltas } = await scenario.run(clients);
      expect(outcome).toEqual(scenario.expected);
      if (scenario.streaming) expect(deltas).toBeGreaterThan(1);
      expect(fake.pendingReplies()).toBe(0);
    });
  }

  it('receives the key in the header each provider uses', async () => {
    await clients.openai.chat.completions.create({
      model: OPENAI_MODEL,
      messages: [{ role: 'user', content: 'a' }],
    });
    await clients.anthropic.messages.create({
      model: ANTHROPIC_MODEL,
      max_tokens: 10,
      messages: [{ role: 'user', content: 'b' }],
    });
    const [openaiRequest, anthropicRequest] = fake.requests;
    expect(openaiRequest?.headers.authorization).toBe('Bearer sk-upstream-direct');
    expect(openaiRequest?.body).toMatchObject({
      model: OPENAI_MODEL,
      messages: [{ role: 'user', content: 'a' }],
    });
    // @anthropic-ai/sdk 1.x (API version 2026-10-21) sends the key as a bearer token, not x-api-key.
    expect(anthropicRequest?.headers.authorization).toBe('Bearer sk-upstream-direct');
    expect(anthropicRequest?.headers['anthropic-version']).toBeTruthy();
    expect(anthropicRequest?.path).toBe('/v1/messages');
  });

  it('echoes the last user message when nothing is scripted', async () => {
    const completion = await clients.openai.chat.completions.create({
      model: OPENAI_MODEL,
      messages: [{ role: 'user', content: 'ping' }],
    });
    expect(completion.choices[0]?.message.content).toBe('echo: ping');
    const message = await clients.anthropic.messages.create({
      model: ANTHROPIC_MODEL,
      max_tokens: 10,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'pong' }] }],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'echo: pong' }]);
  });

  it('sends the usage chunk with empty choices only when the client asks for it', async () => {
    const raw = async (includeUsage: boolean) => {
      const stream = await clients.openai.chat.completions.create({
        model: OPENAI_MODEL,
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
        ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
      });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      return chunks;
    };
    fake.script([{ text: 'abc', usage: { input: 5, output: 2, cacheRead: 1 } }, { text: 'abc' }]);
    const withUsage = await raw(true);
    expect(withUsage.at(-1)?.choices).toEqual([]);
    expect(withUsage.at(-1)?.usage).toMatchObject({
      prompt_tokens: 6,
      completion_tokens: 2,
      total_tokens: 8,
      prompt_tokens_details: { cached_tokens: 1 },
    });
    const withoutUsage = await raw(false);
    expect(withoutUsage.every((chunk) => chunk.usage === undefined)).toBe(true);
    expect(withoutUsage.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('counts tokens and lists models for each provider', async () => {
    const counted = await clients.anthropic.messages.countTokens({
      model: ANTHROPIC_MODEL,
      messages: [{ role: 'user', content: 'How many tokens is this?' }],
    });
    expect(counted.input_tokens).toBeGreaterThan(0);
    const openaiModels = [];
    for await (const model of clients.openai.models.list()) openaiModels.push(model.id);
    expect(openaiModels).toContain(OPENAI_MODEL);
    const anthropicModels = [];
    for await (const model of clients.anthropic.models.list()) anthropicModels.push(model.id);
    expect(anthropicModels).toContain(ANTHROPIC_MODEL);
    expect((await clients.anthropic.models.retrieve(ANTHROPIC_MODEL)).type).toBe('model');
  });

  it('surfaces scripted statuses as the SDKs typed errors', async () => {
    fake.script([
      { status: 429, retryAfterSeconds: 7 },
      { status: 500 },
      { status: 429 },
      { status: 529 },
      { status: 400, message: 'messages: at least one message is required' },
    ]);
    const chat = () =>
      clients.openai.chat.completions.create({
        model: OPENAI_MODEL,
        messages: [{ role: 'user', content: 'x' }],
      });
    const message = () =>
      clients.anthropic.messages.create({ model: ANTHROPIC_MODEL, max_tokens: 5, messages: [] });

    const rateLimited = await chat().catch((error: unknown) => error);
    expect(rateLimited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((rateLimited as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('7');
    expect((rateLimited as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('rate_limit_exceeded');
    await expect(chat()).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await expect(message()).rejects.toBeInstanceOf(Anthropic.RateLimitError);
    await expect(message()).rejects.toBeInstanceOf(Anthropic.InternalServerError);
    const badRequest = await message().catch((error: unknown) => error);
    expect(badRequest).toBeInstanceOf(Anthropic.BadRequestError);
    expect((badRequest as Error).message).toContain('at least one message is required');
  });

  it('answers a wrong key with 401 in each provider shape', async () => {
    const wrong = sdkClients('sk-wrong-key');
    const openaiError = await wrong.openai.models.list().catch((error: unknown) => error);
    expect(openaiError).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((openaiError as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
    const anthropicError = await wrong.anthropic.messages
      .create({ model: ANTHROPIC_MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
      .catch((error: unknown) => error);
    expect(anthropicError).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((anthropicError as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error', message: 'invalid x-api-key' },
    });
  });

  it('fails a stream mid-way with the provider error event', async () => {
    fake.script([
      { status: 500, afterChunks: 3, reply: { text: 'partial answer that never finishes' } },
      { status: 529, afterChunks: 3, reply: { text: 'partial answer that never finishes' } },
    ]);
    const openaiText: string[] = [];
    const openaiStream = clients.openai.chat.completions.stream({
      model: OPENAI_MODEL,
      messages: [{ role: 'user', content: 'x' }],
    });
    openaiStream.on('content', (delta) => openaiText.push(delta));
    await expect(openaiStream.finalChatCompletion()).rejects.toBeInstanceOf(OpenAI.APIError);
    // Three events: the role chunk and two five-character deltas.
    expect(openaiText.join('')).toBe('partial an');

    const anthropicStream = clients.anthropic.messages.stream({
      model: ANTHROPIC_MODEL,
      max_tokens: 50,
      messages: [{ role: 'user', content: 'x' }],
    });
    const anthropicError = await anthropicStream.finalMessage().catch((error: unknown) => error);
    expect(anthropicError).toBeInstanceOf(Anthropic.APIError);
    expect((anthropicError as Error).message).toContain('overloaded_error');
  });

  it('resets and hangs connections when scripted', async () => {
    fake.script([
      { fault: 'reset' },
      { fault: 'hang' },
      { fault: 'reset', afterChunks: 4, reply: { text: 'abcdefghijklmnop' } },
    ]);
    const ask = (client: OpenAI) =>
      client.chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: 'x' }] });
    await expect(ask(clients.openai)).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
    const impatient = new OpenAI({
      apiKey: fake.apiKey,
      baseURL: `${fake.url}/v1`,
      maxRetries: 0,
      timeout: 300,
    });
    await expect(ask(impatient)).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);

    const text: string[] = [];
    const stream = clients.anthropic.messages.stream({
      model: ANTHROPIC_MODEL,
      max_tokens: 50,
      messages: [{ role: 'user', content: 'x' }],
    });
    stream.on('text', (delta) => text.push(delta));
    await expect(stream.finalMessage()).rejects.toThrow();
    // message_start, content_block_start, ping, then one text delta before the reset.
    expect(text).toEqual(['abcde']);
  });

  it('streams with the scripted pace and records a client that gives up', async () => {
    fake.script([{ text: 'one two three four five six', chunkChars: 4, chunkDelayMs: 40 }]);
    const stream = clients.anthropic.messages.stream({
      model: ANTHROPIC_MODEL,
      max_tokens: 50,
      messages: [{ role: 'user', content: 'x' }],
    });
    const arrivals: number[] = [];
    stream.on('text', () => arrivals.push(Date.now()));
    await new Promise<void>((resolve) => stream.on('text', () => arrivals.length === 2 && resolve()));
    const ended = stream.done().catch((error: unknown) => error);
    stream.abort();
    expect(await ended).toBeInstanceOf(Anthropic.APIUserAbortError);
    expect((arrivals[1] ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThanOrEqual(30);
    await expect.poll(() => fake.requests.at(-1)?.abortedByClient).toBe(true);
  });

  it('rejects unknown models when asked to, in the provider shape', async () => {
    const strict = await startFakeModelProvider({ apiKey: 'k', rejectUnknownModels: true });
    try {
      const openai = new OpenAI({ apiKey: 'k', baseURL: `${strict.url}/v1`, maxRetries: 0 });
      const error = await openai.chat.completions
        .create({ model: 'gpt-nonexistent', messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect((error as Error).message).toContain('gpt-nonexistent');
    } finally {
      await strict.close();
    }
  });
});
