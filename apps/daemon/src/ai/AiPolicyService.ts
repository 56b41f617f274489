import {
  type AiLimits,
  type AiPolicy,
  type AiProviderKind,
  type AvailableModel,
  microsToUsd,
  type Role,
} from '@warren/core';
import type { Actor } from '../auth/policy';
import type { Db } from '../db/database';
import type { UsersService } from '../users/UsersService';
import type { AiCatalogService } from './AiCatalogService';
import * as q from './aiCatalogQueries';
import { byCodePoint, pricesOf, sortedBy } from './aiViews';
import { DEFAULT_LIMITS_USER, isModelAllowed, modelRef } from './modelPolicy';

/** Budgets in micro-dollars, as the input schema produced them; null or missing: no limit. */
export interface LimitsSettings {
  dailyUsd?: number | null | undefined;
  monthlyUsd?: number | null | undefined;
  rpm?: number | null | undefined;
  tpm?: number | null | undefined;
}

type LimitsRow = Awaited<ReturnType<typeof q.listLimits>>[number];

function toLimits(row: LimitsRow): AiLimits {
  const usd = (micros: number | null) => (micros === null ? null : microsToUsd(Number(micros)));
  return {
    user: row.user_id === DEFAULT_LIMITS_USER ? DEFAULT_LIMITS_USER : (row.username ?? row.user_id),
    dailyUsd: usd(row.daily_budget),
    monthlyUsd: usd(row.monthly_budget),
    rpm: row.requests_per_minute,
    tpm: row.tokens_per_minute,
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/**
 * Who may use which models (per role) and the budgets and rate limits per person. The gateway
 * enforces them; this manages them and answers the model picker.
 */
export class AiPolicyService {
  constructor(
    private readonly db: Db,
    private readonly catalog: AiCatalogService,
    private readonly users: UsersService,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<AiPolicy> {
    const [rules, limits] = await Promise.all([
      q.listRoleModels(this.db.kysely),
      q.listLimits(this.db.kysely),
    ]);
    // Sorted here, not by the database, whose collation differs between dialects.
    const roles = [...new Set(rules.map((r) => r.role))].sort(byCodePoint);
    return {
      restricted: rules.length > 0,
      roleModels: roles.map((role) => ({
        role,
        patterns: rules
          .filter((r) => r.role === role)
          .map((r) => r.pattern)
          .sort(byCodePoint),
      })),
      // The default first, then people by name.
      limits: limits
        .map(toLimits)
        .sort((a, b) => Number(b.user === '*') - Number(a.user === '*') || byCodePoint(a.user, b.user)),
    };
  }

  async setRoleModels(role: Role, patterns: readonly string[]) {
    const before = (await this.get()).roleModels.find((r) => r.role === role)?.patterns ?? [];
    const unique = [...new Set(patterns)];
    await this.db.kysely.transaction().execute((trx) => q.replaceRoleModels(trx, role, unique));
    await this.catalog.changed();
    const policy = await this.get();
    return {
      before: { role, patterns: before },
      after: { role, patterns: policy.roleModels.find((r) => r.role === role)?.patterns ?? [] },
      restricted: policy.restricted,
    };
  }

  /** Replaces the whole row of '*' or a user; null removes it. */
  async setLimits(user: string, limits: LimitsSettings | null) {
    const userId = user === DEFAULT_LIMITS_USER ? user : (await this.users.get({ username: user })).id;
    const current = async () => {
      const row = (await q.listLimits(this.db.kysely)).find((r) => r.user_id === userId);
      return row ? toLimits(row) : null;
    };
    const before = await current();
    if (limits === null) await q.deleteLimits(this.db.kysely, userId);
    else
      await q.upsertLimits(this.db.kysely, {
        user_id: userId,
        daily_budget: limits.dailyUsd ?? null,
        monthly_budget: limits.monthlyUsd ?? null,
        requests_per_minute: limits.rpm ?? null,
        tokens_per_minute: limits.tpm ?? null,
        updated_at: this.now(),
      });
    await this.catalog.changed();
    return { before, after: await current() };
  }

  /**
   * The enabled models the caller's roles allow, and whose key would pay: their own where the
   * provider takes one and they have it, else the server's (a keyless server such as Ollama
   * needs none); 'missing' when the provider requires their own key and they have none.
   */
  async available(actor: Actor): Promise<AvailableModel[]> {
    const k = this.db.kysely;
    const [models, rules, ownKeys] = await Promise.all([
      q.modelsWithProvider(k).where('m.enabled', '=', 1).where('p.enabled', '=', 1).execute(),
      q.listRoleModels(k),
      q.listUserKeys(k, actor.userId),
    ]);
    const allowed = models
      .filter((m) => isModelAllowed(rules, actor.roles, m.provider_name, m.name))
      .map((m) => {
        const own =
          m.provider_byok !== 'forbidden' && ownKeys.some((key) => key.provider_id === m.provider_id);
        return {
          ref: modelRef(m.provider_name, m.name),
          provider: m.provider_name,
          providerKind: m.provider_kind as AiProviderKind,
          name: m.name,
          displayName: m.display_name,
          ...pricesOf(m),
          keySource: own ? 'own' : m.provider_byok === 'required' ? 'missing' : 'central',
        } satisfies AvailableModel;
      });
    return sortedBy(allowed, (m) => `${m.provider}\u0000${m.name}`);
  }
}
