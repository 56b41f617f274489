import { type FormEvent, type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { useMutation } from '../api/hooks';
import { Button, ErrorMessage, LoadingBlock, Page, StatusBadge, TextAreaField } from '../design';
import { ChatMessageView } from './ChatMessageView';
import { useChat } from './useChat';

/** One chat, streaming: messages as they grow, tool calls as cards, a queue, and interrupt. */
export default function ChatThreadScreen({ chatId }: { chatId: string }) {
  const { state, error } = useChat(chatId);
  const [text, setText] = useState('');
  const send = useMutation((api, input: { chatId: string; text: string }) => api.chats.send.mutate(input));
  const interrupt = useMutation((api, id: string) => api.chats.interrupt.mutate({ chatId: id }));
  const bottom = useRef<HTMLDivElement>(null);
  const lastLength = state?.messages.reduce((n, m) => n + m.parts.length, 0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: follow the conversation as it grows.
  useEffect(() => {
    // Braces matter: newer browsers return a promise from scrollIntoView, and an effect may only return a cleanup.
    bottom.current?.scrollIntoView({ block: 'end' });
  }, [lastLength, state?.messages.length]);

  async function submit(event?: FormEvent) {
    event?.preventDefault();
    if (!text.trim()) return;
    if (await send.run({ chatId, text })) setText('');
  }
  const onKeyDown = (event: KeyboardEvent) => {
    // Enter sends; Shift+Enter is a new line.
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      void submit();
    }
  };

  if (!state)
    return (
      <Page title="Chat">
        {error ? <ErrorMessage>{error}</ErrorMessage> : <LoadingBlock label="Opening the chat…" />}
      </Page>
    );
  const running = state.chat.status === 'running';
  return (
    <Page
      title={state.chat.title ?? 'Untitled chat'}
      actions={
        <>
          <StatusBadge status={state.chat.status} />
          {running ? (
            <Button variant="danger" pending={interrupt.pending} onClick={() => interrupt.run(chatId)}>
              Interrupt
            </Button>
          ) : null}
        </>
      }
    >
      <p className="muted">
        {state.chat.model}
        {state.chat.workspace ? ` in workspace ${state.chat.workspace}` : ', without a workspace'}
      </p>
      <ErrorMessage>{error ?? interrupt.error}</ErrorMessage>
      <div className="chat-log" role="log" aria-label="Conversation">
        {state.messages.map((m) => (
          <ChatMessageView key={m.id} message={m} />
        ))}
        <div ref={bottom} />
      </div>
      <form onSubmit={submit} aria-label="Send a message" className="chat-composer">
        <TextAreaField
          label="Message"
          hint={
            running
              ? 'The assistant is working: a message sent now waits in the queue.'
              : 'Enter sends; Shift+Enter adds a line.'
          }
          value={text}
          error={send.error}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
        />
        <Button type="submit" variant="primary" pending={send.pending} disabled={!text.trim()}>
          {running ? 'Queue message' : 'Send'}
        </Button>
      </form>
    </Page>
  );
}
