import type { Family } from './providerErrors';
import type { WireFormat } from './usage';

export const GATEWAY_PREFIX = '/api/v2/aigateway';

/** What a model call is, as recorded in gateway_interceptions.endpoint. */
export type ModelEndpoint = 'chat.completions' | 'responses' | 'messages' | 'messages.count_tokens';

export type GatewayRoute =
  | {
      kind: 'model-call';
      family: Family;
      endpoint: ModelEndpoint;
      /** The path below the provider's base path, query string included. */
      upstreamPath: string;
      /** How the response is metered; count_tokens costs nothing and is not. */
      format: WireFormat | undefined;
    }
  | { kind: 'models'; family: Family; modelId: string | undefined }
  | { kind: 'unknown'; family: Family; reason: 'path' | 'method' };

const MODEL_CALLS: Record<
  string,
  { family: Family; endpoint: ModelEndpoint; path: string; format?: WireFormat }
> = {
  '/openai/v1/chat/completions': {
    family: 'openai',
    endpoint: 'chat.completions',
    path: '/chat/completions',
    format: 'openai-chat',
  },
  '/openai/v1/responses': {
    family: 'openai',
    endpoint: 'responses',
    path: '/responses',
    format: 'openai-responses',
  },
  '/anthropic/v1/messages': {
    family: 'anthropic',
    endpoint: 'messages',
    path: '/v1/messages',
    format: 'anthropic',
  },
  '/anthropic/v1/messages/count_tokens': {
    family: 'anthropic',
    endpoint: 'messages.count_tokens',
    path: '/v1/messages/count_tokens',
  },
};

/** Maps a request line below GATEWAY_PREFIX to what the gateway does with it. */
export function routeOf(method: string, url: string): GatewayRoute {
  const queryAt = url.indexOf('?');
  const fullPath = queryAt < 0 ? url : url.slice(0, queryAt);
  const query = queryAt < 0 ? '' : url.slice(queryAt);
  const path = fullPath.startsWith(GATEWAY_PREFIX)
    ? fullPath.slice(GATEWAY_PREFIX.length).replace(/\/+$/, '')
    : '';
  const family: Family = path.startsWith('/anthropic/') ? 'anthropic' : 'openai';
  const call = MODEL_CALLS[path];
  if (call) {
    if (method !== 'POST') return { kind: 'unknown', family, reason: 'method' };
    return {
      kind: 'model-call',
      family: call.family,
      endpoint: call.endpoint,
      upstreamPath: call.path + query,
      format: call.format,
    };
  }
  const models = /^\/(openai|anthropic)\/v1\/models(?:\/(.+))?$/.exec(path);
  if (models) {
    if (method !== 'GET') return { kind: 'unknown', family, reason: 'method' };
    const modelId = models[2] === undefined ? undefined : safeDecode(models[2]);
    return { kind: 'models', family: models[1] as Family, modelId };
  }
  return { kind: 'unknown', family, reason: 'path' };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
