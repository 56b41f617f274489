import { createContext, useContext } from 'react';

/** The byte pipe a terminal runs over: binary frames both ways (core's terminal frames). */
export interface TerminalPipe {
  send(frame: Uint8Array): void;
  close(): void;
}

export interface TerminalPipeHandlers {
  onOpen(): void;
  onFrame(frame: Uint8Array): void;
  /** `clean`: the other side ended it on purpose (the process exited, the workspace stopped). */
  onClose(clean: boolean): void;
}

export interface TerminalRequest {
  /** OWNER/NAME */
  workspace: string;
  session: string;
  cols: number;
  rows: number;
}

/**
 * How the screens reach a workspace terminal. The browser opens the daemon's terminal
 * WebSocket with its session cookie; the desktop supplies its own (through its main process).
 */
export type TerminalConnector = (request: TerminalRequest, handlers: TerminalPipeHandlers) => TerminalPipe;

export const webTerminalConnector: TerminalConnector = (request, handlers) => {
  const url = new URL('/api/v2/tunnels/terminal', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  for (const [key, value] of Object.entries(request)) url.searchParams.set(key, String(value));
  const socket = new WebSocket(url);
  socket.binaryType = 'arraybuffer';
  socket.onopen = () => handlers.onOpen();
  // The first frame is the daemon's JSON "connected" note; terminal frames are binary.
  socket.onmessage = (event) => {
    if (event.data instanceof ArrayBuffer) handlers.onFrame(new Uint8Array(event.data));
  };
  socket.onclose = (event) => handlers.onClose(event.code === 1000);
  return {
    send: (frame) => socket.readyState === WebSocket.OPEN && socket.send(frame),
    close: () => socket.close(),
  };
};

const TerminalConnectorContext = createContext<TerminalConnector>(webTerminalConnector);
export const TerminalConnectorProvider = TerminalConnectorContext.Provider;
export const useTerminalConnector = () => useContext(TerminalConnectorContext);
