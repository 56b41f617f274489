import { meteredEvents } from './meteredEvents';
import { SseScanner } from './SseScanner';
import { type MeteredCall, meterJson, NO_USAGE, StreamMeter, type WireFormat } from './usage';

/** A JSON body larger than this is forwarded but not metered (no model answer is near it). */
const MAX_METERED_JSON_BYTES = 16 * 1024 * 1024;

/** Sees a copy of every chunk forwarded to the client, and says what the call consumed. */
export interface BodyMeter {
  push(chunk: Uint8Array): void;
  result(): MeteredCall;
  /** Whether the body so far ends between two SSE events (where an error event may be added). */
  readonly atEventBoundary: boolean;
}

/** The meter for a response: by its content type, since an upstream may answer either way. */
export function bodyMeter(format: WireFormat | undefined, contentType: string | undefined): BodyMeter {
  if (!format) return new NoMeter();
  if (contentType?.startsWith('text/event-stream')) return new SseMeter(format);
  return new JsonMeter(format);
}

class SseMeter implements BodyMeter {
  readonly #meter: StreamMeter;
  readonly #parser: SseScanner;

  constructor(format: WireFormat) {
    const meter = new StreamMeter(format);
    this.#meter = meter;
    this.#parser = new SseScanner(meteredEvents(format), (event, data) => meter.onEvent(event, data));
  }

  push(chunk: Uint8Array): void {
    this.#parser.push(
      Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
    );
  }

  result(): MeteredCall {
    return this.#meter.result();
  }

  get atEventBoundary(): boolean {
    return this.#parser.atBoundary;
  }
}

/** Keeps the body (forwarded already) and reads usage from it once it is complete. */
class JsonMeter implements BodyMeter {
  #chunks: Uint8Array[] = [];
  #size = 0;
  readonly atEventBoundary = false;

  constructor(private readonly format: WireFormat) {}

  push(chunk: Uint8Array): void {
    this.#size += chunk.length;
    if (this.#size <= MAX_METERED_JSON_BYTES) this.#chunks.push(chunk);
    else this.#chunks = [];
  }

  result(): MeteredCall {
    if (this.#size > MAX_METERED_JSON_BYTES || this.#chunks.length === 0) return empty();
    try {
      const text = Buffer.concat(this.#chunks).toString('utf8');
      return meterJson(this.format, JSON.parse(text));
    } catch {
      // A body cut short (the client left, the upstream broke) has nothing reliable in it.
      return empty();
    }
  }
}

class NoMeter implements BodyMeter {
  readonly atEventBoundary = false;
  push(): void {}
  result(): MeteredCall {
    return empty();
  }
}

function empty(): MeteredCall {
  return { usage: { ...NO_USAGE }, toolCalls: [] };
}
