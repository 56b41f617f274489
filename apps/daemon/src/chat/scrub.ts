import { REDACTED } from '@warren/core';

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
