import type { Page } from 'playwright-core';
import type { IpcApiServer } from '../../src/main/ipc/IpcApiServer';
import type { IpcPort } from '../../src/main/ipc/ipcProtocol';
import { API_PORT_CHANNEL } from '../../src/renderer/connectRenderer';

/**
 * Stands in for the preload in a plain Chromium page: the page gets one end of a real DOM
 * MessageChannel (posted to window as the preload does), and the other end is wired through
 * Playwright to the REAL IpcApiServer in the test process. Each page load is one connection, so
 * a reload ends the old one's subscriptions as a closed Electron port would.
 */
export async function bridgeRendererToMain(page: Page, server: IpcApiServer) {
  /** Everything the main process sent to the page, for "no token crosses" assertions. */
  const toRenderer: unknown[] = [];
  const connections = new Map<string, { deliver: (m: unknown) => void; close: () => void }>();
  let delivery = Promise.resolve();

  const connect = (id: string) => {
    for (const old of connections.values()) old.close();
    connections.clear();
    const listeners: ((message: unknown) => void)[] = [];
    const closers: (() => void)[] = [];
    let pending: unknown[] = [];
    const port: IpcPort = {
      postMessage: (message) => {
        toRenderer.push(message);
        pending.push(message);
        // One evaluate at a time, in order, carrying whatever queued up meanwhile.
        delivery = delivery.then(async () => {
          if (pending.length === 0) return;
          const batch = pending;
          pending = [];
          await page
            .evaluate(
              ([connection, messages]) =>
                (window as unknown as WarrenBridgeWindow).__warrenIpcDeliver(connection, messages),
              [id, batch] as const,
            )
            // The page navigated or closed: its port is gone, as in Electron.
            .catch(() => {});
        });
      },
      onMessage: (listener) => void listeners.push(listener),
      onClose: (listener) => void closers.push(listener),
    };
    connections.set(id, {
      deliver: (message) => {
        for (const listener of listeners) listener(message);
      },
      close: () => {
        for (const closer of closers) closer();
      },
    });
    server.attach(port);
  };

  await page.exposeBinding('__warrenIpcSend', (_source, connection: string, message: unknown) => {
    if (!connections.has(connection)) connect(connection);
    connections.get(connection)?.deliver(message);
  });
  await page.addInitScript((channel) => {
    const bridge = window as unknown as WarrenBridgeWindow & {
      __warrenIpcSend(connection: string, message: unknown): Promise<void>;
    };
    const connection = Math.random().toString(36).slice(2);
    const { port1, port2 } = new MessageChannel();
    port2.onmessage = (event) => void bridge.__warrenIpcSend(connection, event.data);
    bridge.__warrenIpcDeliver = (id, messages) => {
      if (id === connection) for (const message of messages) port2.postMessage(message);
    };
    window.addEventListener('DOMContentLoaded', () => window.postMessage(channel, '*', [port1]));
  }, API_PORT_CHANNEL);
  page.on('close', () => {
    for (const connection of connections.values()) connection.close();
    connections.clear();
  });
  return { toRenderer };
}

interface WarrenBridgeWindow {
  __warrenIpcDeliver(connection: string, messages: readonly unknown[]): void;
}
