import net from 'node:net';
import { freePort } from '@warren/core/test-support/freePort';

/** Runs `use` while something else listens on a loopback port, as a busy port a forward asks for. */
export async function withBusyLocalPort(use: (port: number) => Promise<void>): Promise<void> {
  const busy = net.createServer();
  const port = await freePort();
  await new Promise<void>((resolve) => busy.listen(port, '127.0.0.1', resolve));
  try {
    await use(port);
  } finally {
    await new Promise((resolve) => busy.close(resolve));
  }
}
