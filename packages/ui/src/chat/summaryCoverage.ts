import type { ChatMessage, ChatSummary } from '@warren/core';

/**
 * How many messages of the conversation a summary does not reflect: those after the last one it
 * covers, and any that changed after it was written (an answer that was still streaming when the
 * summary was asked for). Queued messages (no seq yet) are not part of the conversation.
 */
export function messagesNotInSummary(
  summary: ChatSummary,
  messages: readonly Pick<ChatMessage, 'seq' | 'updatedAt'>[],
): number {
  const written = Date.parse(summary.createdAt);
  return messages.filter(
    (m) => m.seq !== null && (m.seq > summary.upToSeq || Date.parse(m.updatedAt) > written),
  ).length;
}

/** The later of two summaries of one chat (the stream's copy, or the answer to the request). */
export function newerSummary(
  a: ChatSummary | null | undefined,
  b: ChatSummary | null | undefined,
): ChatSummary | undefined {
  if (!a || !b) return a ?? b ?? undefined;
  return Date.parse(b.createdAt) > Date.parse(a.createdAt) ? b : a;
}
