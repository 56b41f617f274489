import type { IpcPort } from './ipcProtocol';

/** A node:worker_threads MessagePort (tests, benches): messages arrive as the data itself. */
export function nodeIpcPort(port: {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (data: unknown) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}): IpcPort {
  return {
    postMessage: (message) => port.postMessage(message),
    onMessage: (listener) => void port.on('message', listener),
    onClose: (listener) => void port.on('close', listener),
  };
}

/** Electron's MessagePortMain: messages arrive as `{ data }` events, and nothing flows until start(). */
export function electronIpcPort(port: {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  start(): void;
}): IpcPort {
  return {
    postMessage: (message) => port.postMessage(message),
    onMessage: (listener) => {
      port.on('message', (event) => listener(event.data));
      port.start();
    },
    onClose: (listener) => void port.on('close', listener),
  };
}
