import { randomUUID } from 'node:crypto';
import { type AgentResponseFrame, type ErrorCode, isErrorCode, WarrenError } from '@warren/core';
import { type AgentConnections, agentNotConnected } from './AgentConnections';
import { PendingReplies } from './PendingReplies';

/** How long a call waits for the agent's answer unless the caller says otherwise. */
const DEFAULT_TIMEOUT_MS = 60_000;

export interface AgentCallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * Requests to workspace agents over their control sockets (`request` -> `response` frames), for
 * the chat loop's tools. An answer that never comes fails the call at its deadline; an agent that
 * disconnects fails its calls at once, so a tool call ends cleanly rather than hangs.
 */
export class AgentRpc {
  readonly #pending = new PendingReplies<unknown>();

  constructor(private readonly connections: AgentConnections) {}

  /** Sends one operation to the workspace's connected agent and resolves with its raw result. */
  call(workspaceId: string, op: string, params: unknown, options: AgentCallOptions = {}): Promise<unknown> {
    const agentId = this.connections.agentOf(workspaceId);
    if (!agentId) return Promise.reject(agentNotConnected());
    if (options.signal?.aborted) return Promise.reject(cancelled(op));
    const id = randomUUID();
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return this.#pending.wait(id, agentId, {
      timeoutMs,
      timedOut: () =>
        new WarrenError('UNAVAILABLE', `The workspace agent did not answer "${op}" within ${timeoutMs} ms.`),
      send: () => this.connections.send(agentId, { type: 'request', id, op, params }),
      unreachable: agentGone,
      signal: options.signal,
      aborted: () => cancelled(op),
      onGiveUp: () => this.connections.send(agentId, { type: 'cancel', id }),
    });
  }

  /** An agent's answer; answers to calls this daemon no longer waits for are dropped. */
  answer(agentId: string, frame: AgentResponseFrame): void {
    // An agent can only answer its own calls, never another workspace's.
    if (frame.error)
      this.#pending.reject(
        frame.id,
        agentId,
        new WarrenError(knownCode(frame.error.code), frame.error.message),
      );
    else this.#pending.resolve(frame.id, agentId, frame.result);
  }

  /** The agent's socket closed: its calls fail now. */
  agentGone(agentId: string): void {
    this.#pending.rejectAgent(agentId, agentGone);
  }
}

function agentGone(): WarrenError {
  return new WarrenError('UNAVAILABLE', 'The workspace agent disconnected before it answered.');
}

function cancelled(op: string): WarrenError {
  return new WarrenError('UNAVAILABLE', `The call to "${op}" was cancelled.`);
}

function knownCode(code: string): ErrorCode {
  return isErrorCode(code) ? code : 'UPSTREAM';
}
