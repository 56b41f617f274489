/**
 * Decides from an event's name and its data whether the event is worth decoding. The data is
 * given as latin1 text (one character per byte, so ASCII matches exactly where it is in the
 * UTF-8 bytes, and nothing is decoded yet); several `data:` lines are joined with LF.
 */
export type WantedEvent = (event: string, latin1Data: string) => boolean;

const LF = 0x0a;
const COLON = 0x3a;
const SPACE = 0x20;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const NEWLINE = Buffer.from('\n');

/**
 * A text/event-stream reader for the gateway's usage meter. It frames events as @warren/core's
 * SseParser does (LF, CRLF or CR line ends, any chunk split, `:` comments, a blank line
 * dispatching, `data:` lines joined with LF), but decodes an event's data as UTF-8 only when
 * `wanted` says so. A streamed answer is mostly text deltas that carry nothing to meter; the
 * general parser turned every line of them into strings and event objects (about 5 KiB per
 * stream, a sixth of what the daemon allocated per call). Here each chunk is looked at through
 * one latin1 string, where string offsets are byte offsets and V8's own searches apply.
 */
export class SseScanner {
  /** The start of a line that the previous chunk(s) did not finish. */
  #carry: Buffer[] = [];
  #afterCr = false;
  #started = false;
  #event = '';
  #fields = false;
  /** The event's first data line, as bytes[from, to) of a chunk (most events have just one)... */
  #bytes: Buffer | undefined;
  #text = '';
  #from = 0;
  #to = 0;
  /** ...and any further data lines, copied out. */
  #moreData: Buffer[] | undefined;

  constructor(
    private readonly wanted: WantedEvent,
    private readonly onEvent: (event: string, data: string) => void,
  ) {}

  push(chunk: Buffer): void {
    if (!this.#started) {
      // Like TextDecoder, a byte order mark at the very start of the stream is not content.
      const head = this.#carry.length ? Buffer.concat([...this.#carry, chunk]) : chunk;
      this.#carry = [];
      const bom = bomBytes(head);
      if (bom === head.length && bom < BOM.length) {
        if (head.length) this.#carry.push(head);
        return;
      }
      this.#started = true;
      chunk = bom === BOM.length ? head.subarray(BOM.length) : head;
    }
    const text = chunk.toString('latin1');
    let start = 0;
    if (this.#afterCr) {
      this.#afterCr = false;
      if (text.charCodeAt(0) === LF) start = 1;
    }
    // Positions of the next LF and CR, each searched again only once passed (-1: none left).
    let lf = text.indexOf('\n', start);
    let cr = text.indexOf('\r', start);
    while (start < text.length) {
      if (lf >= 0 && lf < start) lf = text.indexOf('\n', start);
      if (cr >= 0 && cr < start) cr = text.indexOf('\r', start);
      const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
      if (end < 0) break;
      if (this.#carry.length) {
        const line = Buffer.concat([...this.#carry, chunk.subarray(start, end)]);
        this.#carry = [];
        this.#line(line, line.toString('latin1'), 0, line.length);
      } else this.#line(chunk, text, start, end);
      start = end + 1;
      if (end === cr) {
        if (start === text.length) this.#afterCr = true;
        else if (text.charCodeAt(start) === LF) start += 1;
      }
    }
    if (start < text.length) this.#carry.push(chunk.subarray(start));
  }

  /** True between events: nothing of a half-received event is pending. */
  get atBoundary(): boolean {
    // Before the stream has started, the carry is (part of) a byte order mark, not an event.
    return (this.#carry.length === 0 || !this.#started) && !this.#fields;
  }

  /** The line bytes[start, end) (the same offsets in its latin1 `text`), without its line end. */
  #line(bytes: Buffer, text: string, start: number, end: number): void {
    if (start === end) {
      this.#dispatch();
      return;
    }
    if (text.charCodeAt(start) === COLON) return;
    this.#fields = true;
    if (isField(text, start, end, 'data')) {
      const from = valueStart(text, start + 4, end);
      if (this.#bytes === undefined) {
        this.#bytes = bytes;
        this.#text = text;
        this.#from = from;
        this.#to = end;
      } else {
        this.#moreData ??= [];
        this.#moreData.push(bytes.subarray(from, end));
      }
    } else if (isField(text, start, end, 'event')) {
      this.#event = bytes.toString('utf8', valueStart(text, start + 5, end), end);
    }
  }

  #dispatch(): void {
    const event = this.#event;
    const bytes = this.#bytes;
    this.#event = '';
    this.#fields = false;
    if (bytes === undefined) return;
    this.#bytes = undefined;
    const more = this.#moreData;
    if (more === undefined) {
      if (this.wanted(event, this.#text.slice(this.#from, this.#to)))
        this.onEvent(event, bytes.toString('utf8', this.#from, this.#to));
      return;
    }
    this.#moreData = undefined;
    const data = joinLines([bytes.subarray(this.#from, this.#to), ...more]);
    if (this.wanted(event, data.toString('latin1'))) this.onEvent(event, data.toString('utf8'));
  }
}

/** Whether the line text[start, end) is the field `name`: the name alone, or followed by a colon. */
function isField(text: string, start: number, end: number, name: string): boolean {
  const after = start + name.length;
  if (after > end || (after < end && text.charCodeAt(after) !== COLON)) return false;
  return text.startsWith(name, start);
}

/** Where the value of the field ending at `after` starts: past the colon and one space. */
function valueStart(text: string, after: number, end: number): number {
  if (after >= end) return end;
  return after + 1 < end && text.charCodeAt(after + 1) === SPACE ? after + 2 : after + 1;
}

/** How many of the first bytes match a byte order mark's (3: it is one). */
function bomBytes(bytes: Buffer): number {
  let n = 0;
  while (n < BOM.length && n < bytes.length && bytes[n] === BOM[n]) n++;
  return n;
}

function joinLines(parts: Buffer[]): Buffer {
  const pieces: Buffer[] = [];
  for (const part of parts) {
    if (pieces.length) pieces.push(NEWLINE);
    pieces.push(part);
  }
  return Buffer.concat(pieces);
}
