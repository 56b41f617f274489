import type { WantedEvent } from './SseScanner';
import { ANTHROPIC_TYPES, RESPONSES_TYPES, type WireFormat } from './usage';

/**
 * Which streamed events StreamMeter could take anything from, judged before any decoding. It
 * must let through at least every event StreamMeter acts on (StreamMeter checks each again on
 * the decoded text): for chat completions, a usage object (every other chunk says
 * `"usage":null`) or a tool call's first delta; for Anthropic and Responses, the event types
 * that carry usage or tool calls. The tests hold it to that.
 */
export function meteredEvents(format: WireFormat): WantedEvent {
  return WANTED[format];
}

const chatEvent: WantedEvent = (_event, data) =>
  hasUsageObject(data) || (data.includes('"tool_calls"') && data.includes('"name"'));

/**
 * USAGE_OBJECT.test(data), by hand: the expression took a third of the meter's time per stream,
 * trying its match at every quote of every text delta.
 */
function hasUsageObject(data: string): boolean {
  for (let at = data.indexOf('"usage"'); at >= 0; at = data.indexOf('"usage"', at + 7)) {
    let i = skipSpace(data, at + 7);
    if (data.charCodeAt(i) !== 0x3a /* : */) continue;
    i = skipSpace(data, i + 1);
    if (data.charCodeAt(i) === 0x7b /* { */) return true;
  }
  return false;
}

/**
 * Past ASCII white space (what JSON allows, and what \s matches below 0x80, plus 0xA0). Wider
 * Unicode spaces that \s also matches cannot stand there in JSON that StreamMeter could parse.
 */
function skipSpace(data: string, from: number): number {
  let i = from;
  while (isSpace(data.charCodeAt(i))) i++;
  return i;
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;
}

/** By the event's name, or for a stream without names, by its `"type"` value found in the data. */
function typedEvent(types: readonly string[]): WantedEvent {
  const quoted = types.map((type) => `"${type}"`);
  return (event, data) => (event ? types.includes(event) : quoted.some((type) => data.includes(type)));
}

const WANTED: Record<WireFormat, WantedEvent> = {
  'openai-chat': chatEvent,
  'openai-responses': typedEvent(RESPONSES_TYPES),
  anthropic: typedEvent(ANTHROPIC_TYPES),
};
