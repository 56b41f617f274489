import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { formatManifestErrors, parseManifest, type TemplateManifest, WarrenError } from '@warren/core';
import type { Db } from '../db/database';
import { isUniqueViolation } from '../db/errors';

const MAX_FILES_BYTES = 10 * 1024 * 1024;

export interface TemplateSummary {
  name: string;
  displayName: string | null;
  description: string | null;
  activeVersion: number | null;
  provisioner: 'local' | 'docker' | null;
  versions: number;
  updatedAt: string;
}

export interface PushInput {
  name: string;
  manifest: string;
  files: Record<string, string>;
  message?: string | undefined;
  activate: boolean;
}

/** Paths inside a template directory: relative, no "..", no hidden escapes. */
function checkFiles(files: Record<string, string>): void {
  let total = 0;
  for (const [file, content] of Object.entries(files)) {
    const normal = path.posix.normalize(file);
    if (normal.startsWith('/') || normal.startsWith('..') || normal !== file || file === 'warren.yaml') {
      throw new WarrenError(
        'INVALID_INPUT',
        `Template file "${file}" must be a plain relative path inside the template.`,
      );
    }
    total += Buffer.byteLength(content, 'base64');
  }
  if (total > MAX_FILES_BYTES)
    throw new WarrenError('PAYLOAD_TOO_LARGE', 'Template files exceed 10 MiB in total.');
}

/** Validates a manifest and explains every problem with its line and field. */
export function validateManifest(source: string, fileName = 'warren.yaml'): TemplateManifest {
  const parsed = parseManifest(source);
  if (!parsed.ok) {
    throw new WarrenError(
      'INVALID_INPUT',
      `The template manifest is not valid:\n${formatManifestErrors(parsed.errors, fileName)}`,
    );
  }
  return parsed.manifest;
}

/** Templates and their immutable versions; one version is active. */
export class TemplatesService {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  async list(): Promise<TemplateSummary[]> {
    const rows = await this.db.kysely
      .selectFrom('templates as t')
      .leftJoin('template_versions as v', 'v.id', 't.active_version_id')
      .select((eb) => [
        't.name',
        't.display_name',
        't.description',
        't.updated_at',
        'v.number',
        'v.manifest',
        eb
          .selectFrom('template_versions as c')
          .whereRef('c.template_id', '=', 't.id')
          .select(eb.fn.countAll<number>().as('n'))
          .as('versions'),
      ])
      .orderBy('t.name')
      .execute();
    return rows.map((r) => ({
      name: r.name,
      displayName: r.display_name,
      description: r.description,
      activeVersion: r.number ?? null,
      provisioner: r.manifest ? (JSON.parse(r.manifest) as TemplateManifest).provisioner.type : null,
      versions: Number(r.versions ?? 0),
      updatedAt: new Date(r.updated_at).toISOString(),
    }));
  }

  async #template(name: string) {
    const t = await this.db.kysely
      .selectFrom('templates')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    if (!t)
      throw new WarrenError('NOT_FOUND', `No template is named "${name}". See "warren templates list".`);
    return t;
  }

  /** Validates, then stores a new immutable version; the first version is always active. */
  async push(actorId: string | null, input: PushInput) {
    const manifest = validateManifest(input.manifest);
    if (manifest.name !== input.name) {
      throw new WarrenError(
        'INVALID_INPUT',
        `The manifest names the template "${manifest.name}", but it is being pushed as "${input.name}".`,
      );
    }
    checkFiles(input.files);
    const now = this.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.kysely.transaction().execute(async (trx) => {
          let template = await trx
            .selectFrom('templates')
            .selectAll()
            .where('name', '=', input.name)
            .executeTakeFirst();
          if (!template) {
            template = {
              id: randomUUID(),
              name: input.name,
              display_name: manifest.displayName ?? null,
              description: manifest.description ?? null,
              active_version_id: null,
              created_by: actorId,
              created_at: now,
              updated_at: now,
            };
            await trx.insertInto('templates').values(template).execute();
          }
          const last = await trx
            .selectFrom('template_versions')
            .select((eb) => eb.fn.max<number>('number').as('n'))
            .where('template_id', '=', template.id)
            .executeTakeFirst();
          const number = Number(last?.n ?? 0) + 1;
          const versionId = randomUUID();
          await trx
            .insertInto('template_versions')
            .values({
              id: versionId,
              template_id: template.id,
              number,
              manifest: JSON.stringify(manifest),
              source: input.manifest,
              files: JSON.stringify(input.files),
              message: input.message ?? null,
              created_by: actorId,
              created_at: now,
            })
            .execute();
          const activate = input.activate || template.active_version_id === null;
          await trx
            .updateTable('templates')
            .set({
              updated_at: now,
              ...(activate
                ? {
                    active_version_id: versionId,
                    display_name: manifest.displayName ?? null,
                    description: manifest.description ?? null,
                  }
                : {}),
            })
            .where('id', '=', template.id)
            .execute();
          return { templateId: template.id, name: input.name, version: number, versionId, active: activate };
        });
      } catch (error) {
        // Two pushes raced for the same name or number: the loser tries again on fresh state.
        if (isUniqueViolation(error) && attempt < 3) continue;
        throw error;
      }
    }
  }

  async versions(name: string) {
    const t = await this.#template(name);
    const rows = await this.db.kysely
      .selectFrom('template_versions as v')
      .leftJoin('users as u', 'u.id', 'v.created_by')
      .select(['v.id', 'v.number', 'v.message', 'v.created_at', 'u.username'])
      .where('v.template_id', '=', t.id)
      .orderBy('v.number', 'desc')
      .execute();
    return rows.map((r) => ({
      version: r.number,
      active: r.id === t.active_version_id,
      message: r.message,
      createdBy: r.username ?? 'warren',
      createdAt: new Date(r.created_at).toISOString(),
    }));
  }

  async version(name: string, number?: number) {
    const t = await this.#template(name);
    let query = this.db.kysely.selectFrom('template_versions').selectAll().where('template_id', '=', t.id);
    query =
      number === undefined
        ? query.where('id', '=', t.active_version_id ?? '')
        : query.where('number', '=', number);
    const v = await query.executeTakeFirst();
    if (!v) throw new WarrenError('NOT_FOUND', `Template "${name}" has no version ${number ?? '(active)'}.`);
    return { template: t, version: v, manifest: JSON.parse(v.manifest) as TemplateManifest };
  }

  async promote(name: string, number: number) {
    const { template, version } = await this.version(name, number);
    const manifest = JSON.parse(version.manifest) as TemplateManifest;
    await this.db.kysely
      .updateTable('templates')
      .set({
        active_version_id: version.id,
        updated_at: this.now(),
        display_name: manifest.displayName ?? null,
        description: manifest.description ?? null,
      })
      .where('id', '=', template.id)
      .execute();
    return { name, version: number, previous: template.active_version_id };
  }

  async pull(name: string, number?: number) {
    const { version } = await this.version(name, number);
    return {
      name,
      version: version.number,
      manifest: version.source,
      files: JSON.parse(version.files) as Record<string, string>,
    };
  }

  /** The built-in templates are pushed once, as version 1, when the daemon first starts. */
  async seedBuiltins(dir: string): Promise<string[]> {
    const seeded: string[] = [];
    if (!fs.existsSync(dir)) return seeded;
    for (const name of fs.readdirSync(dir).sort()) {
      const file = path.join(dir, name, 'warren.yaml');
      if (!fs.existsSync(file)) continue;
      const exists = await this.db.kysely
        .selectFrom('templates')
        .select('id')
        .where('name', '=', name)
        .executeTakeFirst();
      if (exists) continue;
      const files: Record<string, string> = {};
      for (const other of fs.readdirSync(path.join(dir, name))) {
        if (other !== 'warren.yaml')
          files[other] = fs.readFileSync(path.join(dir, name, other)).toString('base64');
      }
      await this.push(null, {
        name,
        manifest: fs.readFileSync(file, 'utf8'),
        files,
        message: 'Built in',
        activate: true,
      });
      seeded.push(name);
    }
    return seeded;
  }
}
