/**
 * Token usage and tool calls read from the provider's own response fields, streamed or not.
 *
 * Usage is normalised so that each count is billed at exactly one price: `input` is fresh
 * (uncached) input, `cacheRead` and `cacheWrite` are the cached parts, `output` is everything
 * generated (reasoning included). Anthropic reports it that way already; OpenAI's
 * prompt_tokens (Responses: input_tokens) includes the cached tokens, so they are taken out.
 */
export interface TokenUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export interface ToolCall {
  id: string;
  name: string;
}

/** The three wire formats the gateway meters. */
export type WireFormat = 'openai-chat' | 'openai-responses' | 'anthropic';

export const NO_USAGE: Readonly<TokenUsage> = Object.freeze({
  input: 0,
  output: 0,
  cacheRead: 0,
  cacheWrite: 0,
});

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/**
 * OpenAI usage, chat.completions (prompt_tokens, completion_tokens, prompt_tokens_details) or
 * Responses (input_tokens, output_tokens, input_tokens_details). OpenAI itself reports no cache
 * writes; some OpenAI-compatible servers do, inside the details, and they are priced as such.
 */
export function openAiUsage(usage: unknown): TokenUsage | undefined {
  if (!isObject(usage)) return undefined;
  const prompt = count(usage.prompt_tokens ?? usage.input_tokens);
  const details = usage.prompt_tokens_details ?? usage.input_tokens_details;
  const cacheRead = isObject(details) ? count(details.cached_tokens) : 0;
  const cacheWrite = isObject(details)
    ? count(details.cache_write_tokens ?? details.cache_creation_tokens)
    : 0;
  return {
    input: Math.max(0, prompt - cacheRead - cacheWrite),
    output: count(usage.completion_tokens ?? usage.output_tokens),
    cacheRead,
    cacheWrite,
  };
}

/** Anthropic usage: input_tokens already excludes the cached parts. Missing fields keep `previous`. */
export function anthropicUsage(usage: unknown, previous: TokenUsage = NO_USAGE): TokenUsage {
  if (!isObject(usage)) return previous;
  const pick = (field: unknown, before: number) =>
    field === undefined || field === null ? before : count(field);
  return {
    input: pick(usage.input_tokens, previous.input),
    output: pick(usage.output_tokens, previous.output),
    cacheRead: pick(usage.cache_read_input_tokens, previous.cacheRead),
    cacheWrite: pick(usage.cache_creation_input_tokens, previous.cacheWrite),
  };
}

/** What one call consumed, as far as the response (or the part of it that arrived) says. */
export interface MeteredCall {
  usage: TokenUsage;
  toolCalls: ToolCall[];
}

/** Usage and tool calls from a complete non-streamed response body. */
export function meterJson(format: WireFormat, body: unknown): MeteredCall {
  const calls = new ToolCalls();
  if (!isObject(body)) return { usage: { ...NO_USAGE }, toolCalls: [] };
  if (format === 'anthropic') {
    for (const block of arrayOf(body.content)) calls.addAnthropic(block);
    return { usage: anthropicUsage(body.usage), toolCalls: calls.list() };
  }
  if (format === 'openai-responses') {
    for (const item of arrayOf(body.output)) calls.addResponsesItem(item);
  } else {
    for (const choice of arrayOf(body.choices)) {
      const message = isObject(choice) ? choice.message : undefined;
      if (isObject(message)) for (const call of arrayOf(message.tool_calls)) calls.addChat(call, -1);
    }
  }
  return { usage: openAiUsage(body.usage) ?? { ...NO_USAGE }, toolCalls: calls.list() };
}

function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Tool calls in the order the model asked for them, each once. */
class ToolCalls {
  readonly #byKey = new Map<string, ToolCall>();

  list(): ToolCall[] {
    return [...this.#byKey.values()].filter((call) => call.name !== '' || call.id !== '');
  }

  /** A chat.completions tool call, whole or a streamed delta (keyed by its index when streamed). */
  addChat(call: unknown, index: number): void {
    if (!isObject(call)) return;
    const fn = isObject(call.function) ? call.function : undefined;
    const id = typeof call.id === 'string' ? call.id : '';
    const name = typeof fn?.name === 'string' ? fn.name : '';
    const key = index >= 0 ? `#${index}` : id || `#${this.#byKey.size}`;
    const known = this.#byKey.get(key);
    if (!known) this.#byKey.set(key, { id, name });
    else {
      if (!known.id && id) known.id = id;
      if (!known.name && name) known.name = name;
    }
  }

  /** A Responses API output item; function and custom tool calls are the ones a client runs. */
  addResponsesItem(item: unknown): void {
    if (!isObject(item) || (item.type !== 'function_call' && item.type !== 'custom_tool_call')) return;
    const id = typeof item.call_id === 'string' ? item.call_id : typeof item.id === 'string' ? item.id : '';
    if (!this.#byKey.has(id))
      this.#byKey.set(id, { id, name: typeof item.name === 'string' ? item.name : '' });
  }

  addAnthropic(block: unknown): void {
    if (!isObject(block) || (block.type !== 'tool_use' && block.type !== 'server_tool_use')) return;
    const id = typeof block.id === 'string' ? block.id : '';
    if (!this.#byKey.has(id))
      this.#byKey.set(id, { id, name: typeof block.name === 'string' ? block.name : '' });
  }
}

/**
 * Meters a streamed response from its parsed events. Most events (text deltas) carry nothing
 * to meter, so each is looked at cheaply and only the few that matter are JSON-parsed.
 */
export class StreamMeter {
  #usage: TokenUsage = { ...NO_USAGE };
  readonly #calls = new ToolCalls();

  constructor(private readonly format: WireFormat) {}

  result(): MeteredCall {
    return { usage: { ...this.#usage }, toolCalls: this.#calls.list() };
  }

  onEvent(event: string, data: string): void {
    if (this.format === 'anthropic') this.#anthropic(event, data);
    else if (this.format === 'openai-responses') this.#responses(event, data);
    else this.#chat(data);
  }

  #chat(data: string): void {
    // Every chunk says "usage": null until the last, and only a tool call's first delta names it
    // ("name" cannot appear unescaped inside the arguments string). Skip the rest unparsed.
    if (!USAGE_OBJECT.test(data) && !(data.includes('"tool_calls"') && data.includes('"name"'))) return;
    const chunk = parse(data);
    if (!chunk) return;
    const usage = openAiUsage(chunk.usage);
    if (usage) this.#usage = usage;
    for (const choice of arrayOf(chunk.choices)) {
      const delta = isObject(choice) ? choice.delta : undefined;
      if (!isObject(delta)) continue;
      for (const call of arrayOf(delta.tool_calls)) {
        const index = isObject(call) && typeof call.index === 'number' ? call.index : -1;
        this.#calls.addChat(call, index);
      }
    }
  }

  #responses(event: string, data: string): void {
    const payload = interesting(event, data, RESPONSES_TYPES);
    if (!payload) return;
    const type = event || payload.type;
    if (type === 'response.output_item.added' || type === 'response.output_item.done') {
      this.#calls.addResponsesItem(payload.item);
      return;
    }
    const response = isObject(payload.response) ? payload.response : undefined;
    const usage = openAiUsage(response?.usage);
    if (usage) this.#usage = usage;
    for (const item of arrayOf(response?.output)) this.#calls.addResponsesItem(item);
  }

  #anthropic(event: string, data: string): void {
    const payload = interesting(event, data, ANTHROPIC_TYPES);
    if (!payload) return;
    const type = event || payload.type;
    if (type === 'message_start') {
      const message = isObject(payload.message) ? payload.message : undefined;
      this.#usage = anthropicUsage(message?.usage, this.#usage);
    } else if (type === 'message_delta') {
      // message_delta counts are cumulative for the message: they replace, never add.
      this.#usage = anthropicUsage(payload.usage, this.#usage);
    } else this.#calls.addAnthropic(payload.content_block);
  }
}

const USAGE_OBJECT = /"usage"\s*:\s*\{/;
/** The Responses API events that carry usage or tool calls. */
export const RESPONSES_TYPES = [
  'response.completed',
  'response.incomplete',
  'response.failed',
  'response.output_item.added',
  'response.output_item.done',
];
/** The Anthropic events that carry usage or tool calls. */
export const ANTHROPIC_TYPES = ['message_start', 'message_delta', 'content_block_start'];

/**
 * The parsed event when its type is one of `wanted`: by its `event:` name, or for streams
 * without names, by its `type` field (looked for in the text before paying for a parse).
 */
function interesting(event: string, data: string, wanted: readonly string[]): Json | undefined {
  if (event) return wanted.includes(event) ? parse(data) : undefined;
  if (!wanted.some((type) => data.includes(`"${type}"`))) return undefined;
  const payload = parse(data);
  return typeof payload?.type === 'string' && wanted.includes(payload.type) ? payload : undefined;
}

function parse(data: string): Json | undefined {
  try {
    const value: unknown = JSON.parse(data);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
