import type { Family } from './providerErrors';

/** Request or response headers with lower-case names, as Node and undici hand them over. */
export type HeaderMap = Record<string, string | string[] | undefined>;

/** The header that says how the client's own provider credentials are to be treated. */
export const GOVERNANCE_HEADER = 'x-warren-ai-governance-token';
/** The one value of the governance header that keeps the client's provider auth headers. */
export const DELEGATED = 'delegated';
/** Where a delegated request carries its Warren token, since Authorization holds the provider key. */
export const WARREN_AUTHORIZATION_HEADER = 'x-warren-authorization';
export const OVERHEAD_HEADER = 'x-warren-gateway-overhead-ms';

/** Connection-level headers, and those the gateway sets itself (length, encoding, host). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'host',
  'content-length',
  'cookie',
  'accept-encoding',
]);

/**
 * Every header a provider or an SDK reads a credential from, plus those that pick an account
 * or project under the credential: with the central key, a client must not choose those either.
 */
const PROVIDER_AUTH = new Set([
  'authorization',
  'x-api-key',
  'api-key',
  'anthropic-api-key',
  'openai-api-key',
  'x-goog-api-key',
  'openai-organization',
  'openai-project',
]);

/**
 * The headers sent upstream. Warren's own (X-Warren-*) never leave; the client's provider
 * credentials leave only when delegated (the user's own key, forwarded by the chat loop);
 * otherwise `credential` (the central or stored BYOK key) is the only one there is.
 * The body is sent uncompressed so the gateway can meter it without inflating anything.
 */
export function upstreamRequestHeaders(
  incoming: HeaderMap,
  options: { delegated: boolean; credential?: { name: string; value: string } },
): Record<string, string> {
  const connectionTokens = listTokens(incoming.connection);
  const out: Record<string, string> = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || HOP_BY_HOP.has(name) || connectionTokens.has(name)) continue;
    if (name.startsWith('x-warren-')) continue;
    if (!options.delegated && PROVIDER_AUTH.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  if (options.credential) out[options.credential.name] = options.credential.value;
  out['accept-encoding'] = 'identity';
  return out;
}

/** How each family's upstream takes the key the gateway injects. */
export function credentialHeader(family: Family, key: string): { name: string; value: string } {
  return family === 'anthropic'
    ? { name: 'x-api-key', value: key }
    : { name: 'authorization', value: `Bearer ${key}` };
}

/** Upstream response headers a client may see: no connection-level ones and no provider cookies. */
export function clientResponseHeaders(upstream: HeaderMap): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || name === 'set-cookie' || (HOP_BY_HOP.has(name) && name !== 'content-length'))
      continue;
    out[name] = value;
  }
  return out;
}

function listTokens(header: string | string[] | undefined): Set<string> {
  // The usual values name no other header: skip building a set for them.
  if (header === undefined || header === 'keep-alive' || header === 'close') return EMPTY;
  const text = Array.isArray(header) ? header.join(',') : header;
  return new Set(text.split(',').map((token) => token.trim().toLowerCase()));
}

const EMPTY = new Set<string>();

/** The single value of a header, or undefined when absent. */
export function headerValue(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
