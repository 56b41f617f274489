import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import type { ScriptEntry } from './FakeModelProvider';

/**
 * Conversations run with the official SDKs, reduced to what a user of the SDK sees: the text, the
 * tool calls with their arguments assembled, the token counts and why the turn stopped. The direct
 * test expects `expected`; the gateway test expects the same outcome through the gateway.
 */

export const OPENAI_MODEL = 'gpt-4.1-mini';
export const ANTHROPIC_MODEL = 'claude-sonnet-4-5';

export interface SdkClients {
  openai: OpenAI;
  anthropic: Anthropic;
}

export interface Outcome {
  text: string;
  toolCalls: { id: string; name: string; arguments: unknown }[];
  /** Provider-neutral: input excludes cached tokens. */
  usage: { input: number; output: number; cacheRead: number; cacheWrite: number };
  stop: string;
}

export interface SdkScenario {
  name: string;
  provider: 'openai' | 'anthropic';
  streaming: boolean;
  script: ScriptEntry[];
  expected: Outcome;
  /** The outcome, and how many text or argument deltas arrived (more than one proves it streamed). */
  run(clients: SdkClients): Promise<{ outcome: Outcome; deltas: number }>;
}

const weatherSchema = {
  type: 'object',
  properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
  required: ['city'],
};
const chatTools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  {
    type: 'function',
    function: { name: 'get_weather', description: 'Current weather', parameters: weatherSchema },
  },
];
const responsesTools: OpenAI.Responses.Tool[] = [
  {
    type: 'function',
    name: 'get_weather',
    description: 'Current weather',
    parameters: weatherSchema,
    strict: false,
  },
];
const anthropicTools: Anthropic.Tool[] = [
  {
    name: 'get_weather',
    description: 'Current weather',
    input_schema: weatherSchema as Anthropic.Tool.InputSchema,
  },
];
const question = 'What is the weather in Paris?';
const weatherCall = (id: string) => ({
  id,
  name: 'get_weather',
  arguments: { city: 'Paris', unit: 'celsius' },
});

export function chatOutcome(completion: OpenAI.Chat.Completions.ChatCompletion): Outcome {
  const choice = completion.choices[0];
  const cached = completion.usage?.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    text: choice?.message.content ?? '',
    toolCalls: (choice?.message.tool_calls ?? []).flatMap((call) =>
      call.type === 'function'
        ? [{ id: call.id, name: call.function.name, arguments: JSON.parse(call.function.arguments) }]
        : [],
    ),
    usage: {
      input: (completion.usage?.prompt_tokens ?? 0) - cached,
      output: completion.usage?.completion_tokens ?? 0,
      cacheRead: cached,
      cacheWrite: 0,
    },
    stop: choice?.finish_reason ?? '',
  };
}

export function responseOutcome(response: OpenAI.Responses.Response): Outcome {
  const cached = response.usage?.input_tokens_details.cached_tokens ?? 0;
  return {
    text: response.output_text,
    toolCalls: response.output.flatMap((item) =>
      item.type === 'function_call'
        ? [{ id: item.call_id, name: item.name, arguments: JSON.parse(item.arguments) }]
        : [],
    ),
    usage: {
      input: (response.usage?.input_tokens ?? 0) - cached,
      output: response.usage?.output_tokens ?? 0,
      cacheRead: cached,
      cacheWrite: 0,
    },
    stop: response.status ?? '',
  };
}

export function messageOutcome(message: Anthropic.Message): Outcome {
  return {
    text: message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join(''),
    toolCalls: message.content.flatMap((block) =>
      block.type === 'tool_use' ? [{ id: block.id, name: block.name, arguments: block.input }] : [],
    ),
    usage: {
      input: message.usage.input_tokens,
      output: message.usage.output_tokens,
      cacheRead: message.usage.cache_read_input_tokens ?? 0,
      cacheWrite: message.usage.cache_creation_input_tokens ?? 0,
    },
    stop: message.stop_reason ?? '',
  };
}

const longText = 'The fake model streams this sentence in small pieces, like a real one does.';

export const sdkScenarios: SdkScenario[] = [
  {
    name: 'openai chat completion with text',
    provider: 'openai',
    streaming: false,
    script: [{ text: 'Hello from the fake model.', usage: { input: 12, output: 7, cacheRead: 4 } }],
    expected: {
      text: 'Hello from the fake model.',
      toolCalls: [],
      usage: { input: 12, output: 7, cacheRead: 4, cacheWrite: 0 },
      stop: 'stop',
    },
    async run({ openai }) {
      const completion = await openai.chat.completions.create({
        model: OPENAI_MODEL,
        messages: [{ role: 'user', content: 'Say hello.' }],
      });
      return { outcome: chatOutcome(completion), deltas: 0 };
    },
  },
  {
    name: 'openai chat completion with text and a tool call',
    provider: 'openai',
    streaming: false,
    script: [
      { text: 'Let me check.', toolCalls: [weatherCall('call_weather_a')], usage: { input: 40, output: 20 } },
    ],
    expected: {
      text: 'Let me check.',
      toolCalls: [weatherCall('call_weather_a')],
      usage: { input: 40, output: 20, cacheRead: 0, cacheWrite: 0 },
      stop: 'tool_calls',
    },
    async run({ openai }) {
      const completion = await openai.chat.completions.create({
        model: OPENAI_MODEL,
        messages: [{ role: 'user', content: question }],
        tools: chatTools,
      });
      return { outcome: chatOutcome(completion), deltas: 0 };
    },
  },
  {
    name: 'openai streamed chat text with usage',
    provider: 'openai',
    streaming: true,
    script: [{ text: longText, usage: { input: 30, output: 16, cacheRead: 10 } }],
    expected: {
      text: longText,
      toolCalls: [],
      usage: { input: 30, output: 16, cacheRead: 10, cacheWrite: 0 },
      stop: 'stop',
    },
    async run({ openai }) {
      const stream = openai.chat.completions.stream({
        model: OPENAI_MODEL,
        messages: [{ role: 'user', content: 'Tell me something.' }],
        stream_options: { include_usage: true },
      });
      let deltas = 0;
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content) deltas++;
      return { outcome: chatOutcome(await stream.finalChatCompletion()), deltas };
    },
  },
  {
    name: 'openai streamed chat tool call assembled by the SDK',
    provider: 'openai',
    streaming: true,
    script: [
      {
        toolCalls: [
          weatherCall('call_weather_b'),
          { id: 'call_time_b', name: 'get_time', arguments: { tz: 'CET' } },
        ],
        usage: { input: 55, output: 24, cacheRead: 0 },
      },
    ],
    expected: {
      text: '',
      toolCalls: [
        weatherCall('call_weather_b'),
        { id: 'call_time_b', name: 'get_time', arguments: { tz: 'CET' } },
      ],
      usage: { input: 55, output: 24, cacheRead: 0, cacheWrite: 0 },
      stop: 'tool_calls',
    },
    async run({ openai }) {
      const stream = openai.chat.completions.stream({
        model: OPENAI_MODEL,
        messages: [{ role: 'user', content: question }],
        tools: chatTools,
        stream_options: { include_usage: true },
      });
      let deltas = 0;
      for await (const chunk of stream) {
        for (const call of chunk.choices[0]?.delta.tool_calls ?? []) if (call.function?.arguments) deltas++;
      }
      return { outcome: chatOutcome(await stream.finalChatCompletion()), deltas };
    },
  },
  {
    name: 'openai responses API with text',
    provider: 'openai',
    streaming: false,
    script: [{ text: 'A response, not a completion.', usage: { input: 9, output: 6, cacheRead: 3 } }],
    expected: {
      text: 'A response, not a completion.',
      toolCalls: [],
      usage: { input: 9, output: 6, cacheRead: 3, cacheWrite: 0 },
      stop: 'completed',
    },
    async run({ openai }) {
      const response = await openai.responses.create({ model: OPENAI_MODEL, input: 'Respond.' });
      return { outcome: responseOutcome(response), deltas: 0 };
    },
  },
  {
    name: 'openai streamed responses API with text and a function call',
    provider: 'openai',
    streaming: true,
    script: [
      {
        text: 'Checking the weather.',
        toolCalls: [weatherCall('call_weather_c')],
        usage: { input: 70, output: 31, cacheRead: 64 },
      },
    ],
    expected: {
      text: 'Checking the weather.',
      toolCalls: [weatherCall('call_weather_c')],
      usage: { input: 70, output: 31, cacheRead: 64, cacheWrite: 0 },
      stop: 'completed',
    },
    async run({ openai }) {
      const stream = openai.responses.stream({ model: OPENAI_MODEL, input: question, tools: responsesTools });
      let deltas = 0;
      for await (const event of stream) {
        if (
          event.type === 'response.output_text.delta' ||
          event.type === 'response.function_call_arguments.delta'
        )
          deltas++;
      }
      return { outcome: responseOutcome(await stream.finalResponse()), deltas };
    },
  },
  {
    name: 'anthropic message with text and cache usage',
    provider: 'anthropic',
    streaming: false,
    script: [
      {
        text: 'Hello from Claude, the fake.',
        usage: { input: 21, output: 8, cacheRead: 1000, cacheWrite: 200 },
      },
    ],
    expected: {
      text: 'Hello from Claude, the fake.',
      toolCalls: [],
      usage: { input: 21, output: 8, cacheRead: 1000, cacheWrite: 200 },
      stop: 'end_turn',
    },
    async run({ anthropic }) {
      const message = await anthropic.messages.create({
        model: ANTHROPIC_MODEL,
        max_tokens: 1024,
        messages: [{ role: 'user', content: 'Say hello.' }],
      });
      return { outcome: messageOutcome(message), deltas: 0 };
    },
  },
  {
    name: 'anthropic streamed message text',
    provider: 'anthropic',
    streaming: true,
    script: [{ text: longText, usage: { input: 33, output: 17, cacheRead: 500, cacheWrite: 0 } }],
    expected: {
      text: longText,
      toolCalls: [],
      usage: { input: 33, output: 17, cacheRead: 500, cacheWrite: 0 },
      stop: 'end_turn',
    },
    async run({ anthropic }) {
      const stream = anthropic.messages.stream({
        model: ANTHROPIC_MODEL,
        max_tokens: 1024,
        messages: [{ role: 'user', content: 'Tell me something.' }],
      });
      let deltas = 0;
      for await (const event of stream) if (event.type === 'content_block_delta') deltas++;
      return { outcome: messageOutcome(await stream.finalMessage()), deltas };
    },
  },
  {
    name: 'anthropic streamed tool_use assembled by the SDK',
    provider: 'anthropic',
    streaming: true,
    script: [
      {
        text: 'Let me look that up.',
        toolCalls: [weatherCall('toolu_weather_d')],
        usage: { input: 80, output: 40, cacheRead: 0, cacheWrite: 300 },
      },
    ],
    expected: {
      text: 'Let me look that up.',
      toolCalls: [weatherCall('toolu_weather_d')],
      usage: { input: 80, output: 40, cacheRead: 0, cacheWrite: 300 },
      stop: 'tool_use',
    },
    async run({ anthropic }) {
      const stream = anthropic.messages.stream({
        model: ANTHROPIC_MODEL,
        max_tokens: 1024,
        messages: [{ role: 'user', content: question }],
        tools: anthropicTools,
      });
      let deltas = 0;
      stream.on('inputJson', () => deltas++);
      return { outcome: messageOutcome(await stream.finalMessage()), deltas };
    },
  },
];
