/**
 * The newest `capacity` bytes a terminal printed, in a fixed ring, so a detached terminal that
 * keeps printing uses bounded memory. Bytes are kept exactly as written: a replay may start in
 * the middle of a UTF-8 character or an escape sequence, as any scrollback limit must.
 */
export class Scrollback {
  readonly #ring: Buffer;
  #start = 0;
  #length = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    this.#ring = Buffer.alloc(capacity);
  }

  get length(): number {
    return this.#length;
  }

  write(chunk: Uint8Array): void {
    // Only the tail of a chunk larger than the ring can survive.
    const bytes = chunk.length > this.capacity ? chunk.subarray(chunk.length - this.capacity) : chunk;
    const end = (this.#start + this.#length) % this.capacity;
    const first = Math.min(bytes.length, this.capacity - end);
    this.#ring.set(bytes.subarray(0, first), end);
    this.#ring.set(bytes.subarray(first), 0);
    const overflow = Math.max(0, this.#length + bytes.length - this.capacity);
    this.#start = (this.#start + overflow) % this.capacity;
    this.#length = Math.min(this.capacity, this.#length + bytes.length);
  }

  /** A copy of what is kept, oldest byte first. */
  snapshot(): Buffer {
    const out = Buffer.alloc(this.#length);
    const first = Math.min(this.#length, this.capacity - this.#start);
    this.#ring.copy(out, 0, this.#start, this.#start + first);
    this.#ring.copy(out, first, 0, this.#length - first);
    return out;
  }
}
