import type { ChatMessage, ChatPart } from '@warren/core';
import { memo } from 'react';
import { Badge, StatusBadge } from '../design';
import { Markdown } from './Markdown';

/** A tool call and its result as one collapsible card: the name and outcome first, details inside. */
function ToolCard({
  call,
  result,
}: {
  call: Extract<ChatPart, { type: 'tool-call' }>;
  result?: Extract<ChatPart, { type: 'tool-result' }>;
}) {
  const state = result
    ? result.isError
      ? 'failed'
      : 'done'
    : call.state === 'streaming'
      ? 'writing arguments'
      : 'running';
  return (
    <details className="tool-card">
      <summary>
        <span className="mono">{call.toolName}</span>{' '}
        <Badge tone={result?.isError ? 'bad' : result ? 'good' : 'busy'}>{state}</Badge>
      </summary>
      <div className="tool-card-body">
        <div className="muted">Arguments</div>
        <pre className="code-block">
          <code>{prettyJson(call.argsText)}</code>
        </pre>
        {result ? (
          <>
            <div className="muted">{result.isError ? 'Error' : 'Result'}</div>
            <pre className="code-block">
              <code>{result.result}</code>
            </pre>
          </>
        ) : null}
      </div>
    </details>
  );
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/**
 * One message. Memoized: while a turn streams only the growing message changes, and core's
 * applyChatEvent keeps every other message the same object, so only that one re-renders.
 */
export const ChatMessageView = memo(function ChatMessageView({ message }: { message: ChatMessage }) {
  const results = new Map(
    message.parts.flatMap((p) => (p.type === 'tool-result' ? [[p.toolCallId, p] as const] : [])),
  );
  const mine = message.role === 'user';
  return (
    <article
      className={`chat-message ${mine ? 'from-user' : 'from-assistant'}`}
      aria-label={mine ? 'Your message' : 'Assistant'}
    >
      <header className="row">
        <strong>{mine ? 'You' : 'Assistant'}</strong>
        {message.status === 'done' ? null : <StatusBadge status={message.status} />}
      </header>
      {message.parts.map((part, index) => {
        const key = `${message.id}:${index}`;
        switch (part.type) {
          case 'text':
            return mine ? (
              <p key={key} className="pre-wrap">
                {part.text}
              </p>
            ) : (
              <Markdown key={key} text={part.text} />
            );
          case 'reasoning':
            return (
              <details key={key} className="tool-card">
                <summary>Reasoning</summary>
                <p className="pre-wrap muted">{part.text}</p>
              </details>
            );
          case 'tool-call':
            return <ToolCard key={key} call={part} result={results.get(part.toolCallId)} />;
          case 'tool-result':
            return null;
          case 'error':
            return (
              <p key={key} className="error-box" role="alert">
                {part.message}
              </p>
            );
          default:
            return null;
        }
      })}
    </article>
  );
});
