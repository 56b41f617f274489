/**
 * Frames waiting for a connection, in order. Bounded: while the daemon is unreachable a chatty
 * script could fill memory, so the oldest log frames are dropped (and counted) past the limit;
 * lifecycle frames are tiny and always kept.
 */
export class Outbox {
  #frames: { text: string; droppable: boolean }[] = [];
  #bytes = 0;
  #droppedFrames = 0;

  constructor(private readonly maxBytes = 8 * 1024 * 1024) {}

  get isEmpty(): boolean {
    return this.#frames.length === 0;
  }

  push(text: string, droppable: boolean): void {
    this.#frames.push({ text, droppable });
    this.#bytes += text.length;
    while (this.#bytes > this.maxBytes) {
      const index = this.#frames.findIndex((f) => f.droppable);
      if (index === -1) break;
      const [dropped] = this.#frames.splice(index, 1);
      this.#bytes -= dropped?.text.length ?? 0;
      this.#droppedFrames += 1;
    }
  }

  /** Sends frames in order until `send` refuses one; returns how many log frames were dropped since the last drain. */
  drain(send: (text: string) => boolean): number {
    while (this.#frames.length > 0) {
      const next = this.#frames[0];
      if (!next || !send(next.text)) break;
      this.#frames.shift();
      this.#bytes -= next.text.length;
    }
    const dropped = this.#droppedFrames;
    this.#droppedFrames = 0;
    return dropped;
  }
}
