import { StrictMode, useEffect } from 'react';
import { ApiProvider } from './api/ApiContext';
import type { ApiClient } from './api/client';
import { App } from './app/App';
import { type RoutingMode, startRouter } from './app/router';
import { loadTheme } from './design/theme';

/**
 * The whole UI over any tRPC client: the browser passes HTTP/SSE links, the desktop an
 * IPC link (so its renderer never holds the daemon token) and `routing="hash"`.
 */
export function WarrenApp({ client, routing = 'history' }: { client: ApiClient; routing?: RoutingMode }) {
  useEffect(() => {
    loadTheme();
    return startRouter(routing);
  }, [routing]);
  return (
    <StrictMode>
      <ApiProvider client={client}>
        <App />
      </ApiProvider>
    </StrictMode>
  );
}
