import fs from 'node:fs';
import path from 'node:path';
import { describeIssues, WarrenError } from '@warren/core';
import { writeFileAtomically } from '@warren/core/node';
import { z } from 'zod';
import { type SavedForward, savedForwardSchema } from './tunnelTypes';

export const TUNNELS_FILE = 'tunnels.json';

const tunnelsFileSchema = z
  .object({
    version: z.literal(1),
    /** `DEPLOYMENT_ID/WORKSPACE` → its saved forwards. */
    forwards: z.record(z.string(), z.array(savedForwardSchema)),
  })
  .strict();
type TunnelsFile = z.infer<typeof tunnelsFileSchema>;

const forwardList = z
  .array(savedForwardSchema)
  .max(64, 'A workspace can have at most 64 saved port forwards.')
  .refine((list) => new Set(list.map((forward) => forward.localPort)).size === list.length, {
    message: 'Two forwards use the same local port; each local port can forward to one place.',
  });

/** The port forwards saved per workspace (and per deployment), in `tunnels.json` in userData. */
export class TunnelStore {
  readonly file: string;

  constructor(userDataDir: string) {
    this.file = path.join(userDataDir, TUNNELS_FILE);
  }

  get(deploymentId: string, workspace: string): SavedForward[] {
    return this.#read().forwards[key(deploymentId, workspace)] ?? [];
  }

  set(deploymentId: string, workspace: string, forwards: SavedForward[]): SavedForward[] {
    const parsed = forwardList.safeParse(forwards);
    if (!parsed.success) throw new WarrenError('INVALID_INPUT', describeIssues(parsed.error.issues));
    const data = this.#read();
    if (parsed.data.length === 0) delete data.forwards[key(deploymentId, workspace)];
    else data.forwards[key(deploymentId, workspace)] = parsed.data;
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    writeFileAtomically(this.file, `${JSON.stringify(data, null, 2)}\n`, 0o600);
    return parsed.data;
  }

  #read(): TunnelsFile {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return { version: 1, forwards: {} };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {}
    const parsed = tunnelsFileSchema.safeParse(json);
    if (!parsed.success)
      throw new WarrenError(
        'INVALID_INPUT',
        `${this.file} is damaged; delete it and save your port forwards again.`,
      );
    return parsed.data;
  }
}

const key = (deploymentId: string, workspace: string) => `${deploymentId}/${workspace}`;
