import type { ChatPart } from '@warren/core';
import type { TextStreamPart, ToolSet } from 'ai';
import type { ChatLive } from './ChatLive';
import { truncateForModel } from './workspaceTools';

/**
 * The assistant message of the running turn, built from the AI SDK's stream: each stream part
 * becomes a delta on the chat (published at once), and the parts are written to the database
 * at every part boundary (a tool call complete, a tool result, a step's end) and at most every
 * `flushMs` in between, so a restart loses at most that much streamed text.
 */
export class AssistantDraft {
  /** Stream ids (text and reasoning blocks per step, tool call ids) -> part index. */
  readonly #indexOf = new Map<string, number>();
  #step = 0;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  /** The parts last handed to persist: the reducer makes a new array on every change. */
  #written: ChatPart[] | undefined;
  /** The first error the stream reported, if any: the turn then ends in error. */
  failure: string | undefined;
  aborted = false;

  constructor(
    private readonly live: ChatLive,
    readonly messageId: string,
    private readonly persist: (parts: ChatPart[]) => Promise<void>,
    private readonly scrub: (text: string) => string,
    private readonly flushMs: number,
  ) {}

  get parts(): ChatPart[] {
    return this.live.message(this.messageId)?.parts ?? [];
  }

  handle(part: TextStreamPart<ToolSet>): void {
    switch (part.type) {
      case 'start-step':
        this.#step += 1;
        return;
      case 'text-start':
      case 'reasoning-start':
        this.#open(`${part.type}:${this.#step}:${part.id}`, {
          type: part.type === 'text-start' ? 'text' : 'reasoning',
          text: '',
        });
        return;
      case 'text-delta':
      case 'reasoning-delta': {
        if (!part.text) return;
        const kind = part.type === 'text-delta' ? 'text' : 'reasoning';
        const key = `${kind}-start:${this.#step}:${part.id}`;
        const index = this.#indexOf.get(key) ?? this.#open(key, { type: kind, text: '' });
        this.live.emit({ type: 'text-delta', messageId: this.messageId, index, text: part.text });
        this.#soon();
        return;
      }
      case 'tool-input-start':
        this.#open(`call:${part.id}`, {
          type: 'tool-call',
          toolCallId: part.id,
          toolName: part.toolName,
          argsText: '',
          state: 'streaming',
        });
        return;
      case 'tool-input-delta': {
        const index = this.#indexOf.get(`call:${part.id}`);
        if (index === undefined || !part.delta) return;
        this.live.emit({ type: 'tool-input-delta', messageId: this.messageId, index, delta: part.delta });
        this.#soon();
        return;
      }
      case 'tool-call': {
        const called: ChatPart = {
          type: 'tool-call',
          toolCallId: part.toolCallId,
          toolName: part.toolName,
          argsText: JSON.stringify(part.input ?? {}),
          args: part.input ?? {},
          state: 'called',
        };
        const index = this.#indexOf.get(`call:${part.toolCallId}`);
        if (index === undefined) this.#open(`call:${part.toolCallId}`, called);
        else this.live.emit({ type: 'part-update', messageId: this.messageId, index, part: called });
        this.#now();
        return;
      }
      case 'tool-result':
        this.#append({
          type: 'tool-result',
          toolCallId: part.toolCallId,
          toolName: part.toolName,
          result: this.scrub(truncateForModel(resultText(part.output))),
          isError: false,
        });
        this.#now();
        return;
      case 'tool-error':
        this.#append({
          type: 'tool-result',
          toolCallId: part.toolCallId,
          toolName: part.toolName,
          result: this.scrub(describeError(part.error)),
          isError: true,
        });
        this.#now();
        return;
      case 'error':
        this.fail(describeError(part.error));
        return;
      case 'abort':
        this.aborted = true;
        return;
      case 'finish-step':
        this.#now();
        return;
      default:
        return;
    }
  }

  /** Ends the turn in error: the message gets an error part saying why. */
  fail(message: string): void {
    if (this.failure !== undefined) return;
    this.failure = this.scrub(message);
    this.#append({ type: 'error', message: this.failure });
  }

  note(message: string): void {
    this.#append({ type: 'error', message: this.scrub(message) });
  }

  /** Writes what there is now (if anything changed) and waits for every earlier write. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.parts === this.#written) return this.#writing;
    const parts = this.parts;
    this.#written = parts;
    this.#writing = this.#writing.then(() => this.persist(parts)).catch(() => undefined);
    return this.#writing;
  }

  #open(key: string, part: ChatPart): number {
    const index = this.#append(part);
    this.#indexOf.set(key, index);
    return index;
  }

  #append(part: ChatPart): number {
    const index = this.parts.length;
    this.live.emit({ type: 'part-start', messageId: this.messageId, index, part });
    return index;
  }

  #soon(): void {
    this.#timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  #now(): void {
    void this.flush();
  }
}

function resultText(output: unknown): string {
  return typeof output === 'string' ? output : JSON.stringify(output);
}

/**
 * A sentence for what went wrong: Warren's own errors and the gateway's provider-shaped ones
 * already are; an SDK error carries the provider's message; a stream error event is an object
 * with one.
 */
export function describeError(error: unknown): string {
  if (typeof error === 'string') return error;
  const found = messageOf(error) ?? messageOf((error as { error?: unknown } | undefined)?.error);
  return found ?? 'The model call failed for an unknown reason.';
}

function messageOf(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'message' in error && typeof error.message === 'string')
    return error.message || undefined;
  return undefined;
}
