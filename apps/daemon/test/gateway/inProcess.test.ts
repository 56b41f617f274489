import { beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/auth/policy';
import { OVERHEAD_HEADER } from '../../src/gateway/forwardedHeaders';
import { dialects } from '../harness';
import { gatewayUrl, markRows, messagesBody, recorded, useGatewayWorld } from './gatewayFixtures';
import { ANTHROPIC_COST_PICO, anthropicStream } from './wireSamples';

/**
 * The chat loop calls the gateway as a fetch function, without a socket or a Warren token:
 * the actor it passes is already authenticated.
 */
describe.each(dialects)('the gateway in-process, as a fetch function, on %s', (dialect) => {
  const w = useGatewayWorld(dialect);
  let actor: Actor;

  beforeAll(async () => {
    const apiKey = await w.t.daemon.db.kysely
      .selectFrom('api_keys')
      .select('id')
      .where('user_id', '=', w.owner.userId)
      .executeTakeFirstOrThrow();
    actor = { userId: w.owner.userId, username: 'owner', roles: ['owner', 'member'], apiKeyId: apiKey.id };
  });

  const request = (body: unknown, init: RequestInit = {}) =>
    new Request(gatewayUrl(w.t, '/anthropic/v1/messages'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify(body),
      ...init,
    });

  it('streams a call for an actor it is given, and records the chat it came from', async () => {
    w.fake.setDefaultReply(() => ({ events: anthropicStream() }));
    const since = await markRows(w.t);
    const response = await w.t.daemon.services.gateway.handle(request(messagesBody({ stream: true })), {
      actor,
      chatId: 'chat-42',
    });
    expect(response.status).toBe(200);
    expect(Number(response.headers.get(OVERHEAD_HEADER))).toBeGreaterThan(0);
    expect(await response.text()).toBe(anthropicStream().join(''));
    expect(w.fake.lastRequest().headers['x-api-key']).toBe(w.centralKeys.anthropic);
    const [row] = await recorded(w.t, since);
    expect(row).toMatchObject({
      chat_id: 'chat-42',
      user_id: w.owner.userId,
      api_key_id: actor.apiKeyId,
      streaming: 1,
      cost_pico_usd: ANTHROPIC_COST_PICO,
    });
  });

  it('answers errors as Responses too, in the provider’s shape', async () => {
    const response = await w.t.daemon.services.gateway.handle(request(messagesBody({ model: 'nope' })), {
      actor,
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });

  it('aborts the upstream call when the caller cancels the response body', async () => {
    const [first, ...rest] = anthropicStream();
    w.fake.setDefaultReply(() => ({ events: [first as string, { waitMs: 2000 }, ...rest] }));
    const since = await markRows(w.t);
    const response = await w.t.daemon.services.gateway.handle(request(messagesBody({ stream: true })), {
      actor,
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    await reader.cancel();
    await expect.poll(() => w.fake.lastRequest().abortedByClient, { timeout: 1500 }).toBe(true);
    const [row] = await recorded(w.t, since);
    expect(row).toMatchObject({ status: 499, input_tokens: 50 });
  });
});
