import type { Writable } from 'node:stream';

interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Returns a function that corks `stream` until the current tick is over: what is written in
 * the meantime leaves in one write. Calls within one tick cork once.
 */
export function tickCorker(stream: Corkable): () => void {
  let corked = false;
  const uncork = () => {
    corked = false;
    stream.uncork();
  };
  return () => {
    if (corked) return;
    corked = true;
    stream.cork();
    process.nextTick(uncork);
  };
}

/**
 * Makes the writes a socket (or any writable: a tunnel's stream) gets within one tick leave
 * together. ssh2 writes each SSH packet in pieces (length, ciphertext, tag) and often several
 * packets in a row (NEWKEYS then a service request); on a no-delay TCP socket each became a
 * segment of its own, over WireGuard a packet to encrypt, and through the relay a WebSocket
 * message that every hop handled one by one.
 */
export function coalesceSocketWrites(socket: Writable): void {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  const cork = tickCorker(socket);
  socket.write = ((...args: unknown[]) => {
    cork();
    return write(...args);
  }) as typeof socket.write;
}
