import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  describeTerminalAddonTarget,
  parseTerminalAddonKey,
  TERMINAL_ADDON_ROUTE_PREFIX,
  TERMINAL_ADDON_SHA256_HEADER,
  type TerminalAddonTarget,
  terminalAddonKey,
} from '@warren/core';
import type { FastifyInstance, FastifyReply } from 'fastify';

export interface TerminalAddonOptions {
  /** node-pty's build folder (pty.node, and spawn-helper on macOS); default: WARREN_AGENT_PTY_DIR, else node-pty's own. */
  addonDir?: string;
}

/** Where the daemon finds the compiled addon: WARREN_AGENT_PTY_DIR, else the node-pty it was installed with. */
export function resolveTerminalAddonDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.WARREN_AGENT_PTY_DIR) return path.resolve(env.WARREN_AGENT_PTY_DIR);
  try {
    const manifest = createRequire(import.meta.url).resolve('node-pty/package.json');
    return path.join(path.dirname(manifest), 'build', 'Release');
  } catch {
    return undefined;
  }
}

const files = { node: 'pty.node', 'spawn-helper': 'spawn-helper' } as const;

/**
 * Serves the PTY addon the agent needs for terminals, as this daemon's own node-pty build. It
 * loads only into the same platform, CPU and Node ABI, so that is the one build offered; a
 * workspace that runs anything else gets a 404 that says what it would need.
 */
export function registerTerminalAddonRoute(app: FastifyInstance, options: TerminalAddonOptions = {}): void {
  const dir = options.addonDir ?? resolveTerminalAddonDir();
  const own: TerminalAddonTarget = {
    platform: process.platform,
    arch: process.arch,
    abi: process.versions.modules,
  };
  const cache = new Map<string, { body: Buffer; sha: string; mtimeMs: number; size: number }>();

  async function read(file: string) {
    const stat = await fs.stat(file).catch(() => undefined);
    if (!stat?.isFile()) return undefined;
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === stat.mtimeMs && hit.size === stat.size) return hit;
    const body = await fs.readFile(file);
    const entry = {
      body,
      sha: createHash('sha256').update(body).digest('hex'),
      mtimeMs: stat.mtimeMs,
      size: body.length,
    };
    cache.set(file, entry);
    return entry;
  }

  app.get<{ Params: { file: string } }>(`${TERMINAL_ADDON_ROUTE_PREFIX}:file`, async (request, reply) => {
    const match = /^(.{1,64})\.(node|spawn-helper)$/.exec(request.params.file);
    const target = match ? parseTerminalAddonKey(match[1] as string) : undefined;
    if (!match || !target) {
      return notFound(
        reply,
        `"${request.params.file.slice(0, 80)}" is not a terminal addon name; ask for PLATFORM-ARCH-abiNN.node, e.g. ${terminalAddonKey(own)}.node.`,
      );
    }
    if (terminalAddonKey(target) !== terminalAddonKey(own)) {
      return notFound(
        reply,
        `This server has a terminal addon for ${describeTerminalAddonTarget(own)} only, not ${describeTerminalAddonTarget(target)}; run the workspace on the same platform and Node.js version as the server (Node ${process.versions.node}).`,
      );
    }
    const file = dir ? path.join(dir, files[match[2] as keyof typeof files]) : undefined;
    const entry = file ? await read(file) : undefined;
    if (!entry) {
      if (match[2] === 'spawn-helper')
        return notFound(reply, `This server's terminal addon has no spawn-helper (only macOS needs one).`);
      request.log.error({ dir }, 'the terminal addon (node-pty) is not built');
      return reply.code(503).send({
        error: {
          code: 'UNAVAILABLE',
          message:
            'node-pty is not built on this server; reinstall it where a C++ toolchain is present, or set WARREN_AGENT_PTY_DIR to a folder holding pty.node.',
        },
      });
    }
    const etag = `"${entry.sha}"`;
    reply
      .header('cache-control', 'no-cache')
      .header('etag', etag)
      .header(TERMINAL_ADDON_SHA256_HEADER, entry.sha);
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-length', entry.body.length)
      .send(entry.body);
  });
}

function notFound(reply: FastifyReply, message: string) {
  return reply.code(404).send({ error: { code: 'NOT_FOUND', message } });
}
