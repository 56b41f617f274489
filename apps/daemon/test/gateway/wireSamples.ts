/**
 * Provider responses as their APIs send them (shapes copied from real captures, numbers made
 * up), used by the unit tests of the meters and by the fake upstream of the gateway tests.
 * Each is a list of SSE events (the text of each, blank line included) or a JSON body.
 */

const chunk = (fields: Record<string, unknown>) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1760000000, model: 'gpt-4.1', ...fields })}\n\n`;

/** chat.completions, streamed with include_usage: a tool call, then the usage chunk. */
export const openAiChatStream = (model = 'gpt-4.1'): string[] => [
  chunk({
    model,
    choices: [
      {
        index: 0,
        delta: {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              index: 0,
              id: 'call_weather1',
              type: 'function',
              function: { name: 'get_weather', arguments: '' },
            },
          ],
        },
        finish_reason: null,
      },
    ],
    usage: null,
  }),
  chunk({
    model,
    choices: [
      {
        index: 0,
        delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] },
        finish_reason: null,
      },
    ],
    usage: null,
  }),
  chunk({
    model,
    choices: [
      {
        index: 0,
        delta: {
          tool_calls: [
            { index: 0, function: { arguments: '"Paris"}' } },
            { index: 1, id: 'call_time2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
          ],
        },
        finish_reason: null,
      },
    ],
    usage: null,
  }),
  chunk({ model, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }], usage: null }),
  chunk({
    model,
    choices: [],
    usage: {
      prompt_tokens: 1200,
      completion_tokens: 35,
      total_tokens: 1235,
      prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    },
  }),
  'data: [DONE]\n\n',
];

/** chat.completions, not streamed: the same call in one body. */
export const openAiChatJson = (model = 'gpt-4.1') => ({
  id: 'chatcmpl-2',
  object: 'chat.completion',
  created: 1760000000,
  model,
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_weather1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
        ],
      },
      finish_reason: 'tool_calls',
    },
  ],
  usage: {
    prompt_tokens: 1200,
    completion_tokens: 35,
    total_tokens: 1235,
    prompt_tokens_details: { cached_tokens: 1024 },
  },
});

/** gpt-4.1 at USD 2 input, 0.50 cached input, 8 output per million tokens, in micro-dollars. */
export const OPENAI_PRICES = { input: 2_000_000, output: 8_000_000, cacheRead: 500_000, cacheWrite: 0 };
/** 176 * 2_000_000 + 1024 * 500_000 + 35 * 8_000_000 */
export const OPENAI_CHAT_COST_PICO = 1_144_000_000;

const responseBody = (model: string) => ({
  id: 'resp_1',
  object: 'response',
  created_at: 1760000000,
  status: 'completed',
  model,
  output: [
    {
      type: 'reasoning',
      id: 'rs_1',
      summary: [],
    },
    {
      type: 'function_call',
      id: 'fc_1',
      call_id: 'call_lookup1',
      name: 'lookup_order',
      arguments: '{"id":42}',
      status: 'completed',
    },
  ],
  usage: {
    input_tokens: 900,
    input_tokens_details: { cached_tokens: 512 },
    output_tokens: 60,
    output_tokens_details: { reasoning_tokens: 20 },
    total_tokens: 960,
  },
});

const responsesEvent = (type: string, fields: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;

/** The Responses API, streamed: the function call arrives as an output item; usage with response.completed. */
export const openAiResponsesStream = (model = 'gpt-4.1'): string[] => {
  const done = responseBody(model);
  return [
    responsesEvent('response.created', {
      sequence_number: 0,
      response: { ...done, status: 'in_progress', output: [], usage: null },
    }),
    responsesEvent('response.output_item.added', {
      sequence_number: 1,
      output_index: 1,
      item: {
        type: 'function_call',
        id: 'fc_1',
        call_id: 'call_lookup1',
        name: 'lookup_order',
        arguments: '',
      },
    }),
    responsesEvent('response.function_call_arguments.delta', {
      sequence_number: 2,
      item_id: 'fc_1',
      output_index: 1,
      delta: '{"id":42}',
    }),
    responsesEvent('response.completed', { sequence_number: 3, response: done }),
  ];
};

export const openAiResponsesJson = (model = 'gpt-4.1') => responseBody(model);
/** 388 * 2_000_000 + 512 * 500_000 + 60 * 8_000_000 */
export const OPENAI_RESPONSES_COST_PICO = 1_512_000_000;

const anthropicEvent = (type: string, fields: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;

/** The Messages API, streamed: usage in message_start and (cumulative output) in message_delta. */
export const anthropicStream = (model = 'claude-sonnet-4-5'): string[] => [
  anthropicEvent('message_start', {
    message: {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      usage: {
        input_tokens: 50,
        cache_creation_input_tokens: 2000,
        cache_read_input_tokens: 8000,
        output_tokens: 1,
      },
    },
  }),
  anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Let me check.' } }),
  anthropicEvent('content_block_stop', { index: 0 }),
  anthropicEvent('content_block_start', {
    index: 1,
    content_block: { type: 'tool_use', id: 'toolu_01A', name: 'read_file', input: {} },
  }),
  anthropicEvent('content_block_delta', {
    index: 1,
    delta: { type: 'input_json_delta', partial_json: '{"path":"README.md"}' },
  }),
  anthropicEvent('content_block_stop', { index: 1 }),
  anthropicEvent('message_delta', {
    delta: { stop_reason: 'tool_use', stop_sequence: null },
    usage: { output_tokens: 120 },
  }),
  anthropicEvent('message_stop', {}),
];

export const anthropicJson = (model = 'claude-sonnet-4-5') => ({
  id: 'msg_2',
  type: 'message',
  role: 'assistant',
  model,
  content: [
    { type: 'text', text: 'Let me check.' },
    { type: 'tool_use', id: 'toolu_01A', name: 'read_file', input: { path: 'README.md' } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: {
    input_tokens: 50,
    cache_creation_input_tokens: 2000,
    cache_read_input_tokens: 8000,
    output_tokens: 120,
  },
});

/** claude-sonnet-4-5 at USD 3 input, 15 output, 0.30 cache read, 3.75 cache write per million. */
export const ANTHROPIC_PRICES = {
  input: 3_000_000,
  output: 15_000_000,
  cacheRead: 300_000,
  cacheWrite: 3_750_000,
};
/** 50 * 3_000_000 + 8000 * 300_000 + 2000 * 3_750_000 + 120 * 15_000_000 */
export const ANTHROPIC_COST_PICO = 11_850_000_000;
