import type { ChatMessage, ChatPart } from '@warren/core';
import type { AssistantModelMessage, ModelMessage, ToolModelMessage } from 'ai';

type AssistantContent = Exclude<AssistantModelMessage['content'], string>;
type ToolContent = ToolModelMessage['content'];

/** What the model is told about a tool call that never finished (the turn was interrupted). */
export const UNFINISHED_TOOL_CALL = 'The tool call did not finish: the turn was interrupted.';

/**
 * The conversation as the model sees it. An assistant turn of several steps is stored as one
 * message (text, tool calls, tool results, text...): it becomes assistant and tool messages
 * alternating, as the providers require. Error parts are Warren's, not the model's: left out.
 */
export function toModelMessages(messages: ChatMessage[]): ModelMessage[] {
  const out: ModelMessage[] = [];
  for (const message of messages) {
    if (message.role === 'user') {
      const text = message.parts.map((p) => (p.type === 'text' ? p.text : '')).join('');
      out.push({ role: 'user', content: text });
    } else out.push(...assistantMessages(message.parts));
  }
  return out;
}

function assistantMessages(parts: ChatPart[]): ModelMessage[] {
  const out: ModelMessage[] = [];
  let assistant: AssistantContent = [];
  let results: ToolContent = [];
  const open = new Map<string, string>();
  const flush = () => {
    // Every call needs a result before the next assistant message; an interrupted one gets a note.
    for (const [toolCallId, toolName] of open)
      results.push(toolResult(toolCallId, toolName, UNFINISHED_TOOL_CALL, true));
    open.clear();
    if (assistant.length) out.push({ role: 'assistant', content: assistant });
    if (results.length) out.push({ role: 'tool', content: results });
    assistant = [];
    results = [];
  };
  for (const part of parts) {
    if (part.type === 'text' && part.text) {
      if (results.length) flush();
      assistant.push({ type: 'text', text: part.text });
    } else if (part.type === 'reasoning' && part.text) {
      if (results.length) flush();
      assistant.push({ type: 'reasoning', text: part.text });
    } else if (part.type === 'tool-call' && part.state === 'called') {
      if (results.length) flush();
      assistant.push({
        type: 'tool-call',
        toolCallId: part.toolCallId,
        toolName: part.toolName,
        input: part.args,
      });
      open.set(part.toolCallId, part.toolName);
    } else if (part.type === 'tool-result' && open.has(part.toolCallId)) {
      open.delete(part.toolCallId);
      results.push(toolResult(part.toolCallId, part.toolName, part.result, part.isError));
    }
  }
  flush();
  return out;
}

function toolResult(
  toolCallId: string,
  toolName: string,
  text: string,
  isError: boolean,
): ToolContent[number] {
  return {
    type: 'tool-result',
    toolCallId,
    toolName,
    output: isError ? { type: 'error-text', value: text } : { type: 'text', value: text },
  };
}
