import { listWorkspacesInput, parameterText, type WorkspaceStatus, workspaceStatuses } from '@warren/core';
import { type Command, Option } from 'commander';
import type { WorkspaceBuild, WorkspaceView } from './apiTypes';
import { buildFailure, printAgentLog, printBuildLog } from './buildLog';
import { currentSession } from './CliSession';
import { parseFlags, positiveInteger, workspaceRef } from './flags';
import {
  type Column,
  formatDetails,
  formatTable,
  formatTime,
  outputFormatOf,
  printJson,
  printRows,
} from './output';
import { scheduleDetails, workspaceLabel } from './workspaceCommands';

function templateOf(w: WorkspaceView): string {
  const version = `${w.template}@${w.templateVersion}`;
  return w.outdated ? `${version} (outdated: @${w.activeTemplateVersion} is active)` : version;
}

function agentOf(w: WorkspaceView): string {
  if (!w.agent) return '-';
  if (w.agent.lifecycle === 'off' || w.agent.connected) return w.agent.lifecycle;
  return `${w.agent.lifecycle}, disconnected`;
}

const lastBuildOf = (w: WorkspaceView) =>
  `#${w.latestBuild.number} ${w.latestBuild.transition} ${formatTime(w.latestBuild.createdAt)}`;

const workspaceColumns: Column<WorkspaceView>[] = [
  { header: 'WORKSPACE', value: workspaceLabel },
  { header: 'TEMPLATE', value: templateOf },
  { header: 'STATUS', value: (w) => w.status },
  { header: 'AGENT', value: agentOf },
  { header: 'LAST BUILD', value: lastBuildOf },
];

const buildColumns: Column<WorkspaceBuild>[] = [
  { header: 'BUILD', value: (b) => String(b.number) },
  { header: 'TRANSITION', value: (b) => b.transition },
  { header: 'STATUS', value: (b) => b.status },
  { header: 'BY', value: (b) => (b.reason === 'initiator' ? b.initiator : b.reason) },
  { header: 'VERSION', value: (b) => String(b.templateVersion) },
  { header: 'CREATED', value: (b) => formatTime(b.createdAt) },
  { header: 'ERROR', value: (b) => b.error ?? '' },
];

const parameterColumns: Column<{ name: string; value: string }>[] = [
  { header: 'PARAMETER', value: (p) => p.name },
  { header: 'VALUE', value: (p) => p.value || '""' },
];

const RECENT_BUILDS = 5;

export function registerWorkspaceInfoCommands(program: Command): void {
  program
    .command('ls')
    .alias('list')
    .description('list your workspaces (or everyone’s with --all)')
    .option('--all', "everyone's workspaces (owners and auditors)")
    .option('--owner <username>', "another user's workspaces")
    .addOption(new Option('--status <status>', 'only workspaces in this state').choices(workspaceStatuses))
    .option('--template <name>', 'only workspaces built from this template')
    .option('--search <text>', 'only workspaces whose name contains this')
    .action(async (flags: ListFlags, command: Command) => {
      const input = parseFlags(listWorkspacesInput, {
        all: flags.all,
        owner: flags.owner,
        status: flags.status,
        template: flags.template,
        search: flags.search,
      });
      const list = await currentSession().client.workspaces.list.query(input);
      printRows(command, list, workspaceColumns);
    });

  program
    .command('show')
    .description('show a workspace: status, parameters, schedule and recent builds')
    .argument('<workspace>', 'NAME or OWNER/NAME')
    .action(async (raw: string, _flags: unknown, command: Command) => {
      const { client } = currentSession();
      const ref = workspaceRef(raw);
      const [view, builds] = await Promise.all([
        client.workspaces.get.query(ref),
        client.workspaces.builds.query(ref),
      ]);
      if (outputFormatOf(command) === 'json') {
        printJson({ ...view, builds });
        return;
      }
      const details = formatDetails([
        ['WORKSPACE', workspaceLabel(view)],
        ['TEMPLATE', templateOf(view)],
        ['STATUS', view.latestBuild.error ? `${view.status}: ${view.latestBuild.error}` : view.status],
        ['AGENT', agentOf(view)],
        ...scheduleDetails(view),
        ['LAST ACTIVITY', formatTime(view.lastActivityAt)],
        ['CREATED', formatTime(view.createdAt)],
      ]);
      const parameters = Object.entries(view.parameters).map(([name, value]) => ({
        name,
        value: parameterText(value),
      }));
      const sections = [
        details,
        parameters.length === 0 ? 'No parameters.' : formatTable(parameterColumns, parameters),
        formatTable(buildColumns, builds.slice(0, RECENT_BUILDS)),
      ];
      process.stdout.write(`${sections.join('\n\n')}\n`);
    });

  program
    .command('logs')
    .description(
      'print the log of a workspace’s latest build (or of --build N, or of its agent with --agent)',
    )
    .argument('<workspace>', 'NAME or OWNER/NAME')
    .option('-f, --follow', 'keep printing until the build ends; exit 1 if it failed')
    .option('--build <n>', 'an earlier build, by number (see warren show)', positiveInteger)
    .option('--agent', 'the workspace agent’s log instead: its startup and shutdown scripts')
    .action(
      async (raw: string, flags: { follow?: boolean; build?: number; agent?: boolean }, command: Command) => {
        const session = currentSession();
        const ref = workspaceRef(raw);
        if (flags.agent) {
          await printAgentLog(session, { ref, out: process.stdout, follow: flags.follow === true });
          return;
        }
        const build = flags.build ?? (await session.client.workspaces.get.query(ref)).latestBuild.number;
        // JSON output is for the outcome; the lines still reach a person on stderr.
        const json = outputFormatOf(command) === 'json';
        const end = await printBuildLog(session, {
          ref,
          build,
          out: json ? process.stderr : process.stdout,
          untilQuiet: !flags.follow,
        });
        if (json) printJson({ build, status: end?.status ?? 'running', error: end?.error ?? null });
        if (!end) {
          process.stderr.write(`Build ${build} is still going; follow it with: warren logs ${raw} -f\n`);
        } else if (flags.follow && end.status !== 'succeeded') {
          throw buildFailure(`Build ${build}`, end);
        } else if (!json) {
          process.stderr.write(`Build ${build} ${end.status}${end.error ? `: ${end.error}` : '.'}\n`);
        }
      },
    );
}

interface ListFlags {
  all?: boolean;
  owner?: string;
  status?: WorkspaceStatus;
  template?: string;
  search?: string;
}
