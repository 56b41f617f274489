/**
 * What the fake model provider answers, in provider-neutral terms: the same script drives the
 * OpenAI and the Anthropic formats, so a conversation test reads the same for either provider.
 */

/** Token counts. `input` is fresh input: OpenAI's prompt_tokens is reported as input + cacheRead + cacheWrite. */
export interface ScriptedUsage {
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheWrite?: number;
}

export interface ScriptedToolCall {
  /** Defaults to a fresh provider-style id (call_…, toolu_…). */
  id?: string;
  name: string;
  /** An object is sent as JSON; a string is sent verbatim (so a test can send broken JSON). */
  arguments: Record<string, unknown> | string;
}

/** A model turn: text, then tool calls, streamed in `chunkChars`-sized pieces when the client streams. */
export interface ModelReply {
  text?: string;
  toolCalls?: ScriptedToolCall[];
  /** Missing counts are estimated from the request and reply sizes (4 characters a token). */
  usage?: ScriptedUsage;
  /** 'length' ends the turn as if max tokens were hit (finish_reason length, stop_reason max_tokens). */
  finish?: 'stop' | 'length';
  /** The model name the reply reports; defaults to the requested one. */
  model?: string;
  /** Characters per streamed text or arguments delta (default 5). */
  chunkChars?: number;
  /** Wait before sending anything, status line included. */
  delayMs?: number;
  /** Wait between streamed events. */
  chunkDelayMs?: number;
}

/** An HTTP error in the provider's own error shape; mid-stream (as an SSE error event) with `afterChunks`. */
export interface ErrorReply {
  status: number;
  message?: string;
  /** The provider's error type; defaults by status (rate_limit_error, overloaded_error, server_error…). */
  type?: string;
  /** Sent as Retry-After. */
  retryAfterSeconds?: number;
  /** For streaming requests: answer 200, send this many events of `reply`, then the error event. */
  afterChunks?: number;
  reply?: ModelReply;
  delayMs?: number;
}

/**
 * A broken upstream. 'reset' sends a TCP RST; 'hang' never answers (or stops sending mid-stream)
 * and keeps the connection open until the client gives up or the fake closes.
 */
export interface FaultReply {
  fault: 'reset' | 'hang';
  /** For streaming requests: send this many events of `reply` first. */
  afterChunks?: number;
  reply?: ModelReply;
  delayMs?: number;
}

/**
 * An answer the test wrote out itself (a captured one, say), sent as it is: a JSON `body` with
 * `status` (default 200) and extra `headers`, or SSE `events` (the text of each, blank line
 * included; `{ waitMs }` pauses) then ending as `ending` says (default 'end').
 */
export type VerbatimReply =
  | { body: unknown; status?: number; headers?: Record<string, string>; delayMs?: number }
  | { events: (string | { waitMs: number })[]; ending?: 'end' | 'reset' | 'hang'; delayMs?: number };

export type ScriptedReply = ModelReply | ErrorReply | FaultReply | VerbatimReply;

/** A request as the fake received it. */
export interface RecordedRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  query: string;
  /** Node's lower-cased header map. */
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body, or undefined for a GET or a body that is not JSON. */
  body: unknown;
  /** The body as it arrived, for checking that a proxy forwarded it byte for byte. */
  rawBody: string;
  provider: 'openai' | 'anthropic';
  /** Set when the client closed the connection before the reply ended (a cancelled stream). */
  abortedByClient: boolean;
  /** performance.now() as each event of a paced stream (delays or waits) was written. */
  eventSentAt: number[];
}

/** A reply, or a function of the request that produces one (for echoing or branching). */
export type ScriptEntry = ScriptedReply | ((request: RecordedRequest) => ScriptedReply);

export function isVerbatimReply(reply: ScriptedReply): reply is VerbatimReply {
  return 'body' in reply || 'events' in reply;
}

export function isErrorReply(reply: ScriptedReply): reply is ErrorReply {
  return 'status' in reply && typeof reply.status === 'number' && !isVerbatimReply(reply);
}

export function isFaultReply(reply: ScriptedReply): reply is FaultReply {
  return 'fault' in reply;
}

/** A model turn with every default filled in, ready to be written in a provider's format. */
export interface ResolvedTurn {
  text: string;
  toolCalls: { id: string | undefined; name: string; arguments: string }[];
  usage: Required<ScriptedUsage>;
  finish: 'stop' | 'length';
  model: string;
  chunkChars: number;
}

/** What a wire format needs besides the turn: ids, the time, the request body. */
export interface WireContext {
  /** A fresh id with a provider prefix (chatcmpl-, call_, resp_, toolu_…). */
  id(prefix: string): string;
  /** Unix seconds. */
  created: number;
  body: Record<string, unknown>;
}

export function estimateTokens(chars: number): number {
  return Math.max(1, Math.ceil(chars / 4));
}

export function resolveTurn(reply: ModelReply, requestModel: string, requestChars: number): ResolvedTurn {
  const text = reply.text ?? '';
  const toolCalls = (reply.toolCalls ?? []).map((call) => ({
    id: call.id,
    name: call.name,
    arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
  }));
  const outputChars = toolCalls.reduce((sum, call) => sum + call.arguments.length, text.length);
  return {
    text,
    toolCalls,
    usage: {
      input: reply.usage?.input ?? estimateTokens(requestChars),
      output: reply.usage?.output ?? estimateTokens(outputChars),
      cacheRead: reply.usage?.cacheRead ?? 0,
      cacheWrite: reply.usage?.cacheWrite ?? 0,
    },
    finish: reply.finish ?? 'stop',
    model: reply.model ?? requestModel,
    chunkChars: Math.max(1, reply.chunkChars ?? 5),
  };
}

/** Splits text into pieces of `size` characters (at least one piece, possibly empty). */
export function pieces(text: string, size: number): string[] {
  if (text.length <= size) return [text];
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** The text of the last user message, from a chat.completions, Responses or Anthropic body. */
export function lastUserText(body: unknown): string {
  const b = body as { messages?: unknown; input?: unknown } | undefined;
  if (typeof b?.input === 'string') return b.input;
  const list = (Array.isArray(b?.messages) ? b.messages : Array.isArray(b?.input) ? b.input : []) as {
    role?: string;
    content?: unknown;
  }[];
  for (let i = list.length - 1; i >= 0; i--) {
    const message = list[i];
    if (message?.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    if (Array.isArray(message.content)) {
      return (message.content as { type?: string; text?: string }[])
        .filter((part) => typeof part.text === 'string')
        .map((part) => part.text)
        .join('');
    }
  }
  return '';
}

/** The reply when the script is empty: an echo of the last user message. */
export function echoReply(request: RecordedRequest): ModelReply {
  return { text: `echo: ${lastUserText(request.body)}` };
}
