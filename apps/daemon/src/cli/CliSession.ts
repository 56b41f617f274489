import { Secret, WarrenError } from '@warren/core';
import { type ApiClient, createApiClient } from './apiClient';
import { loadCliConfig } from './CliConfig';

/** The server and credential a command talks to, and a client signed in with it. */
export interface CliSession {
  url: string;
  token: Secret;
  /** Where the token came from: `logout` forgets only a token it saved itself. */
  source: 'env' | 'config';
  client: ApiClient;
}

/** WARREN_URL and WARREN_TOKEN win over the config file. */
export function currentSession(env: NodeJS.ProcessEnv = process.env): CliSession {
  const config = loadCliConfig(env);
  const url = env.WARREN_URL ? normalizeServerUrl(env.WARREN_URL) : config?.url;
  let token: Secret | undefined;
  let source: CliSession['source'] = 'env';
  if (env.WARREN_TOKEN) token = parseToken(env.WARREN_TOKEN, 'WARREN_TOKEN');
  // The saved token belongs to the saved server; it is never sent to another one.
  else if (config?.token && url === config.url) {
    token = parseToken(config.token, 'the saved token');
    source = 'config';
  }
  if (!url || !token) throw notSignedIn(url);
  return { url, token, source, client: createApiClient(url, token) };
}

export function notSignedIn(url?: string): WarrenError {
  return new WarrenError('UNAUTHORIZED', `you are not signed in; run warren login ${url ?? 'URL'}`);
}

/** A token goes into an HTTP header, where a stray newline would make fetch echo it in an error. */
export function parseToken(raw: string, what: string): Secret {
  const value = raw.trim();
  if (!/^[\x21-\x7e]{1,512}$/.test(value)) {
    throw new WarrenError('INVALID_INPUT', `${what} is not a valid Warren token.`);
  }
  return new Secret(value);
}

/** "https://warren.example.com/" and "https://warren.example.com" are one server. */
export function normalizeServerUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WarrenError(
      'INVALID_INPUT',
      `"${raw}" is not a URL; pass one like https://warren.example.com.`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WarrenError('INVALID_INPUT', `"${raw}" must start with http:// or https://.`);
  }
  if (url.username || url.password) {
    throw new WarrenError('INVALID_INPUT', 'The server URL must not contain a username or password.');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
