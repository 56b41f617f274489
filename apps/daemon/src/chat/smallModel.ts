import { WarrenError } from '@warren/core';
import { generateText } from 'ai';
import type { Actor } from '../auth/policy';
import { describeError } from './AssistantDraft';
import type { ChatModelRouter } from './ChatModelRouter';
import { scrubber } from './scrub';

export interface SmallModelTask {
  /** Who asks: the call is theirs (their roles pick the model, their API key is on the record). */
  actor: Actor;
  chatId: string;
  /** The chat's model: the task goes to the small model of its provider. */
  chatModel: string;
  system: string;
  prompt: string;
}

/**
 * A short task (a title, a summary) for the provider's small model, routed like a turn's calls:
 * through the gateway in-process as the same user and API key, so it is an interception on the
 * chat. Credentials the route carries are scrubbed from the prompt, the answer and any error (an
 * SDK error also carries the request body, so only its message is kept).
 */
export async function askSmallModel(
  models: ChatModelRouter,
  task: SmallModelTask,
  signal: AbortSignal,
): Promise<string> {
  const { actor, chatId } = task;
  const model = await models.small(await models.require(task.chatModel, actor.roles), actor.roles);
  const routed = await models.route({ actor, chatId, model });
  const scrub = scrubber(routed.secrets);
  try {
    const { text } = await generateText({
      model: routed.model,
      system: task.system,
      prompt: scrub(task.prompt),
      // A retry would be a second, invisible model call; the gateway already fails over.
      maxRetries: 0,
      abortSignal: signal,
    });
    return scrub(text);
  } catch (error) {
    throw new WarrenError('UPSTREAM', scrub(describeError(error)));
  }
}
