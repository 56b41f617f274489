/** One server-sent event; `event` is '' when the stream did not name it (the spec's "message"). */
export interface SseEvent {
  event: string;
  data: string;
  /** The event's own `id:` line, if it had one (not carried over to later events). */
  id: string | undefined;
}

/**
 * An incremental text/event-stream parser over raw bytes, fed a copy of each chunk exactly as
 * it came off the wire (any split: mid-line, mid-CRLF, mid-UTF-8 character). Lines end in LF,
 * CRLF or CR; a blank line dispatches the event; `:` lines are comments; `data:` lines join
 * with LF; `retry` is ignored. Pure (TextDecoder only), so the CLI and the gateway share it.
 *
 * The gateway runs this on every streamed chunk: one decode and one indexOf pass per chunk, no
 * regular expressions, and one object per dispatched event. It never re-encodes these events;
 * it forwards the original bytes and parses a copy.
 */
export class SseParser {
  readonly #decoder = new TextDecoder('utf-8');
  #partial = '';
  /** The previous chunk ended in CR, so an LF starting this one ends nothing. */
  #afterCr = false;
  #event = '';
  #data: string[] = [];
  #id: string | undefined;
  #fields = false;

  constructor(private readonly onEvent: (event: SseEvent) => void) {}

  push(chunk: Uint8Array): void {
    let text = this.#decoder.decode(chunk, { stream: true });
    if (text === '') return;
    if (this.#afterCr) {
      this.#afterCr = false;
      if (text.charCodeAt(0) === 10 /* LF */) text = text.slice(1);
    }
    // Positions of the next LF and CR, each searched again only once passed (-1: none left).
    let lf = text.indexOf('\n');
    let cr = text.indexOf('\r');
    let start = 0;
    while (start < text.length) {
      if (lf >= 0 && lf < start) lf = text.indexOf('\n', start);
      if (cr >= 0 && cr < start) cr = text.indexOf('\r', start);
      const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
      if (end < 0) break;
      const piece = text.slice(start, end);
      const line = start === 0 && this.#partial !== '' ? this.#partial + piece : piece;
      if (start === 0) this.#partial = '';
      start = end + 1;
      if (end === cr) {
        if (start === text.length) this.#afterCr = true;
        else if (text.charCodeAt(start) === 10 /* LF */) start += 1;
      }
      this.#line(line);
    }
    if (start < text.length) this.#partial += text.slice(start);
  }

  /** True between events: nothing of a half-received event is pending. */
  get atBoundary(): boolean {
    return this.#partial === '' && !this.#fields;
  }

  #line(line: string): void {
    if (line === '') {
      this.#dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) return;
    this.#fields = true;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32 /* space */) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
  }

  #dispatch(): void {
    const { length } = this.#data;
    const event = {
      event: this.#event,
      data: length === 1 ? (this.#data[0] as string) : this.#data.join('\n'),
      id: this.#id,
    };
    this.#event = '';
    this.#id = undefined;
    this.#fields = false;
    if (length === 0) return;
    this.#data = [];
    this.onEvent(event);
  }
}
