import type net from 'node:net';
import type { Duplex } from 'node:stream';

/** A target that never reads cannot hold a finished forward open longer than this. */
const FLUSH_TIMEOUT_MS = 30_000;

/**
 * Joins a TCP socket and an SSH direct-tcpip channel both ways, for port forwards on either end.
 * An end on one side reaches the other as an end, after every byte before it; only an error or a
 * reset tears both down at once. Destroying the socket when the channel closes (or closing the
 * channel when the socket closes) drops bytes still buffered on their way out: bench/tunnel saw
 * transfers arrive short that way.
 */
export function spliceChannel(socket: net.Socket, channel: Duplex): void {
  socket.on('error', () => socket.destroy());
  channel.on('error', () => socket.destroy());
  // ssh2's end() sends EOF once earlier writes have gone out (a server channel then closes too).
  socket.on('close', (hadError) => (hadError ? channel.destroy() : channel.end()));
  channel.on('close', () => {
    if (socket.destroyed) return;
    const timer = setTimeout(() => socket.destroy(), FLUSH_TIMEOUT_MS);
    timer.unref();
    socket.end(() => {
      clearTimeout(timer);
      socket.destroy();
    });
  });
  socket.pipe(channel).pipe(socket);
}
