import { WarrenError } from '@warren/core';
import { type ToolSet, tool, zodSchema } from 'ai';
import { z } from 'zod';
import type { Actor } from '../auth/policy';
import type { ChatLive } from './ChatLive';
import type { ChatService } from './ChatService';
import { truncateForModel } from './workspaceTools';

/** How long wait_subagent waits by default before it answers "still running". */
const DEFAULT_WAIT_SECONDS = 600;
/** Subagents one turn may start: each is a worker and model calls, and a looping model must not start hundreds. */
export const MAX_SUBAGENTS_PER_TURN = 8;

// Input schemas built once: the SDK derives each one's JSON schema on first use and keeps it.
const spawnInput = zodSchema(
  z.object({
    prompt: z.string().min(1).max(50_000).describe('The whole task: the subagent sees nothing else.'),
    model: z.string().max(240).optional().describe('A model other than this chat’s, e.g. a smaller one.'),
  }),
);
const waitInput = zodSchema(
  z.object({
    chatId: z.string().uuid(),
    timeoutSeconds: z.number().int().min(1).max(3600).optional(),
  }),
);

/**
 * Tools to delegate: start a subagent (a child chat, optionally on another model) on a task,
 * and wait for its answer. The child's messages carry the parent turn's API key, so its model
 * calls are the same person's, recorded against its own chat id.
 */
export function subagentTools(chats: ChatService, parent: ChatLive, actor: Actor): ToolSet {
  // Built once per turn, so this counts the turn's subagents.
  let started = 0;
  return {
    spawn_subagent: tool({
      description:
        'Start a subagent on a self-contained task; it works in the same workspace with the same tools. ' +
        'Returns its chat id at once; call wait_subagent for its answer. Several may run at the same time.',
      inputSchema: spawnInput,
      execute: async ({ prompt, model }, { abortSignal }) => {
        if (started >= MAX_SUBAGENTS_PER_TURN)
          throw new WarrenError(
            'TOO_MANY_REQUESTS',
            `This turn already started ${MAX_SUBAGENTS_PER_TURN} subagents, the most one turn may start: wait for them and use their answers.`,
          );
        started += 1;
        const child = await chats.spawnSubagent(parent, actor, { prompt, model }, abortSignal);
        return `Subagent started: chatId ${child.id} (model ${child.model}).`;
      },
    }),
    wait_subagent: tool({
      description: 'Wait for a subagent to finish and return its final answer.',
      inputSchema: waitInput,
      execute: async ({ chatId, timeoutSeconds }, { abortSignal }) => {
        const timeout = AbortSignal.timeout((timeoutSeconds ?? DEFAULT_WAIT_SECONDS) * 1000);
        const signal = abortSignal ? AbortSignal.any([abortSignal, timeout]) : timeout;
        try {
          const result = await chats.awaitSubagent(parent.chat.id, chatId, signal);
          return truncateForModel(`Subagent ${chatId} ended (${result.status}):\n${result.text}`);
        } catch (error) {
          if (timeout.aborted && !abortSignal?.aborted)
            return `Subagent ${chatId} is still running after ${timeoutSeconds ?? DEFAULT_WAIT_SECONDS} s; wait again later.`;
          throw error;
        }
      },
    }),
  };
}
