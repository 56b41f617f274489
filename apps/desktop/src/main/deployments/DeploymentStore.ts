import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Secret, WarrenError } from '@warren/core';
import { writeFileAtomically } from '@warren/core/node';
import {
  type AddDeploymentInput,
  type Deployment,
  type DeploymentsFile,
  deploymentIdSchema,
  deploymentsFileSchema,
  parseAddDeploymentInput,
} from './deploymentSchemas';
import type { SafeStorage } from './SafeStorage';

export const DEPLOYMENTS_FILE = 'deployments.json';

/**
 * The daemons this desktop signs in to (URL + token), in `deployments.json` in the app's userData
 * dir, and which one is active. Tokens are encrypted with the OS keychain through `safeStorage`
 * and decrypted only when a connection needs one; without OS encryption the store refuses to
 * save a token rather than write it in the clear. Nothing it returns to callers holds a token
 * except `target`, which returns it as a Secret.
 */
export class DeploymentStore {
  readonly file: string;

  constructor(
    userDataDir: string,
    private readonly safeStorage: SafeStorage,
  ) {
    this.file = path.join(userDataDir, DEPLOYMENTS_FILE);
  }

  list(): Deployment[] {
    const data = this.#read();
    return data.deployments.map((entry) => this.#view(data, entry.id));
  }

  active(): Deployment | undefined {
    return this.list().find((deployment) => deployment.active);
  }

  /** Adds a daemon (or replaces the token of one with the same URL) and makes it active. */
  add(input: AddDeploymentInput): Deployment {
    const parsed = parseAddDeploymentInput(input);
    if (!this.safeStorage.isEncryptionAvailable())
      throw new WarrenError(
        'UNAVAILABLE',
        'This computer offers no secure storage for the token (on Linux, install and unlock a keyring such as GNOME Keyring or KWallet), so Warren will not save it.',
      );
    const { url, token, name } = parsed;
    const data = this.#read();
    const encryptedToken = this.safeStorage.encryptString(token).toString('base64');
    const existing = data.deployments.find((deployment) => deployment.url === url);
    const id = existing?.id ?? randomBytes(6).toString('hex');
    const entry = {
      id,
      name: name ?? existing?.name ?? new URL(url).host,
      url,
      encryptedToken,
      addedAt: existing?.addedAt ?? new Date().toISOString(),
      ...(existing?.wireguard ? { wireguard: true } : {}),
    };
    data.deployments = existing
      ? data.deployments.map((deployment) => (deployment.id === id ? entry : deployment))
      : [...data.deployments, entry];
    data.active = id;
    this.#write(data);
    return this.#view(data, id);
  }

  switchTo(id: string): Deployment {
    const data = this.#read();
    this.#find(data, id);
    data.active = id;
    this.#write(data);
    return this.#view(data, id);
  }

  /** Turns WireGuard for the deployment's port forwards on or off (used only where it can run). */
  setWireguard(id: string, on: boolean): Deployment {
    const data = this.#read();
    const entry = this.#find(data, id);
    if (on) entry.wireguard = true;
    else delete entry.wireguard;
    this.#write(data);
    return this.#view(data, id);
  }

  /** Forgets a daemon and its token; the next one (if any) becomes active. */
  remove(id: string): void {
    const data = this.#read();
    this.#find(data, id);
    data.deployments = data.deployments.filter((deployment) => deployment.id !== id);
    if (data.active === id) data.active = data.deployments[0]?.id ?? null;
    this.#write(data);
  }

  /** The URL and decrypted token of a deployment, for the main process's own connections only. */
  target(id: string): { url: string; token: Secret } {
    const entry = this.#find(this.#read(), id);
    let token: string;
    try {
      token = this.safeStorage.decryptString(Buffer.from(entry.encryptedToken, 'base64'));
    } catch {
      throw new WarrenError(
        'UNAUTHORIZED',
        `The saved token for ${entry.name} can no longer be decrypted (the OS keyring changed); sign in to it again.`,
      );
    }
    return { url: entry.url, token: new Secret(token) };
  }

  #find(data: DeploymentsFile, id: string) {
    const valid = deploymentIdSchema.safeParse(id);
    const entry = valid.success ? data.deployments.find((deployment) => deployment.id === id) : undefined;
    if (!entry)
      throw new WarrenError('NOT_FOUND', `There is no saved Warren server with id "${String(id)}".`);
    return entry;
  }

  #view(data: DeploymentsFile, id: string): Deployment {
    const { encryptedToken: _token, wireguard, ...rest } = this.#find(data, id);
    return { ...rest, active: data.active === id, wireguard: wireguard ?? false };
  }

  #read(): DeploymentsFile {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return { version: 1, active: null, deployments: [] };
      throw new WarrenError('INTERNAL', `Cannot read ${this.file}: ${(error as Error).message}.`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {}
    const parsed = deploymentsFileSchema.safeParse(json);
    if (!parsed.success)
      throw new WarrenError(
        'INVALID_INPUT',
        `${this.file} is damaged; delete it and sign in to your servers again.`,
      );
    return parsed.data;
  }

  #write(data: DeploymentsFile): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    writeFileAtomically(this.file, `${JSON.stringify(data, null, 2)}\n`, 0o600);
  }
}
