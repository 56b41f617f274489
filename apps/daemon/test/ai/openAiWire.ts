import { pieces, type ResolvedTurn, type WireContext } from './ScriptedReply';

/**
 * OpenAI's wire formats, field for field as api.openai.com sends them: chat.completions (JSON and
 * `data:` chunks ending in `data: [DONE]`), the Responses API (JSON and typed events), the model
 * list and the error body. Pure functions of a resolved turn; the server writes what they return.
 */

const SYSTEM_FINGERPRINT = 'fp_fake0001';

function chatUsage(turn: ResolvedTurn) {
  const prompt = turn.usage.input + turn.usage.cacheRead + turn.usage.cacheWrite;
  return {
    prompt_tokens: prompt,
    completion_tokens: turn.usage.output,
    total_tokens: prompt + turn.usage.output,
    prompt_tokens_details: { cached_tokens: turn.usage.cacheRead, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function finishReason(turn: ResolvedTurn): string {
  if (turn.finish === 'length') return 'length';
  return turn.toolCalls.length ? 'tool_calls' : 'stop';
}

function toolCallIds(turn: ResolvedTurn, ctx: WireContext): string[] {
  return turn.toolCalls.map((call) => call.id ?? ctx.id('call_'));
}

export function chatCompletionBody(turn: ResolvedTurn, ctx: WireContext): object {
  const ids = toolCallIds(turn, ctx);
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: turn.text || (turn.toolCalls.length ? null : ''),
    refusal: null,
    annotations: [],
  };
  if (turn.toolCalls.length) {
    message.tool_calls = turn.toolCalls.map((call, i) => ({
      id: ids[i],
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
  }
  return {
    id: ctx.id('chatcmpl-'),
    object: 'chat.completion',
    created: ctx.created,
    model: turn.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(turn) }],
    usage: chatUsage(turn),
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

/** `data:` frames: role, text deltas, each tool call's id and name then its arguments in pieces, finish, usage, [DONE]. */
export function chatCompletionEvents(turn: ResolvedTurn, ctx: WireContext): string[] {
  const includeUsage =
    (ctx.body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
  const id = ctx.id('chatcmpl-');
  const frame = (choices: object[], usage?: object): string => {
    const chunk: Record<string, unknown> = {
      id,
      object: 'chat.completion.chunk',
      created: ctx.created,
      model: turn.model,
      service_tier: 'default',
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices,
    };
    if (includeUsage) chunk.usage = usage ?? null;
    return `data: ${JSON.stringify(chunk)}\n\n`;
  };
  const delta = (d: object, finish: string | null = null) => [
    { index: 0, delta: d, logprobs: null, finish_reason: finish },
  ];

  const events = [frame(delta({ role: 'assistant', content: turn.text ? '' : null, refusal: null }))];
  if (turn.text)
    for (const piece of pieces(turn.text, turn.chunkChars)) events.push(frame(delta({ content: piece })));
  const ids = toolCallIds(turn, ctx);
  turn.toolCalls.forEach((call, index) => {
    events.push(
      frame(
        delta({
          tool_calls: [
            { index, id: ids[index], type: 'function', function: { name: call.name, arguments: '' } },
          ],
        }),
      ),
    );
    for (const piece of pieces(call.arguments, turn.chunkChars)) {
      events.push(frame(delta({ tool_calls: [{ index, function: { arguments: piece } }] })));
    }
  });
  events.push(frame(delta({}, finishReason(turn))));
  if (includeUsage) events.push(frame([], chatUsage(turn)));
  events.push('data: [DONE]\n\n');
  return events;
}

function responsesUsage(turn: ResolvedTurn) {
  const input = turn.usage.input + turn.usage.cacheRead + turn.usage.cacheWrite;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: turn.usage.cacheRead },
    output_tokens: turn.usage.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + turn.usage.output,
  };
}

interface ResponseItems {
  messageId: string;
  callItems: { id: string; call_id: string; name: string; arguments: string }[];
}

function responseItems(turn: ResolvedTurn, ctx: WireContext): ResponseItems {
  const callIds = toolCallIds(turn, ctx);
  return {
    messageId: ctx.id('msg_'),
    callItems: turn.toolCalls.map((call, i) => ({
      id: ctx.id('fc_'),
      call_id: callIds[i] as string,
      name: call.name,
      arguments: call.arguments,
    })),
  };
}

const outputText = (text: string) => ({ type: 'output_text', annotations: [], logprobs: [], text });
const messageItem = (id: string, text: string, status: string) => ({
  id,
  type: 'message',
  status,
  content: status === 'completed' ? [outputText(text)] : [],
  role: 'assistant',
});
const functionCallItem = (call: ResponseItems['callItems'][number], status: string) => ({
  id: call.id,
  type: 'function_call',
  status,
  arguments: status === 'completed' ? call.arguments : '',
  call_id: call.call_id,
  name: call.name,
});

/** A message item when there is text or nothing else to say; a function_call item per tool call. */
function hasMessage(turn: ResolvedTurn): boolean {
  return turn.text !== '' || turn.toolCalls.length === 0;
}

function responseObject(
  turn: ResolvedTurn,
  ctx: WireContext,
  id: string,
  state: 'in_progress' | 'done',
  output: object[],
): object {
  const incomplete = turn.finish === 'length';
  const b = ctx.body;
  return {
    id,
    object: 'response',
    created_at: ctx.created,
    status: state === 'in_progress' ? 'in_progress' : incomplete ? 'incomplete' : 'completed',
    background: false,
    error: null,
    incomplete_details: state === 'done' && incomplete ? { reason: 'max_output_tokens' } : null,
    instructions: b.instructions ?? null,
    max_output_tokens: b.max_output_tokens ?? null,
    model: turn.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: b.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    store: b.store ?? true,
    temperature: b.temperature ?? 1,
    text: { format: { type: 'text' } },
    tool_choice: b.tool_choice ?? 'auto',
    tools: b.tools ?? [],
    top_p: b.top_p ?? 1,
    truncation: 'disabled',
    usage: state === 'done' ? responsesUsage(turn) : null,
    user: null,
    metadata: b.metadata ?? {},
  };
}

export function responseBody(turn: ResolvedTurn, ctx: WireContext): object {
  const items = responseItems(turn, ctx);
  const output: object[] = hasMessage(turn) ? [messageItem(items.messageId, turn.text, 'completed')] : [];
  for (const call of items.callItems) output.push(functionCallItem(call, 'completed'));
  return responseObject(turn, ctx, ctx.id('resp_'), 'done', output);
}

/** `event:`/`data:` frames with a sequence_number each, from response.created to response.completed. */
export function responseEvents(turn: ResolvedTurn, ctx: WireContext): string[] {
  const id = ctx.id('resp_');
  const items = responseItems(turn, ctx);
  const events: string[] = [];
  const emit = (type: string, fields: object) => {
    const data = JSON.stringify({ type, sequence_number: events.length, ...fields });
    events.push(`event: ${type}\ndata: ${data}\n\n`);
  };
  emit('response.created', { response: responseObject(turn, ctx, id, 'in_progress', []) });
  emit('response.in_progress', { response: responseObject(turn, ctx, id, 'in_progress', []) });

  const output: object[] = [];
  if (hasMessage(turn)) {
    const at = { item_id: items.messageId, output_index: output.length, content_index: 0 };
    emit('response.output_item.added', {
      output_index: at.output_index,
      item: messageItem(items.messageId, '', 'in_progress'),
    });
    emit('response.content_part.added', { ...at, part: outputText('') });
    if (turn.text) {
      for (const delta of pieces(turn.text, turn.chunkChars)) {
        emit('response.output_text.delta', { ...at, delta, logprobs: [] });
      }
    }
    emit('response.output_text.done', { ...at, text: turn.text, logprobs: [] });
    emit('response.content_part.done', { ...at, part: outputText(turn.text) });
    const done = messageItem(items.messageId, turn.text, 'completed');
    emit('response.output_item.done', { output_index: at.output_index, item: done });
    output.push(done);
  }
  for (const call of items.callItems) {
    const outputIndex = output.length;
    emit('response.output_item.added', {
      output_index: outputIndex,
      item: functionCallItem(call, 'in_progress'),
    });
    for (const delta of pieces(call.arguments, turn.chunkChars)) {
      emit('response.function_call_arguments.delta', { item_id: call.id, output_index: outputIndex, delta });
    }
    emit('response.function_call_arguments.done', {
      item_id: call.id,
      output_index: outputIndex,
      name: call.name,
      arguments: call.arguments,
    });
    const done = functionCallItem(call, 'completed');
    emit('response.output_item.done', { output_index: outputIndex, item: done });
    output.push(done);
  }
  const final = responseObject(turn, ctx, id, 'done', output);
  emit(turn.finish === 'length' ? 'response.incomplete' : 'response.completed', { response: final });
  return events;
}

export function modelListBody(models: string[], created: number): object {
  return {
    object: 'list',
    data: models.map((id) => ({ id, object: 'model', created, owned_by: 'system' })),
  };
}

const ERROR_TYPES: Record<number, [type: string, code: string | null]> = {
  400: ['invalid_request_error', null],
  401: ['invalid_request_error', 'invalid_api_key'],
  403: ['invalid_request_error', 'unsupported_country_region_territory'],
  404: ['invalid_request_error', 'model_not_found'],
  429: ['requests', 'rate_limit_exceeded'],
  500: ['server_error', null],
  503: ['server_error', null],
};

export function openAiErrorBody(status: number, message: string, type?: string): object {
  const [defaultType, code] = ERROR_TYPES[status] ?? ['server_error', null];
  return { error: { message, type: type ?? defaultType, param: null, code } };
}

/** A mid-stream error: the SDK throws on a `data:` chunk that carries an `error` field. */
export function openAiStreamError(status: number, message: string, type?: string): string {
  return `data: ${JSON.stringify(openAiErrorBody(status, message, type))}\n\n`;
}
