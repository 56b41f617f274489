import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WarrenError } from '@warren/core';
import { z } from 'zod';

/** What `warren login` remembers: the server and, while signed in, the session or API token. */
export const cliConfigSchema = z.object({ url: z.string(), token: z.string().optional() }).strict();
export type CliConfig = z.infer<typeof cliConfigSchema>;

export function cliConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WARREN_CONFIG_DIR) return env.WARREN_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return path.join(env.XDG_CONFIG_HOME, 'warren');
  return path.join(os.homedir(), '.config', 'warren');
}

export function cliConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cliConfigDir(env), 'config.json');
}

export function loadCliConfig(env: NodeJS.ProcessEnv = process.env): CliConfig | undefined {
  const file = cliConfigPath(env);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new WarrenError('INTERNAL', `cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const result = cliConfigSchema.safeParse(parsed);
  if (!result.success) {
    throw new WarrenError(
      'INVALID_INPUT',
      `${file} is not a valid Warren CLI config; delete it and run warren login again.`,
    );
  }
  return result.data;
}

/**
 * Written to a temporary file and renamed, so a crash never leaves half a config; the file is
 * 0600 and the directory 0700 because the token in it signs in as the user.
 */
export function saveCliConfig(config: CliConfig, env: NodeJS.ProcessEnv = process.env): string {
  const dir = cliConfigDir(env);
  const file = path.join(dir, 'config.json');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = path.join(dir, `.config.json.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    fs.writeFileSync(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    fs.chmodSync(temp, 0o600);
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw new WarrenError('INTERNAL', `cannot write ${file}: ${(error as Error).message}`);
  }
  return file;
}
