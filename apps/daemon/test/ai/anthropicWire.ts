import { estimateTokens, pieces, type ResolvedTurn, type WireContext } from './ScriptedReply';

/**
 * Anthropic's wire formats as api.anthropic.com sends them: a message (JSON, or the event stream
 * message_start → content blocks → message_delta → message_stop with a ping), count_tokens, the
 * model list and the error body. Pure functions; the server writes what they return.
 */

function stopReason(turn: ResolvedTurn): string {
  if (turn.finish === 'length') return 'max_tokens';
  return turn.toolCalls.length ? 'tool_use' : 'end_turn';
}

function usage(turn: ResolvedTurn, outputTokens: number) {
  return {
    input_tokens: turn.usage.input,
    cache_creation_input_tokens: turn.usage.cacheWrite,
    cache_read_input_tokens: turn.usage.cacheRead,
    cache_creation: { ephemeral_5m_input_tokens: turn.usage.cacheWrite, ephemeral_1h_input_tokens: 0 },
    inference_geo: null,
    output_tokens: outputTokens,
    output_tokens_details: null,
    server_tool_use: null,
    service_tier: 'standard',
    speed: 'standard',
  };
}

interface Blocks {
  text: string;
  tools: { id: string; name: string; input: unknown; json: string }[];
}

function blocks(turn: ResolvedTurn, ctx: WireContext): Blocks {
  return {
    text: turn.text,
    tools: turn.toolCalls.map((call) => ({
      id: call.id ?? ctx.id('toolu_01'),
      name: call.name,
      input: parseOr(call.arguments),
      json: call.arguments,
    })),
  };
}

/** A scripted argument string that is not JSON still goes out in the stream; the JSON body carries it raw. */
function parseOr(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return json;
  }
}

export function messageBody(turn: ResolvedTurn, ctx: WireContext): object {
  const b = blocks(turn, ctx);
  const content: object[] = b.text || !b.tools.length ? [{ type: 'text', text: b.text }] : [];
  for (const tool of b.tools)
    content.push({ type: 'tool_use', id: tool.id, name: tool.name, input: tool.input });
  return {
    id: ctx.id('msg_01'),
    type: 'message',
    role: 'assistant',
    model: turn.model,
    content,
    stop_reason: stopReason(turn),
    stop_sequence: null,
    stop_details: null,
    container: null,
    diagnostics: null,
    usage: usage(turn, turn.usage.output),
  };
}

/**
 * The event stream. message_start carries the input and cache counts with output_tokens 1, as the
 * real API does; message_delta carries the final output count, which replaces (not adds to) it.
 */
export function messageEvents(turn: ResolvedTurn, ctx: WireContext): string[] {
  const b = blocks(turn, ctx);
  const events: string[] = [];
  const emit = (type: string, fields: object) => {
    events.push(`event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`);
  };
  emit('message_start', {
    message: {
      id: ctx.id('msg_01'),
      type: 'message',
      role: 'assistant',
      model: turn.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      stop_details: null,
      container: null,
      diagnostics: null,
      usage: usage(turn, 1),
    },
  });
  let index = 0;
  if (b.text || !b.tools.length) {
    emit('content_block_start', { index, content_block: { type: 'text', text: '' } });
    emit('ping', {});
    if (b.text) {
      for (const text of pieces(b.text, turn.chunkChars)) {
        emit('content_block_delta', { index, delta: { type: 'text_delta', text } });
      }
    }
    emit('content_block_stop', { index });
    index++;
  }
  for (const tool of b.tools) {
    emit('content_block_start', {
      index,
      content_block: { type: 'tool_use', id: tool.id, name: tool.name, input: {} },
    });
    if (index === 0) emit('ping', {});
    emit('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } });
    for (const partial_json of pieces(tool.json, turn.chunkChars)) {
      emit('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } });
    }
    emit('content_block_stop', { index });
    index++;
  }
  emit('message_delta', {
    delta: { stop_reason: stopReason(turn), stop_sequence: null, stop_details: null, container: null },
    usage: { output_tokens: turn.usage.output },
  });
  emit('message_stop', {});
  return events;
}

/** A deterministic estimate over what the real endpoint counts: system, messages and tools. */
export function countTokensBody(body: Record<string, unknown>): object {
  const counted = JSON.stringify([body.system ?? null, body.messages ?? null, body.tools ?? null]);
  return { input_tokens: estimateTokens(counted.length) };
}

export function modelListBody(models: string[]): object {
  return {
    data: models.map((id) => ({
      type: 'model',
      id,
      display_name: id,
      created_at: '2025-01-01T00:00:00Z',
    })),
    has_more: false,
    first_id: models[0] ?? null,
    last_id: models.at(-1) ?? null,
  };
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

export function anthropicErrorBody(
  status: number,
  message: string,
  requestId: string,
  type?: string,
): object {
  return {
    type: 'error',
    error: { type: type ?? ERROR_TYPES[status] ?? 'api_error', message },
    request_id: requestId,
  };
}

export function anthropicStreamError(
  status: number,
  message: string,
  requestId: string,
  type?: string,
): string {
  return `event: error\ndata: ${JSON.stringify(anthropicErrorBody(status, message, requestId, type))}\n\n`;
}
