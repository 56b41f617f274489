import { type AiModel, type AiProvider, type AiProviderKind, type ByokMode, microsToUsd } from '@warren/core';
import type { ModelWithProviderRow, ProviderRow } from './aiCatalogQueries';
import { modelRef } from './modelPolicy';

const iso = (t: number) => new Date(t).toISOString();

export interface KeyListing {
  id: string;
  provider_id: string;
  priority: number;
  key_last4: string;
  created_at: number;
}

export function toProvider(row: ProviderRow, keys: readonly KeyListing[], modelCount: number): AiProvider {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as AiProviderKind,
    baseUrl: row.base_url,
    byok: row.byok as ByokMode,
    enabled: Boolean(row.enabled),
    keys: keys.map((k) => ({
      id: k.id,
      priority: k.priority,
      last4: k.key_last4,
      createdAt: iso(k.created_at),
    })),
    modelCount,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function pricesOf(row: ModelWithProviderRow) {
  return {
    inputPrice: microsToUsd(Number(row.input_price)),
    outputPrice: microsToUsd(Number(row.output_price)),
    cacheReadPrice: microsToUsd(Number(row.cache_read_price)),
    cacheWritePrice: microsToUsd(Number(row.cache_write_price)),
  };
}

export function toModel(row: ModelWithProviderRow): AiModel {
  return {
    id: row.id,
    provider: row.provider_name,
    name: row.name,
    ref: modelRef(row.provider_name, row.name),
    displayName: row.display_name,
    enabled: Boolean(row.enabled),
    ...pricesOf(row),
    createdAt: iso(row.created_at),
  };
}

/** What the audit trail keeps of a provider: its settings and how many keys, never a key. */
export function auditedProvider(p: AiProvider) {
  return {
    name: p.name,
    kind: p.kind,
    baseUrl: p.baseUrl,
    byok: p.byok,
    enabled: p.enabled,
    keys: p.keys.length,
  };
}

export function auditedModel(m: AiModel) {
  const { id: _id, createdAt: _created, ...rest } = m;
  return rest;
}

/** Code-point order, the same on both dialects whatever the database's collation. */
export const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function sortedBy<T>(items: T[], key: (item: T) => string): T[] {
  return items.sort((a, b) => byCodePoint(key(a), key(b)));
}
