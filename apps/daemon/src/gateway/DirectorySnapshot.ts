import type { Secret } from '@warren/core';
import {
  type EffectiveLimits,
  effectiveLimits,
  isModelAllowed,
  type LimitsRow,
  modelRef,
  type RoleModelRule,
} from '../ai/modelPolicy';
import type { ProviderKind } from '../db/schema';
import type { ModelPrices } from './cost';
import type { DirectoryRows } from './gatewayQueries';
import type { Family } from './providerErrors';

export interface CentralKey {
  id: string;
  secret: Secret;
}

export interface GatewayProvider {
  id: string;
  name: string;
  kind: ProviderKind;
  family: Family;
  byok: 'allowed' | 'required' | 'forbidden';
  /** scheme://host:port of the upstream. */
  origin: string;
  /** The path every endpoint path is appended to ('' or '/v1', '/v1beta/openai'...). */
  basePath: string;
  /** In priority order: the first is used, the next ones are failovers. */
  keys: CentralKey[];
}

export interface GatewayModel {
  id: string;
  /** The model id the provider knows it by. */
  name: string;
  displayName: string | null;
  createdAt: number;
  provider: GatewayProvider;
  prices: ModelPrices;
  /** "provider/model": what role patterns match and how a client picks a provider explicitly. */
  ref: string;
}

export function familyOf(kind: ProviderKind): Family {
  return kind === 'anthropic' ? 'anthropic' : 'openai';
}

/**
 * Where a provider's API lives. A base URL with a path is used as given (the SDKs' own
 * convention: OpenAI's ends in /v1, Gemini's OpenAI endpoint in /v1beta/openai); a bare host
 * gets the provider's usual prefix. Anthropic paths carry their /v1 themselves.
 */
export function upstreamBase(kind: ProviderKind, baseUrl: string): { origin: string; basePath: string } {
  const url = new URL(baseUrl);
  let basePath = url.pathname.replace(/\/+$/, '');
  if (kind === 'anthropic') basePath = basePath.replace(/\/v1$/, '');
  else if (basePath === '') basePath = kind === 'google' ? '/v1beta/openai' : '/v1';
  return { origin: url.origin, basePath };
}

/**
 * One immutable view of the providers, models, keys, role lists and limits, swapped whole when
 * the directory reloads, so a request never sees half of a change.
 */
export class DirectorySnapshot {
  readonly #byFamily: Record<Family, GatewayProvider[]> = { openai: [], anthropic: [] };
  /** Per family: model name -> the model of the first provider (by name) that offers it. */
  readonly #byName: Record<Family, Map<string, GatewayModel>> = { openai: new Map(), anthropic: new Map() };
  readonly #byRef = new Map<string, GatewayModel>();
  readonly #models: GatewayModel[] = [];
  readonly #rules: RoleModelRule[];
  readonly #limits: LimitsRow[];
  readonly #userKeys = new Map<string, string>();
  readonly #decryptedUserKeys = new Map<string, Secret | null>();

  constructor(
    rows: DirectoryRows,
    private readonly decrypt: (stored: string, what: string) => Secret | undefined,
  ) {
    const providers = new Map<string, GatewayProvider>();
    for (const row of rows.providers) {
      let base: { origin: string; basePath: string };
      try {
        base = upstreamBase(row.kind, row.base_url);
      } catch {
        continue;
      }
      const provider: GatewayProvider = {
        id: row.id,
        name: row.name,
        kind: row.kind,
        family: familyOf(row.kind),
        byok: row.byok,
        ...base,
        keys: [],
      };
      providers.set(row.id, provider);
      this.#byFamily[provider.family].push(provider);
    }
    for (const key of rows.keys) {
      const provider = providers.get(key.provider_id);
      const secret =
        provider && decrypt(key.key_encrypted, `central key ${key.id} of provider ${provider.name}`);
      if (provider && secret) provider.keys.push({ id: key.id, secret });
    }
    for (const row of rows.models) {
      const provider = providers.get(row.provider_id);
      if (!provider) continue;
      const model: GatewayModel = {
        id: row.id,
        name: row.name,
        displayName: row.display_name,
        createdAt: row.created_at,
        provider,
        prices: {
          input: Number(row.input_price),
          output: Number(row.output_price),
          cacheRead: Number(row.cache_read_price),
          cacheWrite: Number(row.cache_write_price),
        },
        ref: modelRef(provider.name, row.name),
      };
      this.#models.push(model);
      this.#byRef.set(model.ref, model);
    }
    this.#models.sort((a, b) => compare(a.provider.name, b.provider.name) || compare(a.name, b.name));
    for (const model of this.#models) {
      const names = this.#byName[model.provider.family];
      if (!names.has(model.name)) names.set(model.name, model);
    }
    for (const row of rows.userKeys)
      this.#userKeys.set(userKeyId(row.user_id, row.provider_id), row.key_encrypted);
    this.#rules = rows.roleModels;
    this.#limits = rows.limits.map((row) => ({
      ...row,
      daily_budget: nullableNumber(row.daily_budget),
      monthly_budget: nullableNumber(row.monthly_budget),
    }));
  }

  /**
   * The model a request names: "provider/model" picks the provider; a bare name is the first
   * enabled provider of the family (by name) that offers it.
   */
  resolve(family: Family, requested: string): GatewayModel | undefined {
    const slash = requested.indexOf('/');
    if (slash > 0) {
      const pinned = this.#byRef.get(requested);
      if (pinned && pinned.provider.family === family) return pinned;
    }
    return this.#byName[family].get(requested);
  }

  /** The id a client uses for `model`: its bare name, unless another provider's model wins that name. */
  publicId(model: GatewayModel): string {
    return this.#byName[model.provider.family].get(model.name) === model ? model.name : model.ref;
  }

  isAllowed(roles: readonly string[], model: GatewayModel): boolean {
    return isModelAllowed(this.#rules, roles, model.provider.name, model.name);
  }

  /** The family's models someone with `roles` may use, by provider name then model name. */
  listAllowed(family: Family, roles: readonly string[]): GatewayModel[] {
    return this.#models.filter((m) => m.provider.family === family && this.isAllowed(roles, m));
  }

  /** Other providers of the family offering the same model name that `roles` may use: failovers. */
  alternatives(model: GatewayModel, roles: readonly string[]): GatewayModel[] {
    return this.#models.filter(
      (m) =>
        m !== model &&
        m.name === model.name &&
        m.provider.family === model.provider.family &&
        this.isAllowed(roles, m),
    );
  }

  limits(userId: string): EffectiveLimits {
    return effectiveLimits(this.#limits, userId);
  }

  /** The key a user stored for a provider (BYOK), decrypted once per snapshot. */
  userKey(userId: string, providerId: string): Secret | undefined {
    const id = userKeyId(userId, providerId);
    let secret = this.#decryptedUserKeys.get(id);
    if (secret === undefined) {
      const stored = this.#userKeys.get(id);
      secret = (stored && this.decrypt(stored, `BYOK key of user ${userId}`)) || null;
      this.#decryptedUserKeys.set(id, secret);
    }
    return secret ?? undefined;
  }
}

function userKeyId(userId: string, providerId: string): string {
  return `${userId}\n${providerId}`;
}

function nullableNumber(value: number | null): number | null {
  return value === null ? null : Number(value);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
