import {
  createUserInput,
  listUsersInput,
  type Role,
  roles,
  setRolesInput,
  type User,
  userStatuses,
} from '@warren/core';
import { type Command, Option } from 'commander';
import { currentSession } from './CliSession';
import { parseFlags } from './flags';
import { type Column, formatTime, printResult, printRows } from './output';
import { readPassword } from './passwordInput';

const userColumns: Column<User>[] = [
  { header: 'USERNAME', value: (u) => u.username },
  { header: 'EMAIL', value: (u) => u.email },
  { header: 'ROLES', value: (u) => u.roles.join(',') || '-' },
  { header: 'STATUS', value: (u) => u.status },
  { header: 'CREATED', value: (u) => formatTime(u.createdAt) },
  { header: 'LAST SEEN', value: (u) => formatTime(u.lastSeenAt) },
];

const rolesOf = (user: User) => user.roles.join(', ') || 'no roles';

export function registerUsersCommand(program: Command): void {
  const users = program.command('users').description('manage the users of the server');

  users
    .command('list')
    .description('list users')
    .option('--search <text>', 'only users whose username or email contains this')
    .addOption(new Option('--status <status>', 'only active or suspended users').choices(userStatuses))
    .addOption(new Option('--role <role>', 'only users with this role').choices(roles))
    .action(async (flags: { search?: string; status?: User['status']; role?: Role }, command: Command) => {
      const input = parseFlags(listUsersInput, {
        search: flags.search,
        status: flags.status,
        role: flags.role,
      });
      const list = await currentSession().client.users.list.query(input);
      printRows(command, list, userColumns);
    });

  users
    .command('create')
    .description('create a user')
    .requiredOption('--username <username>', 'their username')
    .requiredOption('--email <email>', 'their email')
    .addOption(new Option('--role <roles...>', 'roles to give them (default member)').choices(roles))
    .option('--password-stdin', 'read their password from stdin instead of prompting')
    .action(
      async (
        flags: { username: string; email: string; role?: Role[]; passwordStdin?: boolean },
        command: Command,
      ) => {
        const session = currentSession();
        // Check the flags before asking for a password that would then be thrown away.
        const fields = parseFlags(createUserInput.omit({ password: true }), {
          username: flags.username,
          email: flags.email,
          roles: flags.role,
        });
        const password = await readPassword({
          fromStdin: Boolean(flags.passwordStdin),
          prompt: `Password for ${flags.username}: `,
          confirm: true,
        });
        const input = parseFlags(createUserInput, { ...fields, password: password.reveal() });
        const user = await session.client.users.create.mutate(input);
        printResult(command, user, `Created user ${user.username} (${rolesOf(user)}).`);
      },
    );

  const statusChanges = [
    [
      'suspend',
      'Suspended',
      'suspend a user: their sessions and tokens stop working until they are activated',
    ],
    ['activate', 'Activated', 'activate a suspended user'],
  ] as const;
  for (const [name, done, description] of statusChanges) {
    users
      .command(name)
      .description(description)
      .argument('<username>')
      .action(async (username: string, _flags: unknown, command: Command) => {
        const user = await currentSession().client.users[name].mutate({ username });
        printResult(command, user, `${done} ${user.username}.`);
      });
  }

  users
    .command('role')
    .description(`set a user's roles (replacing the ones they have): ${roles.join(', ')}`)
    .argument('<username>')
    .argument('<roles...>')
    .action(async (username: string, wanted: string[], _flags: unknown, command: Command) => {
      const input = parseFlags(setRolesInput, { username, roles: wanted as Role[] });
      const user = await currentSession().client.users.setRoles.mutate(input);
      printResult(command, user, `${user.username} now has the roles: ${rolesOf(user)}.`);
    });
}
