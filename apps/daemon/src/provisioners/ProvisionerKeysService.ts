import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Secret, WarrenError } from '@warren/core';
import type { Db } from '../db/database';

/** Key format `wpk_<id>_<secret>`; only a SHA-256 of the secret is stored. */
const KEY_PATTERN = /^wpk_([a-f0-9]{16})_([A-Za-z0-9_-]{43})$/;
const hash = (secret: string) => createHash('sha256').update(secret).digest('base64url');

export interface ProvisionerIdentity {
  keyId: string;
  name: string;
  tags: Record<string, string>;
}

/** Keys that let external `warren provisioner start` processes take jobs from the queue. */
export class ProvisionerKeysService {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  async create(createdBy: string, name: string, tags: Record<string, string>) {
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const exists = await this.db.kysely
      .selectFrom('provisioner_keys')
      .select('id')
      .where('name', '=', name)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (exists) throw new WarrenError('CONFLICT', `A provisioner key named "${name}" already exists.`);
    await this.db.kysely
      .insertInto('provisioner_keys')
      .values({
        id,
        name,
        secret_hash: hash(secret),
        tags: JSON.stringify(tags),
        created_by: createdBy,
        created_at: this.now(),
        last_used_at: null,
        revoked_at: null,
      })
      .execute();
    return { id, name, tags, key: new Secret(`wpk_${id}_${secret}`) };
  }

  async list() {
    const rows = await this.db.kysely
      .selectFrom('provisioner_keys')
      .selectAll()
      .orderBy('created_at')
      .execute();
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      tags: JSON.parse(r.tags) as Record<string, string>,
      createdAt: new Date(r.created_at).toISOString(),
      lastUsedAt: iso(r.last_used_at),
      revokedAt: iso(r.revoked_at),
    }));
  }

  async revoke(name: string) {
    const result = await this.db.kysely
      .updateTable('provisioner_keys')
      .set({ revoked_at: this.now() })
      .where('name', '=', name)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0)
      throw new WarrenError('NOT_FOUND', `No active provisioner key is named "${name}".`);
  }

  async authenticate(raw: string): Promise<ProvisionerIdentity | WarrenError> {
    const match = KEY_PATTERN.exec(raw.trim());
    // Built only for a refusal: an error captures a stack trace.
    const invalid = () => new WarrenError('UNAUTHORIZED', 'The provisioner key is not valid or was revoked.');
    if (!match?.[1] || !match[2]) return invalid();
    const row = await this.db.kysely
      .selectFrom('provisioner_keys')
      .selectAll()
      .where('id', '=', match[1])
      .executeTakeFirst();
    if (!row || row.revoked_at !== null) return invalid();
    const [a, b] = [Buffer.from(hash(match[2])), Buffer.from(row.secret_hash)];
    if (a.length !== b.length || !timingSafeEqual(a, b)) return invalid();
    const now = this.now();
    if (row.last_used_at === null || now - row.last_used_at > 60_000) {
      await this.db.kysely
        .updateTable('provisioner_keys')
        .set({ last_used_at: now })
        .where('id', '=', row.id)
        .execute();
    }
    return { keyId: row.id, name: row.name, tags: JSON.parse(row.tags) };
  }
}
