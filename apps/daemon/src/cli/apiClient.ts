import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import { type Secret, WarrenError } from '@warren/core';
import type { AppRouter } from '../api/appRouter';

export type ApiClient = TRPCClient<AppRouter>;

/** A request that gets no answer in this long is reported rather than left hanging a script. */
const REQUEST_TIMEOUT_MS = 30_000;

/** The one typed client the CLI uses; with a token every request is signed in with it. */
export function createApiClient(url: string, token?: Secret): ApiClient {
  return clientWithHeaders(
    url,
    (): Record<string, string> => (token ? { authorization: `Bearer ${token.reveal()}` } : {}),
  );
}

/** The same client for an external provisioner, which signs in with its provisioner key. */
export function createProvisionerClient(url: string, key: Secret): ApiClient {
  return clientWithHeaders(url, () => ({ 'x-warren-provisioner-key': key.reveal() }));
}

function clientWithHeaders(url: string, headers: () => Record<string, string>): ApiClient {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${url}/api/trpc`,
        headers,
        fetch: (input, init) => fetchFromWarren(url, input, init as RequestInit | undefined),
      }),
    ],
  });
}

/**
 * fetch, with transport failures turned into sentences that name the server. tRPC wraps what
 * this throws in a TRPCClientError whose cause is the WarrenError.
 */
async function fetchFromWarren(
  url: string,
  input: Parameters<typeof fetch>[0],
  init?: RequestInit,
): Promise<Response> {
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(input, {
      ...init,
      signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout,
    });
  } catch (error) {
    throw new WarrenError('UNAVAILABLE', `cannot reach Warren at ${url}: ${transportFailure(error)}`);
  }
  // The HTTP layer refuses an oversized body before tRPC sees it, so its answer is not tRPC's shape.
  if (response.status === 413) {
    const body = (await response.json().catch(() => undefined)) as
      | { error?: { message?: unknown } }
      | undefined;
    const message = typeof body?.error?.message === 'string' ? body.error.message : undefined;
    throw new WarrenError('PAYLOAD_TOO_LARGE', message ?? 'The request is larger than the server accepts.');
  }
  // A proxy's HTML error page or some other server would otherwise surface as a JSON parse error.
  if (!(response.headers.get('content-type') ?? '').includes('json')) {
    throw new WarrenError(
      'UPSTREAM',
      `${url} did not answer like a Warren server (HTTP ${response.status}).`,
    );
  }
  return response;
}

const failureByCode: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'timed out',
};

/** Why a request got no answer, as a few words: "connection refused", "host not found". */
export function transportFailure(error: unknown): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') {
    return `no answer within ${REQUEST_TIMEOUT_MS / 1000} seconds`;
  }
  const cause = (error as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } })
    .cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  if (code && failureByCode[code]) return failureByCode[code];
  // OpenSSL's own text is a line of internals; the usual cause is https:// to a plain HTTP port.
  if (code?.startsWith('ERR_SSL_')) return 'TLS handshake failed (is that port serving HTTPS?)';
  return cause?.message || code || (error as Error).message;
}
