import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, credentialHeader, upstreamRequestHeaders } from './forwardedHeaders';

const incoming = {
  host: 'warren.example.com',
  connection: 'keep-alive, x-hop',
  'x-hop': 'gone',
  'content-length': '120',
  'content-type': 'application/json',
  'accept-encoding': 'gzip, br',
  cookie: 'warren_session=abc',
  authorization: 'Bearer sk-user-own',
  'x-api-key': 'sk-ant-user-own',
  'x-goog-api-key': 'AIza-user',
  'openai-organization': 'org-someone-else',
  'anthropic-version': '2023-06-01',
  'anthropic-beta': 'prompt-caching-2024-07-31',
  'x-warren-ai-governance-token': 'delegated',
  'x-warren-authorization': 'Bearer wrn_token',
  'x-warren-chat-id': 'chat-1',
  'user-agent': 'OpenAI/JS 6.0.0',
};

describe('upstreamRequestHeaders', () => {
  it('drops every client credential and Warren header and injects the central key', () => {
    const out = upstreamRequestHeaders(incoming, {
      delegated: false,
      credential: credentialHeader('openai', 'sk-central'),
    });
    expect(out).toEqual({
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'prompt-caching-2024-07-31',
      'user-agent': 'OpenAI/JS 6.0.0',
      authorization: 'Bearer sk-central',
      'accept-encoding': 'identity',
    });
  });

  it('keeps the client’s provider credentials when delegated, still without any X-Warren-* header', () => {
    const out = upstreamRequestHeaders(incoming, { delegated: true });
    expect(out.authorization).toBe('Bearer sk-user-own');
    expect(out['x-api-key']).toBe('sk-ant-user-own');
    expect(Object.keys(out).filter((name) => name.startsWith('x-warren-'))).toEqual([]);
    expect(out.cookie).toBeUndefined();
    expect(out.host).toBeUndefined();
  });

  it('injects an Anthropic key as x-api-key', () => {
    expect(credentialHeader('anthropic', 'sk-ant-central')).toEqual({
      name: 'x-api-key',
      value: 'sk-ant-central',
    });
  });
});

describe('clientResponseHeaders', () => {
  it('passes the provider’s headers on without connection-level ones or its cookies', () => {
    expect(
      clientResponseHeaders({
        'content-type': 'text/event-stream',
        'transfer-encoding': 'chunked',
        connection: 'keep-alive',
        'set-cookie': ['__cf_bm=1'],
        'x-request-id': 'req_1',
        'anthropic-ratelimit-requests-remaining': '99',
      }),
    ).toEqual({
      'content-type': 'text/event-stream',
      'x-request-id': 'req_1',
      'anthropic-ratelimit-requests-remaining': '99',
    });
  });
});
