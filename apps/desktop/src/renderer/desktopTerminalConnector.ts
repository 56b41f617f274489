import { encodeTerminalAgentFrame } from '@warren/core';
import type { TerminalConnector } from '@warren/ui';

/**
 * Terminals in the window are not carried over IPC yet: the connector says so in the terminal's
 * status line (and stays open, so the screen does not keep redialling). The tray's "Open
 * terminal" opens the system terminal on `ssh warren.NAME`, which works today.
 */
export const desktopTerminalConnector: TerminalConnector = (_request, handlers) => {
  queueMicrotask(() => {
    handlers.onOpen();
    handlers.onFrame(
      encodeTerminalAgentFrame({
        type: 'error',
        code: 'UNAVAILABLE',
        message:
          'The desktop window has no terminal yet: use "Open terminal" in the tray, or run ssh warren.NAME.',
      }),
    );
  });
  return { send: () => {}, close: () => {} };
};
