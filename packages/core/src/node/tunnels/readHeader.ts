import type net from 'node:net';
import type { Decoded } from '../../wireguard/forwardHeader';

/**
 * Reads the header at the start of `socket` with an incremental decoder (forwardHeader's), and
 * leaves the socket paused with whatever followed the header unread, for a pipe to take. Rejects
 * when the decoder throws, the connection ends first, or nothing complete came within `timeoutMs`.
 */
export function readHeader<T>(
  socket: net.Socket,
  decode: (bytes: Uint8Array) => Decoded<T>,
  timeoutMs: number,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const timer = setTimeout(
      () => finish(new Error(`no complete header within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    const onEnd = () => finish(new Error('the connection ended before its header'));
    const onData = (chunk: Buffer) => {
      buffered = buffered.byteLength === 0 ? chunk : Buffer.concat([buffered, chunk]);
      let decoded: Decoded<T>;
      try {
        decoded = decode(buffered);
      } catch (error) {
        return finish(error as Error);
      }
      if (!decoded.done) return;
      finish();
      const { rest } = decoded;
      if (rest.byteLength > 0) socket.unshift(Buffer.from(rest.buffer, rest.byteOffset, rest.byteLength));
      resolve(decoded.value);
    };
    function finish(error?: Error) {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.pause();
      if (error) reject(error);
    }
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.resume();
  });
}
