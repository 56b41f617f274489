import { randomUUID } from 'node:crypto';
import { type AgentResponseFrame, type ErrorCode, isErrorCode, WarrenError } from '@warren/core';
import type { AgentConnections } from './AgentConnections';

/** How long a call waits for the agent's answer unless the caller says otherwise. */
const DEFAULT_TIMEOUT_MS = 60_000;

interface PendingCall {
  agentId: string;
  resolve(result: unknown): void;
  reject(error: WarrenError): void;
}

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
  readonly #pending = new Map<string, PendingCall>();

  constructor(private readonly connections: AgentConnections) {}

  /** Sends one operation to the workspace's connected agent and resolves with its raw result. */
  call(workspaceId: string, op: string, params: unknown, options: AgentCallOptions = {}): Promise<unknown> {
    const agentId = this.connections.agentOf(workspaceId);
    if (!agentId)
      return Promise.reject(
        new WarrenError(
          'UNAVAILABLE',
          "The workspace's agent is not connected; start the workspace and wait until it is ready.",
        ),
      );
    if (options.signal?.aborted) return Promise.reject(cancelled(op));
    const id = randomUUID();
    return new Promise<unknown>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const finish = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.#pending.delete(id);
      };
      const timer = setTimeout(() => {
        finish();
        this.connections.send(agentId, { type: 'cancel', id });
        reject(new WarrenError('UNAVAILABLE', `The workspace agent did not answer "${op}" within ${timeoutMs} ms.`));
      }, timeoutMs);
      const onAbort = () => {
        finish();
        this.connections.send(agentId, { type: 'cancel', id });
        reject(cancelled(op));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        agentId,
        resolve: (result) => {
          finish();
          resolve(result);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
      });
      if (!this.connections.send(agentId, { type: 'request', id, op, params }))
        this.#pending.get(id)?.reject(agentGone());
    });
  }

  /** An agent's answer; answers to calls this daemon no longer waits for are dropped. */
  answer(agentId: string, frame: AgentResponseFrame): void {
    const call = this.#pending.get(frame.id);
    // An agent can only answer its own calls, never another workspace's.
    if (!call || call.agentId !== agentId) return;
    if (frame.error) call.reject(new WarrenError(knownCode(frame.error.code), frame.error.message));
    else call.resolve(frame.result);
  }

  /** The agent's socket closed: its calls fail now. */
  agentGone(agentId: string): void {
    for (const call of [...this.#pending.values()]) if (call.agentId === agentId) call.reject(agentGone());
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
