import { WarrenError } from '../errors/WarrenError';
import { WireguardUapiError } from './WireguardUapiError';

/**
 * Framing of UAPI replies. A reply is `key=value` lines ending with `errno=N` and a blank line;
 * no value ever holds a newline, so the first blank line ends it. A device with thousands of
 * peers answers a get with a few hundred bytes per peer, far below this bound.
 */
export const MAX_UAPI_REPLY_CHARS = 8 * 1024 * 1024;

/** Accumulates a reply as it arrives in chunks; `push` returns the whole reply once it is complete. */
export class UapiReplyReader {
  readonly #decoder = new TextDecoder('utf-8');
  #text = '';

  constructor(private readonly interfaceName: string) {}

  push(chunk: Uint8Array | string): string | undefined {
    // Search only from the last char of the previous text, so a split "\n|\n" is still found.
    const from = Math.max(0, this.#text.length - 1);
    this.#text += typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
    const end = this.#text.indexOf('\n\n', from);
    if (end >= 0) return this.#text.slice(0, end + 2);
    if (this.#text.length > MAX_UAPI_REPLY_CHARS)
      throw new WarrenError(
        'PAYLOAD_TOO_LARGE',
        `WireGuard interface ${this.interfaceName} sent a reply larger than ${MAX_UAPI_REPLY_CHARS} characters.`,
      );
    return undefined;
  }
}

export function malformedReply(interfaceName: string, detail: string): WarrenError {
  return new WarrenError(
    'UPSTREAM',
    `WireGuard interface ${interfaceName} sent a reply Warren cannot read: ${detail}.`,
  );
}

/**
 * Splits a complete reply into its `key=value` lines and checks its errno, throwing the device's
 * error when it is not 0. The errno line must come last, once.
 */
export function replyLines(
  reply: string,
  operation: 'get' | 'set',
  interfaceName: string,
): [string, string][] {
  if (reply.length > MAX_UAPI_REPLY_CHARS)
    throw malformedReply(interfaceName, `it is longer than ${MAX_UAPI_REPLY_CHARS} characters`);
  if (!reply.endsWith('\n\n')) throw malformedReply(interfaceName, 'it does not end with a blank line');
  const lines = reply.slice(0, -2).split('\n');
  const pairs: [string, string][] = [];
  for (const [index, line] of lines.entries()) {
    const eq = line.indexOf('=');
    if (eq <= 0) throw malformedReply(interfaceName, `line ${index + 1} is not a key=value pair`);
    pairs.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  const last = pairs.pop();
  if (last?.[0] !== 'errno') throw malformedReply(interfaceName, 'it does not end with an errno line');
  if (!/^-?[0-9]{1,10}$/.test(last[1])) throw malformedReply(interfaceName, 'its errno is not a number');
  const errno = Number(last[1]);
  if (errno !== 0) throw new WireguardUapiError(errno, operation, interfaceName);
  if (operation === 'set' && pairs.length > 0)
    throw malformedReply(interfaceName, 'a set reply carries lines besides errno');
  return pairs;
}

/** The errno of a set reply: resolves when it is 0, throws the device's error otherwise. */
export function checkSetReply(reply: string, interfaceName: string): void {
  replyLines(reply, 'set', interfaceName);
}
