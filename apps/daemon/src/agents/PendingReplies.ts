import type { WarrenError } from '@warren/core';

interface Pending<T> {
  agentId: string;
  resolve(value: T): void;
  reject(error: WarrenError): void;
}

/**
 * Things the daemon asked an agent for and waits on (an answer, a dialled-back stream), by id.
 * Each has a deadline, may be cancelled, and is settled at most once; only the agent it was asked
 * of can settle it, so one workspace's agent can never answer for another's.
 */
export class PendingReplies<T> {
  readonly #pending = new Map<string, Pending<T>>();

  /**
   * Registers `id`, runs `send` (false: the agent is not reachable, fail with `unreachable`), and
   * waits for `settle`. At the deadline or on `signal` it fails, after `onGiveUp` (e.g. telling
   * the agent to stop).
   */
  wait(
    id: string,
    agentId: string,
    options: {
      timeoutMs: number;
      timedOut: () => WarrenError;
      send: () => boolean;
      unreachable: () => WarrenError;
      signal?: AbortSignal;
      aborted?: () => WarrenError;
      onGiveUp?: () => void;
    },
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.#pending.delete(id);
      };
      const giveUp = (error: WarrenError) => {
        finish();
        options.onGiveUp?.();
        reject(error);
      };
      const timer = setTimeout(() => giveUp(options.timedOut()), options.timeoutMs);
      const onAbort = () => giveUp((options.aborted ?? options.timedOut)());
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        agentId,
        resolve: (value) => {
          finish();
          resolve(value);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
      });
      let sent: boolean;
      try {
        sent = options.send();
      } catch (error) {
        // The request could not be sent at all (a frame over the size limit): it fails now.
        this.#pending.get(id)?.reject(error as WarrenError);
        return;
      }
      if (!sent) this.#pending.get(id)?.reject(options.unreachable());
    });
  }

  /** Whether `id` waits on this agent. */
  awaits(id: string, agentId: string): boolean {
    return this.#pending.get(id)?.agentId === agentId;
  }

  /** Settles `id` if this agent was asked for it; false otherwise. */
  resolve(id: string, agentId: string, value: T): boolean {
    const pending = this.#pending.get(id);
    if (!pending || pending.agentId !== agentId) return false;
    pending.resolve(value);
    return true;
  }

  reject(id: string, agentId: string, error: WarrenError): boolean {
    const pending = this.#pending.get(id);
    if (!pending || pending.agentId !== agentId) return false;
    pending.reject(error);
    return true;
  }

  /** The agent went away: everything it was asked for fails now. */
  rejectAgent(agentId: string, error: () => WarrenError): void {
    for (const pending of [...this.#pending.values()])
      if (pending.agentId === agentId) pending.reject(error());
  }
}
