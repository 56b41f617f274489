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
  // pipe has usually ended the channel already, at the socket's end, or the channel closed first:
  // end() on either would only build an error (with its stack trace) to throw away, once per
  // forwarded connection.
  socket.on('close', (hadError) => {
    if (hadError) channel.destroy();
    else if (!channel.writableEnded && !channel.destroyed) channel.end();
  });
  channel.on('close', () => endThenDestroy(socket));
  socket.pipe(channel).pipe(socket);
  // While the channel is full (no SSH window), pipe holds the pause and resumes on its drain.
  readInGulpsUnderBulk(socket, () => !channel.writableNeedDrain);
}

/**
 * Joins two TCP sockets both ways (a port forward over WireGuard, where no SSH channel sits in
 * between), with spliceChannel's rule: an end travels as an end after every byte before it, and
 * only an error or a reset tears both down at once. Both sockets must allow half-open
 * connections, so each direction ends on its own: a client that shuts down its sending side
 * still receives the whole answer.
 */
export function spliceSockets(a: net.Socket, b: net.Socket): void {
  // One went away while the other was being opened: there is nothing to carry.
  if (a.destroyed || b.destroyed) {
    a.destroy();
    b.destroy();
    return;
  }
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    from.on('error', () => {
      a.destroy();
      b.destroy();
    });
    // A clean close of one (both its directions done, or destroyed by its owner) lets the other
    // flush what it holds for its peer first.
    from.on('close', (hadError) => (hadError ? to.destroy() : endThenDestroy(to)));
    // pipe ends `to` when `from` ends, after what `from` sent; with allowHalfOpen each socket
    // destroys itself once it has both read and written its end.
    from.pipe(to);
    // While the destination is full, pipe holds the pause and resumes on its drain.
    readInGulpsUnderBulk(from, () => !to.writableNeedDrain);
  }
}

/** Bytes within one GULP_WINDOW_MS that mark a stream as bulk. */
const BULK_BYTES = 64 * 1024;
const GULP_WINDOW_MS = 2;
/** How long a bulk stream's reading rests after a small read, for the kernel to gather more. */
const GULP_REST_MS = 1;
/** A read at least this big already is a gulp. */
const GULP_BYTES = 48 * 1024;

/**
 * Under bulk load (a download, a copy), a socket fed by a tunnel device or another process
 * delivers a few KiB per wake-up: one read syscall, and a trip through the stream machinery (and
 * for a relayed tunnel, the WebSocket parser and SSH), for each few packets. Resting 1 ms after a
 * small read of a bulk stream lets the kernel gather up to a full 64 KiB read. Interactive
 * traffic never reaches BULK_BYTES in GULP_WINDOW_MS and is never delayed. `mayResume` says
 * whether the rest may end the pause (not while the socket's owner holds it for backpressure).
 */
export function readInGulpsUnderBulk(from: net.Socket, mayResume: () => boolean): void {
  let windowStart = 0;
  let windowBytes = 0;
  let resting = false;
  from.on('data', (chunk: Buffer) => {
    const now = performance.now();
    if (now - windowStart > GULP_WINDOW_MS) {
      windowStart = now;
      windowBytes = 0;
    }
    windowBytes += chunk.length;
    if (resting || windowBytes < BULK_BYTES || chunk.length >= GULP_BYTES) return;
    resting = true;
    from.pause();
    setTimeout(() => {
      resting = false;
      if (!from.destroyed && from.readableFlowing === false && mayResume()) from.resume();
    }, GULP_REST_MS);
  });
}

/** Ends the socket after its buffered writes, then destroys it; at most FLUSH_TIMEOUT_MS. */
function endThenDestroy(socket: net.Socket): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), FLUSH_TIMEOUT_MS);
  timer.unref();
  socket.end(() => {
    clearTimeout(timer);
    socket.destroy();
  });
}
