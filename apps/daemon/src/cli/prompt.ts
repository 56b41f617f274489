import readline from 'node:readline/promises';
import { WarrenError } from '@warren/core';

/** Questions need a person at a terminal; scripts get flags instead. */
export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY);
}

/** One line of input; the question goes to stderr so stdout stays clean for JSON. */
export async function askLine(question: string): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  let answered = false;
  try {
    return await new Promise<string>((resolve, reject) => {
      // Ctrl-C or Ctrl-D at a question cancels the command rather than leaving it half done.
      rl.once('SIGINT', () => {
        process.stderr.write('\n');
        rl.close();
      });
      rl.once('close', () => {
        if (!answered) reject(new WarrenError('INVALID_INPUT', 'cancelled'));
      });
      rl.question(question).then((answer) => {
        answered = true;
        resolve(answer);
      }, reject);
    });
  } finally {
    answered = true;
    rl.close();
  }
}

/** A yes/no question; anything but y or yes is no. */
export async function confirm(question: string): Promise<boolean> {
  const answer = await askLine(`${question} [y/N] `);
  return /^(y|yes)$/i.test(answer.trim());
}
