import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  describeTerminalAddonTarget,
  TERMINAL_ADDON_ROUTE_PREFIX,
  TERMINAL_ADDON_SHA256_HEADER,
  type TerminalAddonTarget,
  terminalAddonKey,
  WarrenError,
} from '@warren/core';
import { writeFileAtomically } from '@warren/core/node';
import { currentAddonTarget, loadPtyAddon, type PtyAddon } from './PtyAddon';

export interface PtyAddonSourceOptions {
  /** The daemon's base URL (http or https), as workspaces reach it. */
  daemonUrl: URL;
  /** Where downloads are kept: WARREN_AGENT_CACHE_DIR, else a private folder in the temp dir. */
  cacheDir?: string;
  target?: TerminalAddonTarget;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/** The agent keeps downloads beside its bundle in Docker (/tmp); this works for every provisioner. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.WARREN_AGENT_CACHE_DIR?.trim();
  if (fromEnv) return path.resolve(fromEnv);
  const uid = typeof process.getuid === 'function' ? process.getuid() : os.userInfo().username;
  return path.join(os.tmpdir(), `warren-agent-${uid}`);
}

/** The daemon's http(s) base URL from the agent's WebSocket URL (`.../api/v2/agents/connect`). */
export function daemonUrlFromConnectUrl(connectUrl: URL): URL {
  const url = new URL(connectUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.pathname = url.pathname.replace(/api\/v2\/agents\/connect\/?$/, '');
  url.search = '';
  url.hash = '';
  return url;
}

/**
 * Gets the PTY addon from the daemon on first use: downloads it into a private cache folder,
 * checks its SHA-256 against the daemon's header, and loads it. A later process sends the cached
 * file's hash as If-None-Match and loads it only when the daemon confirms it is current.
 * A success is kept for the life of the process; a failure is not, so the next terminal retries.
 */
export class PtyAddonSource {
  #loaded: Promise<PtyAddon> | undefined;
  readonly #target: TerminalAddonTarget;

  constructor(private readonly options: PtyAddonSourceOptions) {
    this.#target = options.target ?? currentAddonTarget();
  }

  load(): Promise<PtyAddon> {
    if (!this.#loaded) {
      this.#loaded = this.#download();
      this.#loaded.catch(() => {
        this.#loaded = undefined;
      });
    }
    return this.#loaded;
  }

  async #download(): Promise<PtyAddon> {
    const dir = privateDir(this.options.cacheDir ?? defaultCacheDir());
    const addon = await this.#fetchFile(dir, 'node');
    // node-pty starts processes through this helper on macOS only; Linux forks directly.
    const spawnHelperPath =
      this.#target.platform === 'darwin' ? await this.#fetchFile(dir, 'spawn-helper') : undefined;
    return loadPtyAddon(addon, this.#target, { spawnHelperPath });
  }

  /** One file of the addon, current and verified, in the cache folder; returns its path. */
  async #fetchFile(dir: string, kind: 'node' | 'spawn-helper'): Promise<string> {
    const name = `${terminalAddonKey(this.#target)}.${kind}`;
    const file = path.join(dir, `pty-${name}`);
    const cachedHash = fileHash(file);
    const url = new URL(
      `${TERMINAL_ADDON_ROUTE_PREFIX.slice(1)}${name}`,
      withTrailingSlash(this.options.daemonUrl),
    );
    const response = await this.#get(url, cachedHash);
    if (response.status === 304 && cachedHash) return file;
    if (!response.ok) throw await refusal(response, this.#target);
    const body = Buffer.from(await response.arrayBuffer());
    const announced = response.headers.get(TERMINAL_ADDON_SHA256_HEADER)?.toLowerCase();
    if (!announced || announced !== sha256(body)) {
      throw new WarrenError(
        'UPSTREAM',
        `Terminals are unavailable: the terminal addon downloaded from ${url.origin} is damaged (its SHA-256 does not match the one the server sent).`,
      );
    }
    // Write then rename: a process that loaded the old file keeps its copy, and no one sees half a file.
    writeFileAtomically(file, body, 0o700);
    return file;
  }

  async #get(url: URL, cachedHash: string | undefined): Promise<Response> {
    try {
      return await (this.options.fetch ?? fetch)(url, {
        headers: cachedHash ? { 'if-none-match': `"${cachedHash}"` } : {},
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new WarrenError(
        'UPSTREAM',
        `Terminals are unavailable: the terminal addon could not be downloaded from ${url.origin} (${reason}).`,
      );
    }
  }
}

async function refusal(response: Response, target: TerminalAddonTarget): Promise<WarrenError> {
  let reason = `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { message?: unknown } };
    if (typeof body.error?.message === 'string') reason = body.error.message.slice(0, 500);
  } catch {
    // Not our JSON error: the status says enough.
  }
  return new WarrenError(
    'UNAVAILABLE',
    `Terminals are unavailable: the server has no terminal addon for ${describeTerminalAddonTarget(target)}. ${reason}`,
  );
}

/**
 * A cache folder only this user can write: another local user who could plant a file there
 * could make the agent load their code.
 */
function privateDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = fs.lstatSync(dir);
  const ours = typeof process.getuid !== 'function' || stat.uid === process.getuid();
  if (!stat.isDirectory() || !ours || (stat.mode & 0o022) !== 0) {
    throw new WarrenError(
      'UNAVAILABLE',
      `Terminals are unavailable: the agent's cache folder ${dir} is not a private folder of this user; remove it or set WARREN_AGENT_CACHE_DIR.`,
    );
  }
  return dir;
}

function fileHash(file: string): string | undefined {
  try {
    return sha256(fs.readFileSync(file));
  } catch {
    return undefined;
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function withTrailingSlash(url: URL): URL {
  const out = new URL(url);
  if (!out.pathname.endsWith('/')) out.pathname = `${out.pathname}/`;
  return out;
}
