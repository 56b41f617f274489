import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { daemonPackageDir } from '../config/daemonPackageDir';
import { registerTerminalAddonRoute, type TerminalAddonOptions } from './terminalAddonRoute';

export const AGENT_BINARY_ROUTE = '/bin/warren-agent.mjs';

export interface AgentBinaryOptions extends TerminalAddonOptions {
  /** The built agent bundle; default: WARREN_AGENT_BINARY, else the agent package's dist beside the daemon's. */
  binaryPath?: string;
}

/** Where the daemon finds the agent bundle: WARREN_AGENT_BINARY, else apps/agent/dist next to this package. */
export function resolveAgentBinaryPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WARREN_AGENT_BINARY) return path.resolve(env.WARREN_AGENT_BINARY);
  return path.resolve(daemonPackageDir(), '..', 'agent', 'dist', 'warren-agent.mjs');
}

interface Bundle {
  body: Buffer;
  etag: string;
  mtimeMs: number;
  size: number;
}

/**
 * Serves the agent bundle that workspaces download and run. It is read when it changes (a
 * rebuild needs no restart); the ETag lets a workspace skip the download when it has it already.
 */
export async function agentBinaryPlugin(
  app: FastifyInstance,
  options: AgentBinaryOptions = {},
): Promise<void> {
  const file = options.binaryPath ?? resolveAgentBinaryPath();
  let cached: Bundle | undefined;

  async function load(): Promise<Bundle | undefined> {
    let stat: Awaited<ReturnType<typeof fs.stat>>;
    try {
      stat = await fs.stat(file);
    } catch {
      return undefined;
    }
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached;
    const body = await fs.readFile(file);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
    cached = { body, etag, mtimeMs: stat.mtimeMs, size: body.length };
    return cached;
  }

  app.get(AGENT_BINARY_ROUTE, async (request, reply) => {
    const bundle = await load();
    if (!bundle) {
      request.log.error({ file }, 'the workspace agent bundle is missing');
      return reply.code(503).send({
        error: {
          code: 'UNAVAILABLE',
          message: `The workspace agent is not built on this server (looked for ${file}). Build it with "pnpm --filter @warren/agent build", or set WARREN_AGENT_BINARY.`,
        },
      });
    }
    reply
      .header('cache-control', 'no-cache')
      .header('etag', bundle.etag)
      .header('last-modified', new Date(bundle.mtimeMs).toUTCString());
    if (request.headers['if-none-match'] === bundle.etag) return reply.code(304).send();
    return reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('content-length', bundle.body.length)
      .send(bundle.body);
  });

  // The agent's terminals need a native addon, which it downloads from the same /bin/.
  registerTerminalAddonRoute(app, options);
}
