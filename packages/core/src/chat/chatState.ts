import type { Chat, ChatDelta, ChatMessage, ChatPart, ChatStreamEvent } from './schemas';

/** A chat as a client sees it: the last snapshot with every later delta folded in. */
export interface ChatState {
  seq: number;
  chat: Chat;
  messages: ChatMessage[];
}

/**
 * Folds one subscription event into the state (pure; returns a new state). A snapshot
 * replaces everything, so a reconnecting client starts over from it; a delta must carry the
 * next seq, else the client missed something and throws rather than show a wrong chat.
 */
export function applyChatEvent(state: ChatState | undefined, event: ChatStreamEvent): ChatState {
  if (event.type === 'snapshot') return { seq: event.seq, chat: event.chat, messages: event.messages };
  if (!state) throw new Error('A chat delta arrived before its snapshot.');
  if (event.seq !== state.seq + 1)
    throw new Error(
      `Chat delta ${event.seq} arrived after ${state.seq}: the stream skipped or repeated one.`,
    );
  return { seq: event.seq, ...applyChatDelta(state, event.delta) };
}

export function applyChatDelta(
  state: Pick<ChatState, 'chat' | 'messages'>,
  delta: ChatDelta,
): Pick<ChatState, 'chat' | 'messages'> {
  switch (delta.type) {
    case 'chat':
      return { chat: delta.chat, messages: state.messages };
    case 'message': {
      const at = state.messages.findIndex((m) => m.id === delta.message.id);
      const messages = state.messages.slice();
      if (at < 0) messages.push(delta.message);
      else messages[at] = delta.message;
      return { chat: state.chat, messages: sortMessages(messages) };
    }
    case 'messages-removed': {
      const gone = new Set(delta.messageIds);
      return { chat: state.chat, messages: state.messages.filter((m) => !gone.has(m.id)) };
    }
    case 'message-status':
      return withMessage(state, delta.messageId, (m) => ({
        ...m,
        status: delta.status,
        updatedAt: delta.updatedAt,
      }));
    case 'part-start':
    case 'part-update':
      return withMessage(state, delta.messageId, (m) => {
        const parts = m.parts.slice();
        parts[delta.index] = delta.part;
        return { ...m, parts };
      });
    case 'text-delta':
    case 'tool-input-delta':
      return withMessage(state, delta.messageId, (m) => {
        const parts = m.parts.slice();
        parts[delta.index] = appendToPart(parts[delta.index], delta);
        return { ...m, parts };
      });
  }
}

/** Sequenced messages in order, then the queue in the order it was sent. */
export function sortMessages(messages: ChatMessage[]): ChatMessage[] {
  return messages.slice().sort((a, b) => {
    if (a.seq !== null && b.seq !== null) return a.seq - b.seq;
    if (a.seq !== null) return -1;
    if (b.seq !== null) return 1;
    return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0;
  });
}

function appendToPart(
  part: ChatPart | undefined,
  delta: Extract<ChatDelta, { type: 'text-delta' | 'tool-input-delta' }>,
): ChatPart {
  if (delta.type === 'text-delta' && (part?.type === 'text' || part?.type === 'reasoning'))
    return { ...part, text: part.text + delta.text };
  if (delta.type === 'tool-input-delta' && part?.type === 'tool-call')
    return { ...part, argsText: part.argsText + delta.delta };
  throw new Error(`Chat delta ${delta.type} does not fit part ${delta.index}.`);
}

function withMessage(
  state: Pick<ChatState, 'chat' | 'messages'>,
  id: string,
  change: (message: ChatMessage) => ChatMessage,
): Pick<ChatState, 'chat' | 'messages'> {
  const at = state.messages.findIndex((m) => m.id === id);
  if (at < 0) throw new Error(`Chat delta names message ${id}, which the chat does not have.`);
  const messages = state.messages.slice();
  messages[at] = change(messages[at] as ChatMessage);
  return { chat: state.chat, messages };
}

/** The text of a message's text parts, joined: what a person reads as its answer. */
export function messageText(message: Pick<ChatMessage, 'parts'>): string {
  return message.parts
    .filter((p): p is Extract<ChatPart, { type: 'text' }> => p.type === 'text')
    .map((p) => p.text)
    .join('');
}
