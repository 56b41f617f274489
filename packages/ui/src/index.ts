/** What the desktop renderer (and any other host) takes from the screens package. */
export { ApiProvider, useApi } from './api/ApiContext';
export { type ApiClient, type ApiLink, API_PATH, createApiClient, webLinks } from './api/client';
export { errorMessage } from './api/errorMessage';
export type { RoutingMode } from './app/router';
export * from './design';
export { WarrenApp } from './WarrenApp';
