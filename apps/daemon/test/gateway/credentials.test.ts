import { describe, expect, it } from 'vitest';
import { dialects, rememberSecret } from '../harness';
import { addPerson } from '../signIn';
import {
  addModel,
  addProvider,
  anthropicAuth,
  callGateway,
  chatBody,
  expectProviderError,
  markRows,
  messagesBody,
  newProviderKey,
  openAiAuth,
  recorded,
  storeUserKey,
  useGatewayWorld,
} from './gatewayFixtures';
import { OPENAI_PRICES } from './wireSamples';

const warrenHeaders = (names: string[]) => names.filter((name) => name.startsWith('x-warren-'));

describe.each(dialects)('gateway credentials, on %s', (dialect) => {
  const w = useGatewayWorld(dialect);

  it('replaces every provider credential the client sent with the central key (OpenAI)', async () => {
    const reply = await callGateway(w.t, '/openai/v1/chat/completions', {
      headers: {
        ...openAiAuth(w.owner.token),
        'x-api-key': 'sk-client-tries-its-own',
        'openai-organization': 'org-client-picked',
        'x-warren-trace': 'internal',
        cookie: 'warren_session=not-for-providers',
      },
      body: chatBody(),
    });
    expect(reply.status).toBe(200);
    expect(reply.json.model).toBe('gpt-4.1');
    const received = w.fake.lastRequest();
    expect(received.path).toBe('/v1/chat/completions');
    expect(received.headers.authorization).toBe(`Bearer ${w.centralKeys.openai}`);
    expect(received.headers['x-api-key']).toBeUndefined();
    expect(received.headers['openai-organization']).toBeUndefined();
    expect(received.headers.cookie).toBeUndefined();
    expect(warrenHeaders(Object.keys(received.headers))).toEqual([]);
    // The client's bytes are forwarded as they were sent.
    expect(received.rawBody).toBe(JSON.stringify(chatBody()));
  });

  it('takes the Warren token from x-api-key and sends the central key as x-api-key (Anthropic)', async () => {
    const reply = await callGateway(w.t, '/anthropic/v1/messages', {
      headers: { ...anthropicAuth(w.owner.token), authorization: 'Bearer sk-ant-client-own' },
      body: messagesBody(),
    });
    expect(reply.status).toBe(200);
    const received = w.fake.lastRequest();
    expect(received.path).toBe('/v1/messages');
    expect(received.headers['x-api-key']).toBe(w.centralKeys.anthropic);
    expect(received.headers.authorization).toBeUndefined();
    expect(received.headers['anthropic-version']).toBe('2023-06-01');
  });

  it('keeps the client’s own provider key when delegated, and still strips every X-Warren-* header', async () => {
    const byok = rememberSecret(`sk-user-byok-${Date.now()}`);
    const since = await markRows(w.t);
    const reply = await callGateway(w.t, '/openai/v1/chat/completions', {
      headers: {
        authorization: `Bearer ${byok}`,
        'x-warren-ai-governance-token': 'delegated',
        'x-warren-authorization': `Bearer ${w.owner.token}`,
        'x-warren-chat': 'chat-7',
      },
      body: chatBody(),
    });
    expect(reply.status).toBe(200);
    const received = w.fake.lastRequest();
    expect(received.headers.authorization).toBe(`Bearer ${byok}`);
    expect(warrenHeaders(Object.keys(received.headers))).toEqual([]);
    const [row] = await recorded(w.t, since);
    expect(row).toMatchObject({ credential: 'byok', user_id: w.owner.userId, status: 200 });
  });

  it('refuses any other governance marker, in each provider’s error shape, without calling upstream', async () => {
    const before = w.fake.requests.length;
    const openai = await callGateway(w.t, '/openai/v1/chat/completions', {
      headers: { ...openAiAuth(w.owner.token), 'x-warren-ai-governance-token': 'central' },
      body: chatBody(),
    });
    expectProviderError(openai, 'openai', 400, 'invalid_request_error');
    const anthropic = await callGateway(w.t, '/anthropic/v1/messages', {
      headers: { ...anthropicAuth(w.owner.token), 'x-warren-ai-governance-token': 'Delegated ' },
      body: messagesBody(),
    });
    expectProviderError(anthropic, 'anthropic', 400, 'invalid_request_error');
    expect(w.fake.requests.length).toBe(before);
  });

  it('a delegated request without X-Warren-Authorization is refused as unauthenticated', async () => {
    const reply = await callGateway(w.t, '/anthropic/v1/messages', {
      headers: { 'x-api-key': 'sk-ant-own', 'x-warren-ai-governance-token': 'delegated' },
      body: messagesBody(),
    });
    expectProviderError(reply, 'anthropic', 401, 'authentication_error');
    expect(reply.json.error?.message).toMatch(/X-Warren-Authorization/);
  });

  it('uses the user’s stored key where BYOK is required, and refuses with 403 until there is one', async () => {
    const providerId = await addProvider(w.t, {
      name: 'ownkeys',
      kind: 'openai-compatible',
      baseUrl: `${w.fake.url}/v1`,
      byok: 'required',
    });
    await addModel(w.t, providerId, 'local-llm', OPENAI_PRICES);
    const body = chatBody({ model: 'local-llm' });
    const refused = await callGateway(w.t, '/openai/v1/chat/completions', {
      headers: openAiAuth(w.owner.token),
      body,
    });
    expectProviderError(refused, 'openai', 403, 'invalid_request_error');
    expect(refused.headers.get('x-should-retry')).toBe('false');

    const stored = newProviderKey('sk-stored-byok');
    await storeUserKey(w.t, w.owner.userId, providerId, stored);
    const since = await markRows(w.t);
    const reply = await callGateway(w.t, '/openai/v1/chat/completions', {
      headers: openAiAuth(w.owner.token),
      body,
    });
    expect(reply.status).toBe(200);
    expect(w.fake.lastRequest().headers.authorization).toBe(`Bearer ${stored}`);
    const [row] = await recorded(w.t, since);
    expect(row).toMatchObject({ credential: 'byok', provider_id: providerId, model: 'local-llm' });
  });

  it('refuses a delegated request to a provider that forbids BYOK', async () => {
    const providerId = await addProvider(w.t, {
      name: 'strict',
      kind: 'openai-compatible',
      baseUrl: `${w.fake.url}/v1`,
      byok: 'forbidden',
      keys: [newProviderKey('sk-strict-central')],
    });
    await addModel(w.t, providerId, 'strict-model', OPENAI_PRICES);
    const reply = await callGateway(w.t, '/openai/v1/chat/completions', {
      headers: {
        authorization: 'Bearer sk-someone-own',
        'x-warren-ai-governance-token': 'delegated',
        'x-warren-authorization': `Bearer ${w.owner.token}`,
      },
      body: chatBody({ model: 'strict-model' }),
    });
    expectProviderError(reply, 'openai', 403, 'invalid_request_error');
  });

  it('refuses a revoked token and a suspended user’s token on the very next call', async () => {
    const admin = w.t.client(w.owner.token);
    const person = await addPerson(w.t, w.owner.token, 'gw-revoked');
    const { id, token } = await w.t.client(person.token).tokens.create.mutate({ name: 'gateway' });
    rememberSecret(token);
    const call = (key: string) =>
      callGateway(w.t, '/openai/v1/chat/completions', { headers: openAiAuth(key), body: chatBody() });
    expect((await call(token)).status).toBe(200);
    await admin.tokens.revoke.mutate({ id });
    const revoked = await call(token);
    expectProviderError(revoked, 'openai', 401, 'invalid_request_error');
    expect(revoked.json.error?.message).toMatch(/revoked/);

    expect((await call(person.token)).status).toBe(200);
    await admin.users.suspend.mutate({ username: 'gw-revoked' });
    const suspended = await callGateway(w.t, '/anthropic/v1/messages', {
      headers: anthropicAuth(person.token),
      body: messagesBody(),
    });
    expectProviderError(suspended, 'anthropic', 401, 'authentication_error');
  });

  it('refuses a call without a token or with a made-up one', async () => {
    expectProviderError(
      await callGateway(w.t, '/openai/v1/chat/completions', { body: chatBody() }),
      'openai',
      401,
      'invalid_request_error',
    );
    expectProviderError(
      await callGateway(w.t, '/anthropic/v1/messages', {
        headers: anthropicAuth('wrn_nope'),
        body: messagesBody(),
      }),
      'anthropic',
      401,
      'authentication_error',
    );
  });

  it('never shows the central key, even when the provider echoes it in an error body or header', async () => {
    w.fake.setDefaultReply((request) => ({
      status: 401,
      body: {
        error: {
          message: `Incorrect API key provided: ${String(request.headers.authorization ?? request.headers['x-api-key'])}`,
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        },
      },
      headers: { 'x-echo-key': String(request.headers.authorization ?? request.headers['x-api-key']) },
    }));
    const replies = [
      await callGateway(w.t, '/openai/v1/chat/completions', {
        headers: openAiAuth(w.owner.token),
        body: chatBody(),
      }),
      await callGateway(w.t, '/anthropic/v1/messages', {
        headers: anthropicAuth(w.owner.token),
        body: messagesBody(),
      }),
    ];
    for (const reply of replies) {
      expect(reply.status).toBe(401);
      const everything = `${reply.text}\n${[...reply.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}`;
      expect(everything).not.toContain(w.centralKeys.openai);
      expect(everything).not.toContain(w.centralKeys.anthropic);
      expect(everything).toContain('[redacted]');
    }
  });
});
