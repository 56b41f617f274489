import { type FormEvent, type KeyboardEvent, type RefObject, useEffect, useRef, useState } from 'react';
import { useMutation } from '../api/hooks';
import { Button, ErrorMessage, LoadingBlock, Page, StatusBadge, TextAreaField } from '../design';
import { ChatMessageView } from './ChatMessageView';
import { ChatSummaryView, useChatSummary } from './ChatSummaryView';
import { useChat } from './useChat';

/** One chat, streaming: messages as they grow, tool calls as cards, a queue, and interrupt. */
export default function ChatThreadScreen({ chatId }: { chatId: string }) {
  const { state, error } = useChat(chatId);
  const [text, setText] = useState('');
  const send = useMutation((api, input: { chatId: string; text: string }) => api.chats.send.mutate(input));
  const interrupt = useMutation((api, id: string) => api.chats.interrupt.mutate({ chatId: id }));
  const summary = useChatSummary(chatId, state?.chat.summary, state?.messages.length ?? 0);
  const bottom = useRef<HTMLDivElement>(null);
  const follow = useFollowBottom(bottom);
  const lastLength = state?.messages.reduce((n, m) => n + m.parts.length, 0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: follow the conversation as it grows.
  useEffect(() => {
    // Only while the person is at the bottom: someone scrolled up to read is left there.
    // Braces matter: newer browsers return a promise from scrollIntoView, and an effect may only return a cleanup.
    if (follow.current) bottom.current?.scrollIntoView({ block: 'end' });
  }, [lastLength, state?.messages.length]);
  // A ref, not `send.pending`: two Enters in one frame both see the state from before the first.
  const sending = useRef(false);

  async function submit(event?: FormEvent) {
    event?.preventDefault();
    const sent = text;
    if (!sent.trim() || sending.current) return;
    sending.current = true;
    try {
      // Keep whatever was typed while the send was on its way.
      if (await send.run({ chatId, text: sent })) setText((now) => (now === sent ? '' : now));
    } finally {
      sending.current = false;
    }
  }
  const onKeyDown = (event: KeyboardEvent) => {
    // Enter while an input method is composing (Japanese, Chinese, …) picks a candidate; 229 is
    // what browsers report for such keys where isComposing is not set.
    if (event.nativeEvent.isComposing || event.keyCode === 229) return;
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
          <Button pending={summary.pending} onClick={summary.summarize}>
            Summarize
          </Button>
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
      <ChatSummaryView request={summary} messages={state.messages} />
      {/* Busy during a turn: a screen reader reads the finished answer, not every token. */}
      <div className="chat-log" role="log" aria-label="Conversation" aria-busy={running}>
        {state.messages.map((m) => (
          <ChatMessageView key={m.id} message={m} />
        ))}
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
      {/* After the composer, not inside the log: the composer sticks to the bottom of the
          window, so lining up the log's own end there would hide the newest lines under it. */}
      <div ref={bottom} />
    </Page>
  );
}

/**
 * Whether the end of the conversation is in view (or nearly: the composer sits over the
 * last lines). Measured on every scroll of the page or any scroll box, our own included.
 */
function useFollowBottom(end: RefObject<HTMLElement | null>): RefObject<boolean> {
  const follow = useRef(true);
  useEffect(() => {
    const measure = () => {
      const el = end.current;
      if (el) follow.current = el.getBoundingClientRect().top <= window.innerHeight + 120;
    };
    window.addEventListener('scroll', measure, { capture: true, passive: true });
    return () => window.removeEventListener('scroll', measure, { capture: true });
  }, [end]);
  return follow;
}
