import type { ModelEndpoint } from './gatewayRoutes';

export interface ModelRequest {
  /** The model as the client named it. */
  model: string;
  streaming: boolean;
  /** The client's stream_options (undefined when it sent none). */
  streamOptions: unknown;
}

/**
 * Reads `model`, `stream` and `stream_options` from a request body, or says in a sentence what is
 * wrong with it. The parsed body is not kept: a conversation's worth of objects would otherwise
 * live as long as its stream, and be copied into the old generation on the way.
 */
export function parseModelRequest(body: Buffer | undefined): ModelRequest | string {
  if (!body || body.length === 0) return 'The request has no body; send a JSON object with a "model".';
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return 'The request body is not valid JSON.';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return 'The request body must be a JSON object.';
  const record = parsed as Record<string, unknown>;
  if (typeof record.model !== 'string' || record.model === '')
    return 'The request body has no "model": name the model to call.';
  return { model: record.model, streaming: record.stream === true, streamOptions: record.stream_options };
}

const USAGE_OPTION = Buffer.from(',"stream_options":{"include_usage":true}');

/**
 * The bytes to send upstream: the client's own, untouched, unless the model name must change
 * (the client picked a provider with "provider/model") or a streamed chat completion would
 * come back without usage. Streamed usage must be counted for every stream (budgets depend on
 * it), so include_usage is turned on even when a client turned it off.
 */
export function upstreamBody(
  raw: Buffer,
  request: ModelRequest,
  endpoint: ModelEndpoint,
  upstreamModel: string,
): Buffer {
  const options = request.streamOptions;
  const wantsUsage =
    endpoint === 'chat.completions' &&
    request.streaming &&
    !(
      typeof options === 'object' &&
      options !== null &&
      (options as Record<string, unknown>).include_usage === true
    );
  const renamed = request.model !== upstreamModel;
  if (!wantsUsage && !renamed) return raw;
  if (wantsUsage && !renamed && options === undefined) {
    // The common case, without re-serialising: insert the option before the closing brace.
    const close = raw.lastIndexOf(0x7d /* } */);
    return Buffer.concat([raw.subarray(0, close), USAGE_OPTION, raw.subarray(close)]);
  }
  // Rare (a pinned provider, or stream_options to change): parse the body again to rewrite it.
  const body: Record<string, unknown> = { ...JSON.parse(raw.toString('utf8')), model: upstreamModel };
  if (wantsUsage) {
    const previous = typeof options === 'object' && options !== null ? options : {};
    body.stream_options = { ...previous, include_usage: true };
  }
  return Buffer.from(JSON.stringify(body));
}
