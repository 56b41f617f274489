import { StringDecoder } from 'node:string_decoder';
import { jsonPrefixLength, jsonStringBytes, jsonSuffixStart } from '@warren/core';

/**
 * One output stream of a command, kept in bounded memory: the first `cap` bytes and the last
 * `cap` or so bytes, and how many bytes went by in total. A command that prints gigabytes costs
 * a few megabytes here.
 */
export class OutputCapture {
  readonly #head: Buffer[] = [];
  #headBytes = 0;
  readonly #tail: Buffer[] = [];
  #tailBytes = 0;
  #total = 0;

  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    this.#total += chunk.byteLength;
    let rest = chunk;
    if (this.#headBytes < this.cap) {
      const taken = rest.subarray(0, this.cap - this.#headBytes);
      this.#head.push(taken);
      this.#headBytes += taken.byteLength;
      rest = rest.subarray(taken.byteLength);
    }
    if (rest.byteLength === 0) return;
    this.#tail.push(rest);
    this.#tailBytes += rest.byteLength;
    // Drop whole chunks from the front while what is left still covers `cap` bytes.
    while (this.#tail.length > 1 && this.#tailBytes - (this.#tail[0]?.byteLength ?? 0) >= this.cap) {
      this.#tailBytes -= this.#tail.shift()?.byteLength ?? 0;
    }
  }

  get totalBytes(): number {
    return this.#total;
  }

  /** The kept text; `gapBytes` bytes between head and tail were never kept. */
  snapshot(): CapturedText {
    const gapBytes = this.#total - this.#headBytes - this.#tailBytes;
    if (gapBytes === 0)
      return {
        head: Buffer.concat([...this.#head, ...this.#tail]).toString('utf8'),
        tail: '',
        gapBytes,
        totalBytes: this.#total,
      };
    // Cut points fall anywhere in a UTF-8 sequence: hold back a partial last character of the
    // head and skip continuation bytes at the start of the tail rather than show U+FFFD.
    const head = new StringDecoder('utf8').write(Buffer.concat(this.#head));
    const tailBytes = Buffer.concat(this.#tail);
    let start = 0;
    while (start < tailBytes.byteLength && ((tailBytes[start] ?? 0) & 0xc0) === 0x80) start++;
    return { head, tail: tailBytes.subarray(start).toString('utf8'), gapBytes, totalBytes: this.#total };
  }
}

export interface CapturedText {
  head: string;
  tail: string;
  /** Bytes lost between head and tail; 0 means head + tail is the whole output. */
  gapBytes: number;
  /** Bytes the stream carried in all. */
  totalBytes: number;
}

/** Room for the marker line in a budget. */
const MARKER_BYTES = 80;

/**
 * Fits each stream into its share of `budget` JSON bytes, cutting the middle and leaving a marker
 * line that says how many bytes were cut. A stream that needs less than half leaves the rest to
 * the other.
 */
export function fitOutputs(
  streams: readonly CapturedText[],
  budget: number,
): { texts: string[]; truncated: boolean } {
  const needs = streams.map((s) => (s.gapBytes === 0 ? jsonStringBytes(s.head) : Number.POSITIVE_INFINITY));
  const total = needs.reduce((a, b) => a + b, 0);
  if (total <= budget) return { texts: streams.map((s) => s.head + s.tail), truncated: false };
  const shares = shareBudget(needs, budget);
  const texts = streams.map((stream, i) => {
    const share = shares[i] ?? 0;
    return (needs[i] ?? 0) <= share ? stream.head + stream.tail : cutMiddle(stream, share - MARKER_BYTES);
  });
  return { texts, truncated: true };
}

/** Smallest needs first: each stream gets what it needs, up to an equal split of what is left. */
function shareBudget(needs: number[], budget: number): number[] {
  const shares = new Array<number>(needs.length).fill(0);
  let left = budget;
  const order = needs.map((need, i) => ({ need, i })).sort((a, b) => a.need - b.need);
  order.forEach(({ need, i }, position) => {
    const fair = Math.floor(left / (order.length - position));
    shares[i] = Math.min(need, fair);
    left -= shares[i] ?? 0;
  });
  return shares;
}

function cutMiddle(stream: CapturedText, budget: number): string {
  const whole = stream.gapBytes === 0 ? stream.head : undefined;
  const headSource = stream.head;
  const tailSource = whole ?? stream.tail;
  const half = Math.max(0, Math.floor(budget / 2));
  const head = headSource.slice(0, jsonPrefixLength(headSource, half));
  // Without a gap, head and tail come from one string and must not overlap.
  const tailStart = Math.max(jsonSuffixStart(tailSource, half), whole ? head.length : 0);
  const tail = tailSource.slice(tailStart);
  const keptBytes = Buffer.byteLength(head) + Buffer.byteLength(tail);
  const cut = Math.max(0, stream.totalBytes - keptBytes);
  return `${head}\n[... ${cut} bytes of output cut ...]\n${tail}`;
}
