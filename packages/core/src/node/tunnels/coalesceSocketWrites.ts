import type net from 'node:net';

/**
 * Makes the writes a socket gets within one tick leave together. ssh2 writes each SSH packet in
 * three pieces (length, ciphertext, tag); on a no-delay TCP socket each became a segment of its
 * own, and over WireGuard each segment is a packet to encrypt, so two tiny packets rode along
 * every 32 KiB of data. Corking until the next tick sends a packet (or several) as one write.
 */
export function coalesceSocketWrites(socket: net.Socket): void {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as typeof socket.write;
}
