import { MAX_USD_DECIMALS, Secret, WarrenError } from '@warren/core';
import { InvalidArgumentError } from 'commander';
import { readPassword } from './passwordInput';

/** For commander's argParser: USD as a plain decimal ("3", "0.075"), at most 6 places. */
export function usdDecimal(raw: string): number {
  const match = /^(\d{1,10})(?:\.(\d+))?$/.exec(raw.trim());
  if (!match) throw new InvalidArgumentError('Write an amount in USD such as 3 or 0.075.');
  if ((match[2]?.length ?? 0) > MAX_USD_DECIMALS)
    throw new InvalidArgumentError(`Use at most ${MAX_USD_DECIMALS} decimal places (one micro-dollar).`);
  return Number(raw.trim());
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A provider API key from stdin (--key-stdin) or a hidden prompt; it stays a Secret until sent. */
export async function readApiKey(fromStdin: boolean, what: string): Promise<Secret> {
  if (fromStdin) {
    // `echo $KEY | warren ...` adds a newline that is not part of the key.
    const value = (await readAllStdin()).replace(/\r?\n$/, '');
    if (!value)
      throw new WarrenError(
        'INVALID_INPUT',
        'no key on stdin; pipe it in, e.g. printf %s "$KEY" | warren ...',
      );
    return new Secret(value);
  }
  if (!process.stdin.isTTY)
    throw new WarrenError(
      'INVALID_INPUT',
      'no terminal to ask for the key on; pipe it in and pass --key-stdin',
    );
  return readPassword({ fromStdin: false, prompt: `API key for ${what}: ` });
}

/** "****abcd": how a stored key is shown. */
export const maskedKey = (last4: string | null) => (last4 ? `****${last4}` : '-');
