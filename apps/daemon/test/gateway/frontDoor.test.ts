import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { OVERHEAD_HEADER } from '../../src/gateway/forwardedHeaders';
import { GATEWAY_PREFIX } from '../../src/gateway/gatewayRoutes';
import { startTestDaemon } from '../harness';
import {
  addFakeProviders,
  addModel,
  anthropicAuth,
  callGateway,
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
import { OPENAI_PRICES } from './wireSamples';

/**
 * Model calls are read and served before Fastify sees them (GatewayFrontDoor); anything the
 * front door does not take goes on to Fastify's gateway route. Both must answer alike. The
 * front door has no database of its own, so one dialect covers it.
 */
describe('gateway model calls ahead of Fastify', () => {
  const w = useGatewayWorld('sqlite');

  /** Sends `head` (and `body`) on a fresh connection; resolves with everything the server sent back. */
  function rawExchange(head: string, body: (socket: net.Socket) => void = () => {}): Promise<string> {
    const { hostname, port } = new URL(w.t.url);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () => {
        socket.write(head);
        body(socket);
      });
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString('latin1');
      });
      // The server may close while the client is still sending: that is the point of some tests.
      socket.on('error', () => {});
      socket.on('close', () => resolve(received));
      setTimeout(() => reject(new Error(`no answer; got so far: ${received.slice(0, 200)}`)), 10_000);
    });
  }

  function parseResponse(raw: string) {
    const [head = '', body = ''] = raw.split('\r\n\r\n');
    const [statusLine = '', ...lines] = head.split('\r\n');
    const headers = Object.fromEntries(
      lines.map((line) => [
        line.slice(0, line.indexOf(':')).toLowerCase(),
        line.slice(line.indexOf(':') + 1).trim(),
      ]),
    );
    return { status: Number(statusLine.split(' ')[1]), headers, json: JSON.parse(body) };
  }

  it('refuses a body declared larger than the 32 MiB limit at once, in the provider’s shape, without calling upstream', async () => {
    const before = w.fake.requests.length;
    const raw = await rawExchange(
      `POST ${GATEWAY_PREFIX}/anthropic/v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: ${w.owner.token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${40 * 1024 * 1024}\r\n\r\n`,
    );
    const reply = parseResponse(raw);
    expect(reply.status).toBe(413);
    expect(reply.json).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
    expect(reply.json.error.message).toMatch(/32 MiB/);
    expect(reply.headers.connection).toBe('close');
    expect(Number(reply.headers[OVERHEAD_HEADER])).toBeGreaterThanOrEqual(0);
    expect(w.fake.requests.length).toBe(before);
  });

  it('stops reading a chunked body once it passes the limit, and answers 413', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const raw = await rawExchange(
      `POST ${GATEWAY_PREFIX}/openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${w.owner.token}\r\n` +
        'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
      (socket) => {
        for (let i = 0; i < 34 && !socket.destroyed; i++)
          socket.write(`${chunk.length.toString(16)}\r\n${chunk.toString('latin1')}\r\n`);
      },
    );
    const reply = parseResponse(raw);
    expect(reply.status).toBe(413);
    expect(reply.json.error).toMatchObject({ type: 'invalid_request_error', code: 'request_too_large' });
  });

  it('answers a body cut short of its Content-Length with a provider-shaped 400, not an upstream call', async () => {
    const before = w.fake.requests.length;
    const raw = await rawExchange(
      `POST ${GATEWAY_PREFIX}/openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${w.owner.token}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"model":"gpt-4.1"}',
      (socket) => socket.end(),
    );
    // The client half-closed: Node calls that an aborted request; whatever reached the client
    // is the gateway's own error, and nothing went upstream.
    if (raw) expect(parseResponse(raw).status).toBe(400);
    expect(w.fake.requests.length).toBe(before);
  });

  it('serves a call whatever content type it names, as the provider would', async () => {
    for (const contentType of ['application/json', 'application/json; charset=utf-8', 'text/plain']) {
      const since = await markRows(w.t);
      const reply = await callGateway(w.t, '/openai/v1/chat/completions', {
        headers: { ...openAiAuth(w.owner.token), 'content-type': contentType },
        body: chatBody(),
      });
      expect(reply.status, contentType).toBe(200);
      expect(await recorded(w.t, since)).toHaveLength(1);
    }
  });

  it('refuses a call without a Warren token in the provider’s shape on either way in', async () => {
    for (const contentType of ['application/json', 'text/plain']) {
      const reply = await callGateway(w.t, '/anthropic/v1/messages', {
        headers: { ...anthropicAuth('not-a-warren-token'), 'content-type': contentType },
        body: messagesBody(),
      });
      expectProviderError(reply, 'anthropic', 401, 'authentication_error');
    }
  });

  it('finishes a stream in flight when the daemon stops, before closing its connections', async () => {
    // A daemon of its own, since this one is stopped; the suite's fake answers it.
    const t = await startTestDaemon('sqlite');
    const { token } = await t.setupOwner();
    const keys = { openai: newProviderKey('sk-stop-openai'), anthropic: newProviderKey('sk-ant-stop') };
    const providers = await addFakeProviders(t, w.fake.url, keys);
    await addModel(t, providers.openai, 'gpt-4.1', OPENAI_PRICES);
    w.fake.script([{ text: 'slow and steady wins', chunkChars: 4, chunkDelayMs: 60 }]);
    const streaming = await fetch(gatewayUrl(t, '/openai/v1/chat/completions'), {
      method: 'POST',
      headers: { ...openAiAuth(token), 'content-type': 'application/json' },
      body: JSON.stringify(chatBody({ stream: true })),
    });
    expect(streaming.status).toBe(200);
    const closed = t.close();
    const text = await streaming.text();
    expect(text).toContain('"content":"wins"');
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    await closed;
  });
});
