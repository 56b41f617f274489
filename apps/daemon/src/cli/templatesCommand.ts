import path from 'node:path';
import {
  formatManifestErrors,
  parseManifest,
  pushTemplateInput,
  templateNameSchema,
  WarrenError,
} from '@warren/core';
import { type Command, Option } from 'commander';
import type { TemplateSummary, TemplateVersion } from './apiTypes';
import { type CliSession, currentSession } from './CliSession';
import { describeCliError } from './cliError';
import { parseFlags, positiveInteger } from './flags';
import { type Column, formatTime, printResult, printRows } from './output';
import { renameManifest, type StarterKind, starterKinds, starterManifests } from './starterTemplates';
import { readTemplateDir, writeTemplateDir } from './templateFiles';

const templateColumns: Column<TemplateSummary>[] = [
  { header: 'NAME', value: (t) => t.name },
  { header: 'DISPLAY NAME', value: (t) => t.displayName ?? '-' },
  { header: 'PROVISIONER', value: (t) => t.provisioner ?? '-' },
  { header: 'ACTIVE', value: (t) => (t.activeVersion === null ? '-' : String(t.activeVersion)) },
  { header: 'VERSIONS', value: (t) => String(t.versions) },
  { header: 'UPDATED', value: (t) => formatTime(t.updatedAt) },
];

const versionColumns: Column<TemplateVersion>[] = [
  { header: 'VERSION', value: (v) => String(v.version) },
  { header: 'ACTIVE', value: (v) => (v.active ? 'active' : '') },
  { header: 'PUSHED BY', value: (v) => v.createdBy },
  { header: 'PUSHED', value: (v) => formatTime(v.createdAt) },
  { header: 'MESSAGE', value: (v) => v.message ?? '' },
];

export function registerTemplatesCommand(program: Command): void {
  const templates = program
    .command('templates')
    .description('write, publish and version workspace templates');

  templates
    .command('list')
    .description('list the templates workspaces can be built from')
    .action(async (_flags: unknown, command: Command) => {
      printRows(command, await currentSession().client.templates.list.query(), templateColumns);
    });

  templates
    .command('init')
    .description('start a template in a directory, from a copy of a built-in one')
    .argument('<dir>', 'the directory to write warren.yaml into (created if missing)')
    .addOption(
      new Option('--from <kind>', 'which built-in template to copy').choices(starterKinds).default('local'),
    )
    .option('--name <name>', 'the new template’s name (default: the directory’s name)')
    .option('--force', 'overwrite files that exist')
    .action(
      async (dir: string, flags: { from: StarterKind; name?: string; force?: boolean }, command: Command) => {
        const name = flags.name ?? nameFromDir(dir);
        parseFlags(templateNameSchema, name);
        const starter = await starterTemplate(flags.from);
        const written = writeTemplateDir(dir, renameManifest(starter.manifest, name), starter.files, {
          force: Boolean(flags.force),
        });
        printResult(
          command,
          { dir, name, from: starter.origin, files: written },
          `Wrote ${written.map((f) => path.join(dir, f)).join(', ')}: template "${name}", a copy of ${starter.origin}.\n` +
            `Edit it, then publish it with: warren templates push ${dir}`,
        );
      },
    );

  templates
    .command('push')
    .description('check a template directory and publish it as a new version')
    .argument('[dir]', 'the template directory, with warren.yaml', '.')
    .option('--name <name>', "push under this name instead of the manifest's")
    .option('-m, --message <text>', 'what changed in this version')
    .option('--no-activate', 'keep the current active version; promote this one later')
    .action(
      async (
        dir: string,
        flags: { name?: string; message?: string; activate: boolean },
        command: Command,
      ) => {
        const source = readTemplateDir(dir);
        // Checked here first, so problems point at lines of the file on disk, like a compiler's.
        const parsed = parseManifest(source.manifest);
        if (!parsed.ok) {
          process.stderr.write(`${formatManifestErrors(parsed.errors, source.manifestPath)}\n`);
          const count = parsed.errors.length === 1 ? 'a problem' : `${parsed.errors.length} problems`;
          throw new WarrenError('INVALID_INPUT', `${source.manifestPath} has ${count}; nothing was pushed.`);
        }
        const name = flags.name ?? parsed.manifest.name;
        const input = parseFlags(pushTemplateInput, {
          name,
          manifest: name === parsed.manifest.name ? source.manifest : renameManifest(source.manifest, name),
          files: source.files,
          message: flags.message,
          activate: flags.activate,
        });
        const pushed = await currentSession().client.templates.push.mutate(input);
        const files = Object.keys(source.files).length;
        const withFiles = files === 0 ? '' : ` with ${files} file${files === 1 ? '' : 's'}`;
        printResult(
          command,
          pushed,
          pushed.active
            ? `Pushed ${pushed.name} version ${pushed.version}${withFiles}; it is the active version.`
            : `Pushed ${pushed.name} version ${pushed.version}${withFiles}; make it active with: warren templates promote ${pushed.name} ${pushed.version}`,
        );
      },
    );

  templates
    .command('versions')
    .description("list a template's versions, newest first")
    .argument('<name>')
    .action(async (name: string, _flags: unknown, command: Command) => {
      printRows(command, await currentSession().client.templates.versions.query({ name }), versionColumns);
    });

  templates
    .command('promote')
    .description('make a version the one new workspaces and updates use')
    .argument('<name>')
    .argument('<version>', 'the version number', positiveInteger)
    .action(async (name: string, version: number, _flags: unknown, command: Command) => {
      const promoted = await currentSession().client.templates.promote.mutate({ name, version });
      printResult(command, promoted, `Version ${promoted.version} of ${promoted.name} is now active.`);
    });

  templates
    .command('pull')
    .description("write a template version's files into a directory")
    .argument('<name>')
    .argument('[dir]', 'where to write it (default: ./NAME)')
    .option('--version <n>', 'this version instead of the active one', positiveInteger)
    .option('--force', 'overwrite files that exist')
    .action(
      async (
        name: string,
        dir: string | undefined,
        flags: { version?: number; force?: boolean },
        command: Command,
      ) => {
        const pulled = await currentSession().client.templates.pull.query({ name, version: flags.version });
        const target = dir ?? pulled.name;
        const written = writeTemplateDir(target, pulled.manifest, pulled.files, {
          force: Boolean(flags.force),
        });
        printResult(
          command,
          { name: pulled.name, version: pulled.version, dir: target, files: written },
          `Wrote version ${pulled.version} of ${pulled.name} to ${target}: ${written.join(', ')}.`,
        );
      },
    );
}

/** "./My Templates/dev_box" → "dev-box". */
function nameFromDir(dir: string): string {
  const base = path.basename(path.resolve(dir)).toLowerCase();
  const name = base.replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  if (!name)
    throw new WarrenError('INVALID_INPUT', `Cannot make a template name from "${dir}"; pass --name.`);
  return name;
}

interface Starter {
  manifest: string;
  files: Record<string, string>;
  origin: string;
}

/** The server's built-in template when signed in (it is the one kept up to date), else the embedded one. */
async function starterTemplate(kind: StarterKind): Promise<Starter> {
  const embedded = { manifest: starterManifests[kind], files: {}, origin: `the embedded ${kind} example` };
  let session: CliSession;
  try {
    session = currentSession();
  } catch {
    return embedded;
  }
  try {
    const pulled = await session.client.templates.pull.query({ name: kind });
    return { manifest: pulled.manifest, files: pulled.files, origin: `${session.url}'s ${kind} template` };
  } catch (error) {
    process.stderr.write(`Using the embedded ${kind} example: ${describeCliError(error).message}\n`);
    return embedded;
  }
}
