import { type ChatMessage, type ChatSummary, WarrenError } from '@warren/core';
import type { Actor } from '../auth/policy';
import type { Db } from '../db/database';
import type { ChatLive } from './ChatLive';
import type { ChatModelRouter } from './ChatModelRouter';
import type { ChatStore } from './ChatStore';
import { activeKeyHolder } from './chatQueries';
import { askSmallModel } from './smallModel';

const SUMMARY_PROMPT =
  'Summarize the conversation below between a user and an AI coding agent in at most five sentences: ' +
  'what the user asked for, what was done, and what is still open. Answer with the summary only.';
/** Most characters of conversation one summary call sends: a long chat is cut in the middle. */
export const SUMMARY_INPUT_CHARS = 24_000;
/** Most characters of one message in the transcript: a pasted log must not crowd out the rest. */
export const SUMMARY_MESSAGE_CHARS = 4_000;
/** Most characters of a tool call's arguments in the transcript (a written file's content, say). */
const TOOL_ARGS_CHARS = 200;
const SUMMARY_CHARS = 2_000;
/** Longer than a title's: the caller waits for this answer, and the input is larger. */
const SUMMARY_TIMEOUT_MS = 60_000;

export const NO_MESSAGES_MESSAGE =
  'This chat has no messages yet, so there is nothing to summarize. Send a message first.';
const SHUTDOWN_MESSAGE = 'The Warren server is shutting down; ask for the summary again shortly.';
export const INACTIVE_CALLER_MESSAGE =
  'Your API token or sign-in session is no longer active (signed out, revoked or expired), or your user is suspended, ' +
  'so Warren will not call a model to summarize the chat. Sign in and ask again.';

/**
 * Summaries of chats, on request, with the provider's small model: routed and recorded like a
 * title (an interception on the chat, with the caller's user and API key), then stored on the
 * chat and sent to its watchers. close() aborts the ones still being written.
 */
export class ChatSummaries {
  readonly #closing = new AbortController();

  constructor(
    private readonly db: Db,
    private readonly models: ChatModelRouter,
    private readonly store: ChatStore,
    private readonly now: () => number,
  ) {}

  /** Summarizes the conversation so far (a running turn's answer as far as it got); `live` is held by the caller. */
  async summarize(live: ChatLive, caller: Actor, request?: AbortSignal): Promise<ChatSummary> {
    const messages = live.messages.filter((m) => m.seq !== null);
    const last = messages.at(-1);
    if (!last) throw new WarrenError('INVALID_INPUT', NO_MESSAGES_MESSAGE);
    // Checked as a turn checks its key: the call is the caller's, and fails closed without an active key.
    const holder = await activeKeyHolder(this.db.kysely, caller.apiKeyId, this.now());
    if (!holder) throw new WarrenError('UNAUTHORIZED', INACTIVE_CALLER_MESSAGE);
    const actor: Actor = { ...holder, apiKeyId: caller.apiKeyId };
    if (this.#closing.signal.aborted) throw new WarrenError('UNAVAILABLE', SHUTDOWN_MESSAGE);
    const timeout = AbortSignal.timeout(SUMMARY_TIMEOUT_MS);
    const signals = [this.#closing.signal, timeout, ...(request ? [request] : [])];
    const answer = await askSmallModel(
      this.models,
      {
        actor,
        chatId: live.chat.id,
        chatModel: live.chat.model,
        system: SUMMARY_PROMPT,
        prompt: summaryTranscript(messages),
      },
      AbortSignal.any(signals),
    ).catch((error: unknown) => {
      // Said plainly: the SDK only reports that the operation was aborted.
      if (this.#closing.signal.aborted) throw new WarrenError('UNAVAILABLE', SHUTDOWN_MESSAGE);
      if (timeout.aborted)
        throw new WarrenError(
          'UPSTREAM',
          `The model did not write the summary within ${SUMMARY_TIMEOUT_MS / 1000} s; ask again later.`,
        );
      throw error;
    });
    const text = answer
      .trim()
      .replace(/\n{3,}/g, '\n\n')
      .slice(0, SUMMARY_CHARS);
    if (!text) throw new WarrenError('UPSTREAM', 'The model answered with an empty summary; ask again.');
    const upToSeq = last.seq ?? 0;
    return live.exclusive(async () => {
      if (live.closed)
        throw new WarrenError('NOT_FOUND', 'The chat was deleted while it was being summarized.');
      return this.store.saveSummary(live, text, upToSeq);
    });
  }

  close(): void {
    this.#closing.abort();
  }
}

/**
 * The conversation as the summary's model reads it: each message's words and the tools the agent
 * used, within `budget` characters. A long chat keeps its first message (the task) and as many of
 * the latest as fit, with a note of how many in between were left out. Reasoning, tool output and
 * Warren's error notes are left out: they are long and say little about where the chat stands.
 */
export function summaryTranscript(messages: ChatMessage[], budget = SUMMARY_INPUT_CHARS): string {
  const entries = messages.map(transcriptEntry);
  const total = entries.reduce((sum, e) => sum + e.length + 2, 0);
  if (total <= budget) return entries.join('\n\n');
  const [first = '', ...rest] = entries;
  const tail: string[] = [];
  // Room for the note too; first and last always fit, since one entry is at most SUMMARY_MESSAGE_CHARS.
  let room = budget - first.length - 100;
  for (let i = rest.length - 1; i >= 0; i--) {
    const entry = rest[i] ?? '';
    if (entry.length + 2 > room) break;
    room -= entry.length + 2;
    tail.unshift(entry);
  }
  const skipped = rest.length - tail.length;
  const note = `[${skipped} earlier message${skipped === 1 ? '' : 's'} left out]`;
  return [first, note, ...tail].join('\n\n');
}

function transcriptEntry(message: ChatMessage): string {
  const lines: string[] = [];
  for (const part of message.parts) {
    if (part.type === 'text' && part.text.trim()) lines.push(part.text.trim());
    else if (part.type === 'tool-call')
      lines.push(`[used the tool ${part.toolName} ${clip(part.argsText, TOOL_ARGS_CHARS)}]`);
  }
  const speaker = message.role === 'user' ? 'User' : 'Agent';
  return clip(`${speaker}: ${lines.join('\n') || '(nothing yet)'}`, SUMMARY_MESSAGE_CHARS);
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 4)} […]`;
}
