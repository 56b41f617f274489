import { StrictMode, useEffect } from 'react';
import { ApiProvider } from './api/ApiContext';
import type { ApiClient } from './api/client';
import { App } from './app/App';
import { ErrorBoundary } from './app/ErrorBoundary';
import { type RoutingMode, startRouter } from './app/router';
import { loadTheme } from './design/theme';
import {
  type TerminalConnector,
  TerminalConnectorProvider,
  webTerminalConnector,
} from './terminal/terminalConnector';

/**
 * The whole UI over any tRPC client: the browser passes HTTP/SSE links, the desktop an
 * IPC link (so its renderer never holds the daemon token) and `routing="hash"`.
 */
export function WarrenApp({
  client,
  routing = 'history',
  terminal = webTerminalConnector,
}: {
  client: ApiClient;
  routing?: RoutingMode;
  /** How terminals reach a workspace; the browser's WebSocket by default. */
  terminal?: TerminalConnector;
}) {
  useEffect(() => {
    const stopTheme = loadTheme();
    const stopRouter = startRouter(routing);
    return () => {
      stopTheme();
      stopRouter();
    };
  }, [routing]);
  return (
    <StrictMode>
      <ApiProvider client={client}>
        <TerminalConnectorProvider value={terminal}>
          <ErrorBoundary whole>
            <App />
          </ErrorBoundary>
        </TerminalConnectorProvider>
      </ApiProvider>
    </StrictMode>
  );
}
