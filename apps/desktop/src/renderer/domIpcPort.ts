import type { IpcPort } from '../main/ipc/ipcProtocol';

/** The renderer's DOM MessagePort (handed over by the preload, or by an in-page bridge in tests). */
export function domIpcPort(port: {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  start(): void;
}): IpcPort {
  return {
    postMessage: (message) => port.postMessage(message),
    onMessage: (listener) => {
      port.addEventListener('message', (event) => listener(event.data));
      port.start();
    },
    // A DOM port has no close event; the page going away ends it, and main cleans up on its side.
    onClose: () => {},
  };
}
