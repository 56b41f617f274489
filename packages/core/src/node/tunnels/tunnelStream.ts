import net from 'node:net';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, type RawData, type WebSocket } from 'ws';
import { coalesceSocketWrites } from './coalesceSocketWrites';
import { readInGulpsUnderBulk } from './spliceChannel';

/**
 * Buffering of a tunnel's byte stream each way. With the default 16 KiB, every 32 KiB SSH packet
 * overfilled the readable side and paused the socket, then resumed it: a pair of syscalls per
 * packet. One SSH channel window (2 MiB in ssh2) bounds what is in flight anyway.
 */
const TUNNEL_STREAM_BUFFER_BYTES = 1024 * 1024;

/** The most one coalesced frame carries: well under the 1 MiB every Warren socket accepts. */
const MAX_COALESCED_FRAME_BYTES = 256 * 1024;

export interface TunnelStreamOptions {
  /**
   * Text frames go here instead of into the byte stream (binary frames carry the bytes). The
   * agent's primed SSH standby hears its `stream` frame this way while SSH already runs on it.
   */
  onText?: (text: string) => void;
}

type MessageListener = (data: RawData, isBinary: boolean) => void;

/** A relayed tunnel's WebSocket as a byte stream (client and agent ends alike); it ends when the socket closes. */
export function tunnelStream(socket: WebSocket, options: TunnelStreamOptions = {}): Duplex {
  const before = new Set(socket.listeners('message'));
  const stream = createWebSocketStream(socket, {
    readableHighWaterMark: TUNNEL_STREAM_BUFFER_BYTES,
    writableHighWaterMark: TUNNEL_STREAM_BUFFER_BYTES,
  });
  const { onText } = options;
  const push = socket.listeners('message').find((listener) => !before.has(listener)) as
    | MessageListener
    | undefined;
  if (onText && push) {
    socket.off('message', push);
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) push(data, isBinary);
      else onText(String(data));
    });
  }
  // ssh2 writes each packet in pieces (length, ciphertext, tag: three writes with Node's AES-GCM),
  // and each write was a frame of its own that the relay handled one by one. The writes of one
  // tick, and those that queue up while a frame goes out, now leave together as one frame.
  stream._writev = (chunks, callback) => sendCoalesced(socket, chunks, callback);
  coalesceSocketWrites(stream);
  // ws reads its socket as bytes arrive; under bulk load, in gulps (ws's own pause still wins).
  const raw = (socket as unknown as { _socket?: unknown })._socket;
  if (raw instanceof net.Socket) readInGulpsUnderBulk(raw, () => !socket.isPaused);
  // The relay ended the tunnel: both directions are over, so SSH hears it at once.
  socket.once('close', () => stream.destroy());
  return stream;
}

function sendCoalesced(
  socket: WebSocket,
  chunks: { chunk: Buffer }[],
  callback: (error?: Error | null) => void,
): void {
  const frames: Buffer[][] = [[]];
  let size = 0;
  for (const { chunk } of chunks) {
    if (size > 0 && size + chunk.length > MAX_COALESCED_FRAME_BYTES) {
      frames.push([]);
      size = 0;
    }
    frames[frames.length - 1]?.push(chunk);
    size += chunk.length;
  }
  // ws reports a failed send to every callback after it; the last one speaks for the batch.
  frames.forEach((parts, i) => {
    const data = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    socket.send(data, { binary: true }, i === frames.length - 1 ? callback : undefined);
  });
}

/**
 * `generateMask` for a tunnel's WebSocket client: a zero mask, which ws skips on both ends, so no
 * end XORs every relayed byte in JavaScript (ws runs without its native addon here). Masking keeps
 * a script in a browser from choosing the bytes a proxy sees; these clients are not browsers.
 */
export function zeroMask(mask: Buffer): void {
  mask.fill(0);
}
