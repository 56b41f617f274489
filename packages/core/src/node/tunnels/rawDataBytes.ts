import type { RawData } from 'ws';

/** A `ws` message as one byte array, whichever of its three shapes `ws` delivered it in. */
export function rawDataBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
