import { randomBytes, randomUUID } from 'node:crypto';
import {
  type AiModel,
  type AiProvider,
  type AiProviderKind,
  type ByokKey,
  type ByokMode,
  defaultBaseUrls,
  type Secret,
  WarrenError,
} from '@warren/core';
import type { Actor } from '../auth/policy';
import type { Db } from '../db/database';
import { isUniqueViolation } from '../db/errors';
import type { SecretBox } from '../secrets/SecretBox';
import * as q from './aiCatalogQueries';
import { sortedBy, toModel, toProvider } from './aiViews';

export interface NewProvider {
  name: string;
  kind: AiProviderKind;
  baseUrl?: string | undefined;
  byok?: ByokMode | undefined;
  enabled?: boolean | undefined;
  apiKey?: Secret | undefined;
}

export interface ProviderChanges {
  baseUrl?: string | undefined;
  byok?: ByokMode | undefined;
  enabled?: boolean | undefined;
}

/** Prices in micro-dollars per million tokens, as the input schema produced them. */
export interface ModelSettings {
  provider: string;
  name: string;
  displayName?: string | undefined;
  enabled?: boolean | undefined;
  inputPrice: number;
  outputPrice: number;
  cacheReadPrice?: number | undefined;
  cacheWritePrice?: number | undefined;
}

/** A key is shown and audited by its last four characters only. */
const last4 = (key: Secret) => key.reveal().slice(-4);

/**
 * The AI providers a deployment offers: their central keys (encrypted), their models and
 * prices, and the keys people bring themselves. Keys go in as Secrets and never come out.
 */
export class AiCatalogService {
  /**
   * Called after every change here or in the AI policy, so the gateway can refresh what it
   * keeps in memory; server.ts wires it to the gateway's directory. A returned promise is
   * awaited, so the gateway call after a change's answer already sees it.
   */
  onCatalogChange: () => void | Promise<void> = () => {};

  constructor(
    private readonly db: Db,
    private readonly secrets: SecretBox,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Tells the gateway. A failure there must not fail a change that is already committed; the
   * gateway reloads on its own timer as well, and logs what went wrong.
   */
  async changed(): Promise<void> {
    try {
      await this.onCatalogChange();
    } catch {}
  }

  async listProviders(): Promise<AiProvider[]> {
    const k = this.db.kysely;
    const [rows, keys, counts] = await Promise.all([
      q.listProviders(k),
      q.listProviderKeys(k),
      q.countModelsByProvider(k),
    ]);
    const providers = rows.map((row) =>
      toProvider(
        row,
        keys.filter((key) => key.provider_id === row.id),
        counts.get(row.id) ?? 0,
      ),
    );
    return sortedBy(providers, (p) => p.name);
  }

  async getProvider(name: string): Promise<AiProvider> {
    const row = await this.#providerRow(name);
    const [keys, counts] = await Promise.all([
      q.listProviderKeys(this.db.kysely, row.id),
      q.countModelsByProvider(this.db.kysely),
    ]);
    return toProvider(row, keys, counts.get(row.id) ?? 0);
  }

  async #providerRow(name: string): Promise<q.ProviderRow> {
    const row = await q.findProvider(this.db.kysely, name);
    if (!row) throw new WarrenError('NOT_FOUND', `No AI provider is named "${name}".`);
    return row;
  }

  async createProvider(input: NewProvider): Promise<AiProvider> {
    const baseUrl = input.baseUrl ?? defaultBaseUrls[input.kind];
    if (!baseUrl) {
      throw new WarrenError(
        'INVALID_INPUT',
        `An ${input.kind} provider needs a base URL, such as http://localhost:11434/v1 for Ollama.`,
      );
    }
    const now = this.now();
    const id = randomUUID();
    try {
      await this.db.kysely.transaction().execute(async (trx) => {
        await q.insertProvider(trx, {
          id,
          name: input.name,
          kind: input.kind,
          base_url: baseUrl,
          byok: input.byok ?? 'allowed',
          enabled: input.enabled === false ? 0 : 1,
          created_at: now,
          updated_at: now,
        });
        if (input.apiKey) await q.insertProviderKey(trx, this.#keyRow(id, input.apiKey, 0));
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new WarrenError('CONFLICT', `An AI provider named "${input.name}" already exists.`);
      throw error;
    }
    await this.changed();
    return this.getProvider(input.name);
  }

  #keyRow(providerId: string, key: Secret, priority: number) {
    return {
      id: randomBytes(6).toString('hex'),
      provider_id: providerId,
      priority,
      key_encrypted: this.secrets.encrypt(key),
      key_last4: last4(key),
      created_at: this.now(),
    };
  }

  async updateProvider(name: string, changes: ProviderChanges) {
    const before = await this.getProvider(name);
    await q.updateProvider(this.db.kysely, before.id, {
      ...(changes.baseUrl !== undefined && { base_url: changes.baseUrl }),
      ...(changes.byok !== undefined && { byok: changes.byok }),
      ...(changes.enabled !== undefined && { enabled: changes.enabled ? 1 : 0 }),
      updated_at: this.now(),
    });
    await this.changed();
    return { before, after: await this.getProvider(name) };
  }

  async deleteProvider(name: string): Promise<AiProvider> {
    const before = await this.getProvider(name);
    await q.deleteProvider(this.db.kysely, before.id);
    await this.changed();
    return before;
  }

  /** Adds a central key; by default it is tried after the provider's other keys. */
  async addKey(providerName: string, key: Secret, priority?: number) {
    const provider = await this.getProvider(providerName);
    const next = Math.max(-1, ...provider.keys.map((k) => k.priority)) + 1;
    const row = this.#keyRow(provider.id, key, priority ?? next);
    await q.insertProviderKey(this.db.kysely, row);
    await this.changed();
    return { id: row.id, provider: provider.name, priority: row.priority, last4: row.key_last4 };
  }

  async removeKey(providerName: string, id: string) {
    const provider = await this.getProvider(providerName);
    const key = provider.keys.find((k) => k.id === id);
    if (!key || !(await q.deleteProviderKey(this.db.kysely, provider.id, id)))
      throw new WarrenError('NOT_FOUND', `AI provider "${provider.name}" has no key with the id "${id}".`);
    await this.changed();
    return { id, provider: provider.name, priority: key.priority, last4: key.last4 };
  }

  async listModels(providerName?: string): Promise<AiModel[]> {
    let query = q.modelsWithProvider(this.db.kysely);
    if (providerName) {
      const provider = await this.#providerRow(providerName);
      query = query.where('m.provider_id', '=', provider.id);
    }
    return sortedBy((await query.execute()).map(toModel), (m) => `${m.provider}\u0000${m.name}`);
  }

  async #model(providerId: string, name: string): Promise<AiModel | undefined> {
    const row = await q
      .modelsWithProvider(this.db.kysely)
      .where('m.provider_id', '=', providerId)
      .where('m.name', '=', name)
      .executeTakeFirst();
    return row && toModel(row);
  }

  /** Creates the model or replaces all its settings. */
  async upsertModel(settings: ModelSettings) {
    const provider = await this.#providerRow(settings.provider);
    const values = {
      display_name: settings.displayName ?? null,
      enabled: settings.enabled === false ? 0 : 1,
      input_price: settings.inputPrice,
      output_price: settings.outputPrice,
      cache_read_price: settings.cacheReadPrice ?? 0,
      cache_write_price: settings.cacheWritePrice ?? 0,
    };
    const before = await this.#model(provider.id, settings.name);
    try {
      if (before) await q.updateModel(this.db.kysely, before.id, values);
      else
        await q.insertModel(this.db.kysely, {
          id: randomUUID(),
          provider_id: provider.id,
          name: settings.name,
          created_at: this.now(),
          ...values,
        });
    } catch (error) {
      // Two people adding the same model at once: the second one finds it there.
      if (isUniqueViolation(error))
        throw new WarrenError(
          'CONFLICT',
          `Model "${settings.name}" was just added by someone else; try again.`,
        );
      throw error;
    }
    await this.changed();
    const after = await this.#model(provider.id, settings.name);
    if (!after) throw new WarrenError('CONFLICT', `Model "${settings.name}" was deleted while it was saved.`);
    return { before: before ?? null, after };
  }

  async deleteModel(providerName: string, name: string): Promise<AiModel> {
    const provider = await this.#providerRow(providerName);
    const before = await this.#model(provider.id, name);
    if (!before) throw new WarrenError('NOT_FOUND', `AI provider "${provider.name}" has no model "${name}".`);
    await q.deleteModel(this.db.kysely, before.id);
    await this.changed();
    return before;
  }

  /** The caller's own keys, and every provider where they could add one. */
  async listOwnKeys(actor: Actor): Promise<ByokKey[]> {
    const [providers, keys] = await Promise.all([
      q.listProviders(this.db.kysely),
      q.listUserKeys(this.db.kysely, actor.userId),
    ]);
    return sortedBy(providers, (p) => p.name).flatMap((p) => {
      const key = keys.find((k) => k.provider_id === p.id);
      if (p.byok === 'forbidden' && !key) return [];
      return [
        {
          provider: p.name,
          providerKind: p.kind as AiProviderKind,
          byok: p.byok as ByokMode,
          last4: key?.key_last4 ?? null,
          createdAt: key ? new Date(key.created_at).toISOString() : null,
        },
      ];
    });
  }

  async setOwnKey(actor: Actor, providerName: string, key: Secret) {
    const provider = await this.#providerRow(providerName);
    if (provider.byok === 'forbidden') {
      throw new WarrenError(
        'FORBIDDEN',
        `AI provider "${provider.name}" does not take personal keys: this server uses its own key for it.`,
      );
    }
    const before = (await q.listUserKeys(this.db.kysely, actor.userId)).find(
      (k) => k.provider_id === provider.id,
    );
    const row = {
      user_id: actor.userId,
      provider_id: provider.id,
      key_encrypted: this.secrets.encrypt(key),
      key_last4: last4(key),
      created_at: this.now(),
    };
    await q.upsertUserKey(this.db.kysely, row);
    await this.changed();
    return {
      before: before ? { provider: provider.name, last4: before.key_last4 } : null,
      after: { provider: provider.name, last4: row.key_last4 },
    };
  }

  async deleteOwnKey(actor: Actor, providerName: string) {
    const provider = await this.#providerRow(providerName);
    const before = (await q.listUserKeys(this.db.kysely, actor.userId)).find(
      (k) => k.provider_id === provider.id,
    );
    if (!before || !(await q.deleteUserKey(this.db.kysely, actor.userId, provider.id)))
      throw new WarrenError('NOT_FOUND', `You have no key of your own for AI provider "${provider.name}".`);
    await this.changed();
    return { provider: provider.name, last4: before.key_last4 };
  }
}
