import { TRPCClientError } from '@trpc/client';
import { API_PREFIX } from '../src/api/apiPlugin';
import { rememberSecret } from './harness';
import type { ProcedureType } from './procedureCatalog';
import { SseStream } from './SseStream';

/** What a raw HTTP call to a procedure came back with. */
export interface ApiOutcome {
  /**
   * The HTTP status; for a subscription, the status its error event carries, or 200 while it
   * streams (tRPC answers every subscription with 200 and reports refusals inside the stream).
   */
  status: number;
  headers: Headers;
  /** The whole body as received (for a stream, what arrived before it was closed). */
  text: string;
  /** `error.message` and the Warren error code, from a tRPC or a Fastify error body. */
  message: string | undefined;
  code: string | undefined;
}

export interface CallOptions {
  token?: string | undefined;
  /** An external provisioner's key, for the provisionerd procedures. */
  provisionerKey?: string | undefined;
  input?: unknown;
  /** Sent verbatim instead of JSON-encoding `input`: the POST body, or the `?input=` of a GET. */
  raw?: string;
  /** Defaults to application/json on POST; null sends none. */
  contentType?: string | null;
  /** Defaults to what tRPC uses for the procedure type: GET for queries and subscriptions. */
  method?: 'GET' | 'POST';
}

/** Time a subscription gets to report a refusal after `connected`; refusals are decided before it. */
const SUBSCRIPTION_VERDICT_MS = 250;

/** Calls one procedure over HTTP exactly as a client would, without the typed client's error wrapping. */
export async function callProcedure(
  baseUrl: string,
  path: string,
  type: ProcedureType,
  options: CallOptions = {},
): Promise<ApiOutcome> {
  const method = options.method ?? (type === 'mutation' ? 'POST' : 'GET');
  const encoded = options.raw ?? (options.input === undefined ? undefined : JSON.stringify(options.input));
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.provisionerKey) headers['x-warren-provisioner-key'] = options.provisionerKey;
  let url = `${baseUrl}${API_PREFIX}/${path}`;
  let body: string | undefined;
  if (method === 'GET') {
    if (encoded !== undefined) url += `?input=${encodeURIComponent(encoded)}`;
  } else {
    body = encoded;
    const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
    if (contentType) headers['content-type'] = contentType;
  }

  const outcome =
    type === 'subscription' && method === 'GET'
      ? await subscriptionOutcome(await SseStream.open(url, headers))
      : await fetch(url, { method, headers, body }).then(async (response) => {
          const text = await response.text();
          return { status: response.status, headers: response.headers, text, ...errorOf(parseJson(text)) };
        });
  // Sign-ins and new tokens answer with a token; the log scan must know it.
  for (const token of outcome.text.match(API_TOKEN) ?? []) rememberSecret(token);
  return outcome;
}

const API_TOKEN = /wrn_[a-z0-9]{16}_[A-Za-z0-9_-]{43}/g;

async function subscriptionOutcome(stream: SseStream): Promise<ApiOutcome> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(stream.response.headers))
    if (typeof value === 'string') headers.set(name, value);
  try {
    if (!stream.isEventStream) {
      const text = await stream.text();
      return { status: stream.status, headers, text, ...errorOf(parseJson(text)) };
    }
    const seen: string[] = [];
    let verdict: Pick<ApiOutcome, 'status' | 'message' | 'code'> = {
      status: 200,
      message: undefined,
      code: undefined,
    };
    for (;;) {
      const event = await stream.next(seen.length === 0 ? 5_000 : SUBSCRIPTION_VERDICT_MS);
      if (typeof event === 'string') break;
      seen.push(`event: ${event.event}\ndata: ${event.data}`);
      if (event.event === 'serialized-error') {
        const shape = parseJson(event.data) as {
          message?: string;
          data?: { code?: string; httpStatus?: number };
        };
        verdict = { status: shape.data?.httpStatus ?? 500, message: shape.message, code: shape.data?.code };
        break;
      }
      if (event.event === 'return') break;
    }
    return { ...verdict, headers, text: seen.join('\n\n') };
  } finally {
    stream.close();
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The daemon's two error shapes: tRPC's `{error:{message,data:{code}}}` and Fastify's `{error:{code,message}}`. */
function errorOf(body: unknown): { message: string | undefined; code: string | undefined } {
  const error = (
    body as { error?: { message?: unknown; code?: unknown; data?: { code?: unknown } } } | undefined
  )?.error;
  const message = typeof error?.message === 'string' ? error.message : undefined;
  const code =
    typeof error?.data?.code === 'string'
      ? error.data.code
      : typeof error?.code === 'string'
        ? error.code
        : undefined;
  return { message, code };
}

/** The Warren error code a typed-client call failed with, or 'OK'. */
export async function outcomeCode(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (error) {
    if (error instanceof TRPCClientError) return String((error.data as { code?: string } | undefined)?.code);
    throw error;
  }
}
