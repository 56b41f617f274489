import type { ChatMessage, ChatSummary } from '@warren/core';
import { useEffect, useState } from 'react';
import { useMutation } from '../api/hooks';
import { dateTime, timeAgo } from '../app/format';
import { Badge, ErrorMessage, Section, Spinner } from '../design';
import { Markdown } from './Markdown';
import { messagesNotInSummary, newerSummary } from './summaryCoverage';

export interface ChatSummaryRequest {
  /** The newest summary of the chat, if there is one. */
  summary: ChatSummary | undefined;
  summarize: () => Promise<void>;
  pending: boolean;
  /** The daemon's sentence when the last request failed. */
  error: string | undefined;
}

/**
 * Asking for a chat's summary. The summary reaches every watcher on the chat's stream; the
 * answer to the request is kept too, so it shows at once even while the stream reconnects.
 */
export function useChatSummary(
  chatId: string,
  current: ChatSummary | null | undefined,
  messageCount: number,
): ChatSummaryRequest {
  const call = useMutation((api, id: string) => api.chats.summarize.mutate({ chatId: id }));
  const [answer, setAnswer] = useState<ChatSummary>();
  const { reset } = call;
  // A failure said something about the chat as it was ("no messages yet"): a new message makes it stale.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the message count is what makes the error stale.
  useEffect(() => reset(), [reset, messageCount]);
  return {
    summary: newerSummary(current, answer),
    summarize: async () => {
      const written = await call.run(chatId);
      if (written) setAnswer(written);
    },
    pending: call.pending,
    error: call.error,
  };
}

/** The summary above the conversation: the wait while it is written, its text, and whether the chat has moved on. */
export function ChatSummaryView({
  request,
  messages,
}: {
  request: ChatSummaryRequest;
  messages: readonly ChatMessage[];
}) {
  const { summary, pending, error } = request;
  if (!summary && !pending && !error) return null;
  const missing = summary ? messagesNotInSummary(summary, messages) : 0;
  return (
    <Section title="Summary">
      {pending ? <Spinner label="Writing a summary of the conversation so far…" /> : null}
      <ErrorMessage>{error}</ErrorMessage>
      {summary ? (
        <>
          {missing > 0 ? (
            <p className="row">
              <Badge tone="warn">out of date</Badge>
              <span>
                {missing === 1 ? '1 message' : `${missing} messages`} arrived or changed since it was written;
                summarize again to include {missing === 1 ? 'it' : 'them'}.
              </span>
            </p>
          ) : null}
          <Markdown text={summary.text} />
          <p className="muted">
            Written{' '}
            <time dateTime={summary.createdAt} title={dateTime(summary.createdAt)}>
              {timeAgo(summary.createdAt)}
            </time>
            .
          </p>
        </>
      ) : null}
    </Section>
  );
}
