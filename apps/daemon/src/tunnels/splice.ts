import { tickCorker } from '@warren/core/node';
import type { RawData, WebSocket } from 'ws';

/** Above this many bytes queued toward one side, reading from the other side pauses. */
const HIGH_WATER_BYTES = 1024 * 1024;
/** Each side is pinged this often; one that missed a whole interval (a sleeping laptop) is dropped. */
const PING_INTERVAL_MS = 20_000;

/**
 * Joins two WebSockets into one byte pipe: every binary message from one is sent unchanged to
 * the other (the daemon never looks inside: for SSH it is ciphertext), reading pauses while the
 * other side is slow, and when either closes the other is closed too. A text frame from either
 * side breaks the protocol and ends both.
 */
export function splice(a: WebSocket, b: WebSocket, onBytes?: (bytes: number) => void): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    let pings: NodeJS.Timeout | undefined;
    const end = (code: number, reason: string) => {
      if (done) return;
      done = true;
      clearInterval(pings);
      for (const socket of [a, b]) closeQuietly(socket, code, reason);
      resolve();
    };
    if (a.readyState !== a.OPEN || b.readyState !== b.OPEN) return end(1001, 'the other end closed');
    const alive = new Map<WebSocket, boolean>([
      [a, true],
      [b, true],
    ]);
    // A pong, or any traffic, shows a side is still there.
    for (const socket of [a, b]) {
      socket.on('pong', () => alive.set(socket, true));
      socket.on('message', () => alive.set(socket, true));
    }
    pings = setInterval(() => {
      for (const socket of [a, b]) {
        if (!alive.get(socket)) return socket.terminate();
        alive.set(socket, false);
        socket.ping();
      }
    }, PING_INTERVAL_MS);
    pings.unref();
    forward(a, b, end, onBytes);
    forward(b, a, end, onBytes);
    // Either side may have been paused until now so that nothing it sent was lost.
    a.resume();
    b.resume();
    for (const socket of [a, b]) {
      // 1005/1006 are not codes anyone may send; the other side just hears "going away".
      socket.once('close', (code) =>
        end(code === 1005 || code === 1006 ? 1001 : code, 'the other end closed'),
      );
      socket.once('error', () => end(1011, 'connection error'));
    }
  });
}

function forward(
  from: WebSocket,
  to: WebSocket,
  end: (code: number, reason: string) => void,
  onBytes?: (bytes: number) => void,
): void {
  let paused = false;
  // The messages of one read (an SSH flight: several packets) leave in one write, not one each.
  const cork = tickCorker(rawSocket(to));
  from.on('message', (data: RawData, isBinary: boolean) => {
    if (!isBinary) return end(1003, 'tunnels carry binary frames only');
    if (to.readyState !== to.OPEN) return;
    const size = byteLength(data);
    onBytes?.(size);
    cork();
    to.send(data, { binary: true }, () => {
      if (paused && to.bufferedAmount < HIGH_WATER_BYTES / 2) {
        paused = false;
        from.resume();
      }
    });
    if (!paused && to.bufferedAmount > HIGH_WATER_BYTES) {
      paused = true;
      from.pause();
    }
  });
}

/** ws keeps its TCP socket private; a server-side WebSocket always has one. */
export function rawSocket(socket: WebSocket): { cork(): void; uncork(): void } {
  return (socket as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.byteLength, 0);
  return data.byteLength;
}

function closeQuietly(socket: WebSocket, code: number, reason: string): void {
  if (socket.readyState === socket.CLOSED || socket.readyState === socket.CLOSING) return;
  // Codes 1004-1006 and 1015 are reserved and may not be sent.
  const safe = code >= 1000 && code <= 4999 && ![1004, 1005, 1006, 1015].includes(code) ? code : 1011;
  try {
    socket.close(safe, reason);
  } catch {
    socket.terminate();
  }
}
