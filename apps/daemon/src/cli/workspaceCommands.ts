import { createWorkspaceInput, scheduleInput, WarrenError } from '@warren/core';
import type { Command } from 'commander';
import type { WorkspaceView } from './apiTypes';
import { buildFailure, printBuildLog } from './buildLog';
import { type CliSession, currentSession } from './CliSession';
import { autostopMinutes, keyValue, parseFlags, workspaceRef } from './flags';
import { formatDetails, formatMinutes, formatTime, outputFormatOf, printJson, printResult } from './output';
import { collectParameters } from './parameterInput';
import { canPrompt, confirm } from './prompt';

interface FollowFlags {
  follow: boolean;
}

/** Restart, and an update of a running workspace, are a stop whose success queues a start. */
const queuesStart = new Set(['restart', 'update']);

export const workspaceLabel = (w: { owner: string; name: string }) => `${w.owner}/${w.name}`;

export function registerWorkspaceCommands(program: Command): void {
  program
    .command('create')
    .description('create a workspace from a template and follow its first build')
    .argument('<name>', 'the new workspace’s name')
    .requiredOption('--template <name>', 'the template to build it from (see warren templates list)')
    .option(
      '--param <name=value>',
      'a template parameter; repeat for each (asked on a terminal when missing)',
      keyValue,
    )
    .option(
      '--autostop <duration>',
      'stop after this long without activity: 30m, 8h, 1d, or 0 for never',
      autostopMinutes,
    )
    .option('--autostart <cron>', 'start on this schedule, e.g. "0 9 * * 1-5"')
    .option('--timezone <zone>', 'time zone of --autostart, e.g. Europe/Lisbon (default: this computer’s)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--no-follow', 'return once the build is queued, without following its log')
    .action(async (rawName: string, flags: CreateFlags, command: Command) => {
      const ref = workspaceRef(rawName);
      if (ref.owner) {
        throw new WarrenError(
          'INVALID_INPUT',
          'Workspaces are created for yourself; give the name without an owner.',
        );
      }
      const session = currentSession();
      const template = await session.client.templates.get.query({ name: flags.template });
      const parameters = await collectParameters({
        template: template.name,
        parameters: template.manifest.parameters,
        given: flags.param ?? {},
      });
      const input = parseFlags(createWorkspaceInput, {
        name: ref.name,
        template: template.name,
        parameters,
        autostopMinutes: flags.autostop,
        autostart: autostartFlags(flags),
      });
      if (canPrompt() && !flags.yes) {
        const values = Object.entries(parameters).map(([k, v]) => `${k}=${v}`);
        const using = values.length > 0 ? ` with ${values.join(', ')}` : '';
        if (
          !(await confirm(`Create workspace ${ref.name} from ${template.name}@${template.version}${using}?`))
        ) {
          throw new WarrenError('INVALID_INPUT', 'cancelled');
        }
      }
      const view = await session.client.workspaces.create.mutate(input);
      await followTransition(
        session,
        command,
        view,
        flags,
        `Creating ${workspaceLabel(view)} from ${view.template}@${view.templateVersion}`,
      );
    });

  const transitions = [
    ['start', 'Starting', 'start a stopped workspace'],
    ['stop', 'Stopping', 'stop a workspace, keeping its files'],
    ['restart', 'Restarting', 'stop a running workspace and start it again'],
  ] as const;
  for (const [verb, doing, description] of transitions) {
    program
      .command(verb)
      .description(`${description}; follows the build's log`)
      .argument('<workspace>', 'NAME or OWNER/NAME')
      .option('--no-follow', 'return once the build is queued, without following its log')
      .action(async (raw: string, flags: FollowFlags, command: Command) => {
        const session = currentSession();
        const view = await session.client.workspaces[verb].mutate(workspaceRef(raw));
        await followTransition(session, command, view, flags, `${doing} ${workspaceLabel(view)}`, verb);
      });
  }

  program
    .command('update')
    .description('move a workspace to its template’s active version, with new parameter values')
    .argument('<workspace>', 'NAME or OWNER/NAME')
    .option('--param <name=value>', 'a parameter to change; repeat for each', keyValue)
    .option('--no-follow', 'return once the build is queued, without following its log')
    .action(
      async (raw: string, flags: FollowFlags & { param?: Record<string, string> }, command: Command) => {
        const session = currentSession();
        const ref = workspaceRef(raw);
        const current = await session.client.workspaces.get.query(ref);
        const template = await session.client.templates.get.query({ name: current.template });
        const parameters = await collectParameters({
          template: template.name,
          parameters: template.manifest.parameters,
          given: flags.param ?? {},
          previous: current.parameters,
        });
        const view = await session.client.workspaces.update.mutate({ ...ref, parameters });
        await followTransition(
          session,
          command,
          view,
          flags,
          `Updating ${workspaceLabel(view)} to ${view.template}@${view.templateVersion}`,
          'update',
        );
      },
    );

  program
    .command('delete')
    .description('delete a workspace and its files')
    .argument('<workspace>', 'NAME or OWNER/NAME')
    .option('--orphan', 'forget resources that cannot be removed instead of failing')
    .option('-y, --yes', 'do not ask for confirmation (needed without a terminal)')
    .option('--no-follow', 'return once the build is queued, without following its log')
    .action(
      async (raw: string, flags: FollowFlags & { orphan?: boolean; yes?: boolean }, command: Command) => {
        const ref = workspaceRef(raw);
        const label = ref.owner ? `${ref.owner}/${ref.name}` : ref.name;
        if (!flags.yes) {
          if (!canPrompt())
            throw new WarrenError(
              'INVALID_INPUT',
              `Deleting ${label} removes its files; pass --yes to confirm.`,
            );
          if (!(await confirm(`Delete workspace ${label} and its files?`)))
            throw new WarrenError('INVALID_INPUT', 'cancelled');
        }
        const session = currentSession();
        const view = await session.client.workspaces.delete.mutate({ ...ref, orphan: Boolean(flags.orphan) });
        await followTransition(session, command, view, flags, `Deleting ${workspaceLabel(view)}`);
      },
    );

  program
    .command('schedule')
    .description('show or change when a workspace stops and starts on its own')
    .argument('<workspace>', 'NAME or OWNER/NAME')
    .option(
      '--autostop <duration>',
      'stop after this long without activity: 30m, 8h, 1d, or 0 for never',
      autostopMinutes,
    )
    .option('--autostart <cron>', 'start on this schedule, e.g. "0 9 * * 1-5"')
    .option('--no-autostart', 'stop starting it on a schedule')
    .option('--timezone <zone>', 'time zone of --autostart (default: this computer’s)')
    .action(async (raw: string, flags: ScheduleFlags, command: Command) => {
      const session = currentSession();
      const ref = workspaceRef(raw);
      const changing = flags.autostop !== undefined || flags.autostart !== undefined;
      const view = changing
        ? await session.client.workspaces.setSchedule.mutate(
            parseFlags(scheduleInput, {
              ...ref,
              autostopMinutes: flags.autostop,
              autostart: flags.autostart === false ? null : autostartFlags(flags),
            }),
          )
        : await session.client.workspaces.get.query(ref);
      if (outputFormatOf(command) === 'json') printJson(view);
      else process.stdout.write(`${formatDetails(scheduleDetails(view))}\n`);
    });
}

interface CreateFlags extends FollowFlags {
  template: string;
  param?: Record<string, string>;
  autostop?: number;
  autostart?: string;
  timezone?: string;
  yes?: boolean;
}

interface ScheduleFlags {
  autostop?: number;
  autostart?: string | false;
  timezone?: string;
}

function autostartFlags(flags: { autostart?: string | false; timezone?: string }) {
  if (!flags.autostart) {
    if (flags.timezone) throw new WarrenError('INVALID_INPUT', '--timezone goes with --autostart.');
    return undefined;
  }
  return {
    cron: flags.autostart,
    timezone: flags.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
  };
}

export function scheduleDetails(view: WorkspaceView): [string, string][] {
  return [
    [
      'AUTOSTOP',
      view.autostopMinutes ? `after ${formatMinutes(view.autostopMinutes)} without activity` : 'off',
    ],
    ['STOPS AT', formatTime(view.deadline)],
    ['AUTOSTART', view.autostart ? `${view.autostart.cron} (${view.autostart.timezone})` : 'off'],
    ['NEXT START', formatTime(view.autostart?.next)],
  ];
}

const outcomeWords: Record<string, string> = {
  start: 'is running',
  stop: 'is stopped',
  delete: 'was deleted',
};

/**
 * After a transition: follow its build (and the start a restart or update queues after its
 * stop), then say how it ended. A failed build is a failed command.
 */
async function followTransition(
  session: CliSession,
  command: Command,
  view: WorkspaceView,
  flags: FollowFlags,
  doing: string,
  verb?: string,
): Promise<void> {
  const json = outputFormatOf(command) === 'json';
  const label = workspaceLabel(view);
  if (!flags.follow) {
    const { number, transition } = view.latestBuild;
    printResult(
      command,
      view,
      `Queued build ${number} (${transition}) of ${label}; follow it with: warren logs ${label} -f`,
    );
    return;
  }
  const out = json ? process.stderr : process.stdout;
  out.write(`${doing} (build ${view.latestBuild.number}, ${view.latestBuild.transition})\n`);
  let build = view.latestBuild;
  const ref = { owner: view.owner, name: view.name };
  for (;;) {
    const end = await printBuildLog(session, {
      ref,
      build: build.number,
      out,
      goneMeansDone: build.transition === 'delete',
    });
    if (!end) throw new WarrenError('INTERNAL', 'the build log ended without an outcome');
    if (end.status !== 'succeeded')
      throw buildFailure(`Build ${build.number} (${build.transition}) of ${label}`, end);
    if (build.transition === 'delete') break;
    const now = await session.client.workspaces.get.query(ref);
    if (
      verb !== undefined &&
      queuesStart.has(verb) &&
      now.latestBuild.number === build.number + 1 &&
      build.transition === 'stop' &&
      now.latestBuild.transition === 'start'
    ) {
      build = now.latestBuild;
      out.write(`Starting ${label} again (build ${build.number}, start)\n`);
      continue;
    }
    if (json) printJson(now);
    else out.write(`Workspace ${label} ${outcomeWords[build.transition] ?? 'is ready'}.\n`);
    return;
  }
  if (json) printJson({ ...view, status: 'deleted' });
  else out.write(`Workspace ${label} ${outcomeWords.delete}.\n`);
}
