/** What the desktop renderer (and any other host) takes from the screens package. */
export { ApiProvider, useApi } from './api/ApiContext';
export { API_PATH, type ApiClient, type ApiLink, createApiClient, webLinks } from './api/client';
export { errorMessage } from './api/errorMessage';
export type { RoutingMode } from './app/router';
export * from './design';
export {
  type TerminalConnector,
  TerminalConnectorProvider,
  type TerminalPipe,
  webTerminalConnector,
} from './terminal/terminalConnector';
export { WarrenApp } from './WarrenApp';
