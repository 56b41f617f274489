import os from 'node:os';
import { Secret, WarrenError } from '@warren/core';
import { forgetStreamingMallocEnv } from '@warren/core/node';

export interface AgentConfig {
  /** The agent WebSocket, ws: or wss:. */
  connectUrl: URL;
  token: Secret;
  /** Where scripts run. */
  dir: string;
}

export const CONNECT_PATH = 'api/v2/agents/connect';

/**
 * Reads the agent's settings from the environment and removes the token from it, so no script,
 * terminal or child process the agent starts inherits the workspace's credential. The malloc
 * tunables the provisioner set for the agent alone leave it too.
 */
export function readAgentConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const rawUrl = env.WARREN_AGENT_URL?.trim();
  const rawToken = env.WARREN_AGENT_TOKEN?.trim();
  delete env.WARREN_AGENT_TOKEN;
  forgetStreamingMallocEnv(env);
  if (!rawUrl)
    throw new WarrenError(
      'INVALID_INPUT',
      'WARREN_AGENT_URL is not set: give the daemon URL, e.g. https://warren.example.com.',
    );
  if (!rawToken)
    throw new WarrenError('INVALID_INPUT', 'WARREN_AGENT_TOKEN is not set: give the workspace agent token.');
  return {
    connectUrl: connectUrl(rawUrl),
    token: new Secret(rawToken),
    dir: env.WARREN_AGENT_DIR?.trim() || os.homedir(),
  };
}

/** `${base}/api/v2/agents/connect` on the WebSocket scheme matching the daemon URL; a base path is kept. */
export function connectUrl(base: string): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new WarrenError('INVALID_INPUT', `WARREN_AGENT_URL "${base}" is not a URL.`);
  }
  const schemes: Record<string, string> = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' };
  const scheme = schemes[url.protocol];
  if (!scheme)
    throw new WarrenError(
      'INVALID_INPUT',
      `WARREN_AGENT_URL must be an http or https URL, not ${url.protocol}.`,
    );
  const dir = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  const out = new URL(`${dir}${CONNECT_PATH}`, url);
  out.protocol = scheme;
  out.search = '';
  out.hash = '';
  return out;
}

/** The URL as it may appear in logs: no credentials, query or fragment. */
export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
