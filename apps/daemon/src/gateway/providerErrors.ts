/** The two wire families the gateway speaks. */
export type Family = 'openai' | 'anthropic';

/** Why the gateway itself refused or failed a call, independent of the provider's words for it. */
export type GatewayErrorKind =
  | 'invalid_request'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'too_large'
  | 'rate_limit'
  | 'budget'
  | 'upstream'
  | 'timeout'
  | 'unavailable'
  | 'internal';

const statusOf: Record<GatewayErrorKind, number> = {
  invalid_request: 400,
  authentication: 401,
  permission: 403,
  not_found: 404,
  too_large: 413,
  rate_limit: 429,
  budget: 429,
  upstream: 502,
  timeout: 504,
  unavailable: 503,
  internal: 500,
};

/** OpenAI's error `type` and `code` for each kind, as its API sends them. */
const openAiShape: Record<GatewayErrorKind, { type: string; code: string | null }> = {
  invalid_request: { type: 'invalid_request_error', code: null },
  authentication: { type: 'invalid_request_error', code: 'invalid_api_key' },
  permission: { type: 'invalid_request_error', code: 'model_not_allowed' },
  not_found: { type: 'invalid_request_error', code: 'model_not_found' },
  too_large: { type: 'invalid_request_error', code: 'request_too_large' },
  rate_limit: { type: 'requests', code: 'rate_limit_exceeded' },
  budget: { type: 'insufficient_quota', code: 'insufficient_quota' },
  upstream: { type: 'server_error', code: 'upstream_error' },
  timeout: { type: 'server_error', code: 'upstream_timeout' },
  unavailable: { type: 'server_error', code: 'provider_unavailable' },
  internal: { type: 'server_error', code: null },
};

/** Anthropic's error `type` for each kind. */
const anthropicType: Record<GatewayErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  too_large: 'request_too_large',
  rate_limit: 'rate_limit_error',
  budget: 'rate_limit_error',
  upstream: 'api_error',
  timeout: 'timeout_error',
  unavailable: 'api_error',
  internal: 'api_error',
};

export interface ErrorOptions {
  retryAfterSeconds?: number;
  /** Tells the SDKs not to retry (they honour x-should-retry: false). */
  noRetry?: boolean;
  /** OpenAI names the exhausted limit in `type`: "requests" or "tokens". */
  openAiType?: string;
}

export interface GatewayErrorReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * A refusal in the provider's own error shape, so official SDKs raise their usual error
 * classes and their retry logic works: 429 and 5xx carry retry hints; refusals that waiting
 * cannot fix (a spent budget, a missing key) tell the SDK not to retry.
 */
export function providerError(
  family: Family,
  kind: GatewayErrorKind,
  message: string,
  options: ErrorOptions = {},
): GatewayErrorReply {
  const status = statusOf[kind];
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.retryAfterSeconds !== undefined) headers['retry-after'] = String(options.retryAfterSeconds);
  if (options.noRetry || kind === 'budget') headers['x-should-retry'] = 'false';
  const body =
    family === 'anthropic'
      ? { type: 'error', error: { type: anthropicType[kind], message } }
      : {
          error: {
            message,
            type: options.openAiType ?? openAiShape[kind].type,
            param: null,
            code: openAiShape[kind].code,
          },
        };
  return { status, headers, body: JSON.stringify(body) };
}

/** The same error as an SSE event, for a stream that already started when the upstream failed. */
export function providerErrorEvent(family: Family, kind: GatewayErrorKind, message: string): string {
  const { body } = providerError(family, kind, message);
  return family === 'anthropic' ? `event: error\ndata: ${body}\n\n` : `data: ${body}\n\n`;
}
