import { REDACTED } from '@warren/core';
import type { ToolSet } from 'ai';

/**
 * Replaces every credential a turn carried with [redacted] in text the turn stores (tool
 * output, error messages): a provider that echoes a key in an error, or a command that prints
 * one, must not put it in a chat. Reads `secrets` at each call, so keys resolved later count.
 */
export function scrubber(secrets: readonly { reveal(): string }[]): (text: string) => string {
  return (text) => {
    let out = text;
    for (const secret of secrets) {
      const value = secret.reveal();
      if (value.length >= 8) out = out.split(value).join(REDACTED);
    }
    return out;
  };
}

/**
 * The tools with each answer and error scrubbed where it is made, so the key is out of what the
 * model's next step is sent as well as out of the chat (which only sees the stream's copy).
 */
export function scrubbedTools(tools: ToolSet, scrub: (text: string) => string): ToolSet {
  const out: ToolSet = {};
  for (const [name, tool] of Object.entries(tools)) {
    const execute = tool.execute;
    out[name] = !execute
      ? tool
      : {
          ...tool,
          execute: async (input: unknown, options: Parameters<typeof execute>[1]) => {
            try {
              const result = await execute(input, options);
              return typeof result === 'string' ? scrub(result) : result;
            } catch (error) {
              const message = error instanceof Error ? error.message : undefined;
              // A new error only when there was something to hide, so its kind is kept otherwise.
              if (message === undefined || scrub(message) === message) throw error;
              throw new Error(scrub(message));
            }
          },
        };
  }
  return out;
}
