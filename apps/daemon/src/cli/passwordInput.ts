import { Secret, WarrenError } from '@warren/core';

export interface PasswordSource {
  /** Read all of stdin instead of prompting (for scripts). */
  fromStdin: boolean;
  prompt: string;
  /** Ask twice when setting a new password on a terminal. */
  confirm?: boolean;
}

export async function readPassword(source: PasswordSource): Promise<Secret> {
  if (source.fromStdin) {
    // `echo pw | warren ...` adds one newline that is not part of the password.
    const value = (await readAllStdin()).replace(/\r?\n$/, '');
    if (!value)
      throw new WarrenError(
        'INVALID_INPUT',
        'no password on stdin; pipe it in, e.g. printf %s "$PW" | warren ...',
      );
    return new Secret(value);
  }
  if (!process.stdin.isTTY) {
    throw new WarrenError(
      'INVALID_INPUT',
      'no terminal to ask for the password on; pipe it in and pass --password-stdin',
    );
  }
  const first = await promptHidden(source.prompt);
  if (source.confirm && (await promptHidden('Repeat the password: ')).reveal() !== first.reveal()) {
    throw new WarrenError('INVALID_INPUT', 'the two passwords do not match');
  }
  return first;
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Raw mode so the terminal does not echo; the prompt goes to stderr so stdout stays clean for JSON. */
function promptHidden(prompt: string): Promise<Secret> {
  const input = process.stdin;
  process.stderr.write(prompt);
  input.setRawMode(true);
  input.setEncoding('utf8');
  input.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          resolve(new Secret(value));
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new WarrenError('INVALID_INPUT', 'cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    input.on('data', onData);
  });
}
