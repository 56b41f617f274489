import { randomUUID } from 'node:crypto';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { Insertable } from 'kysely';
import type { AppRouter } from '../../src/api/appRouter';
import type { GatewayInterceptionsTable } from '../../src/db/schema';
import type { TestDaemon } from '../harness';
import { sampleApiKey } from '../procedureCatalog';

/** A signed-in typed client that keeps the body of every answer, so a test can scan them all. */
export function recordingClient(url: string, token: string, answers: string[]) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${url}/api/trpc`,
        headers: () => ({ authorization: `Bearer ${token}` }),
        fetch: async (input, init) => {
          const response = await fetch(input, init as RequestInit);
          answers.push(await response.clone().text());
          return response;
        },
      }),
    ],
  });
}

/**
 * The keys a test hands to the API and every answer it got back, through clients made here:
 * `leaked()` names the keys some answer held in full (there must be none).
 */
export function watchKeys() {
  const answers: string[] = [];
  const keys: string[] = [];
  return {
    newKey(label: string): string {
      const key = sampleApiKey(label);
      keys.push(key);
      return key;
    },
    client: (url: string, token: string) => recordingClient(url, token, answers),
    leaked: () => keys.filter((key) => answers.some((text) => text.includes(key))),
    keys,
  };
}

type Interception = Insertable<GatewayInterceptionsTable>;

/** One gateway call as the gateway would record it; the test names what matters to it. */
export async function recordCall(
  t: TestDaemon,
  call: Pick<Interception, 'user_id' | 'model'> & Partial<Interception>,
): Promise<string> {
  const id = call.id ?? randomUUID();
  await t.daemon.db.kysely
    .insertInto('gateway_interceptions')
    .values({
      time: Date.parse('2031-05-01T12:00:00Z'),
      api_key_id: null,
      chat_id: null,
      provider_id: null,
      provider_kind: 'openai',
      endpoint: '/v1/chat/completions',
      streaming: 0,
      credential: 'central',
      status: 200,
      error: null,
      input_tokens: 0,
      output_tokens: 0,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      cost_pico_usd: 0,
      ttfb_ms: null,
      total_ms: 100,
      overhead_ms: 1.5,
      tool_calls: '[]',
      ...call,
      id,
    })
    .execute();
  return id;
}

/** The user id behind a session. */
export async function userIdOf(t: TestDaemon, token: string): Promise<string> {
  return (await t.client(token).auth.whoami.query()).id;
}

/** An RFC 4180 reader, to prove what a spreadsheet reads back from the export. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  return rows;
}
