import { createFirstUserInput, loginInput, type Secret, WarrenError } from '@warren/core';
import { type Command, Option } from 'commander';
import { type ApiClient, createApiClient } from './apiClient';
import { loadCliConfig, saveCliConfig } from './CliConfig';
import { currentSession, normalizeServerUrl, parseToken } from './CliSession';
import { apiErrorCode } from './cliError';
import { parseFlags } from './flags';
import { formatDetails, formatTime, outputFormatOf, printJson, printResult } from './output';
import { readPassword } from './passwordInput';

interface LoginFlags {
  token?: string;
  username?: string;
  email?: string;
  passwordStdin?: boolean;
  firstUser?: boolean;
}

export function registerAuthCommands(program: Command): void {
  program
    .command('login')
    .description('sign in to a Warren server and remember it in the config file')
    .argument('<url>', 'the server, e.g. https://warren.example.com')
    .addOption(
      new Option('--token <token>', 'sign in with an API token instead of a password').conflicts([
        'username',
        'passwordStdin',
        'firstUser',
        'email',
      ]),
    )
    .option('--username <username>', 'username or email to sign in as')
    .option('--password-stdin', 'read the password from stdin instead of prompting')
    .option('--first-user', 'create the first user (the owner) on a new server, then sign in')
    .option('--email <email>', 'email of the first user (with --first-user)')
    .action(async (rawUrl: string, flags: LoginFlags, command: Command) => {
      const url = normalizeServerUrl(rawUrl);
      const signedIn = await signIn(url, flags);
      saveCliConfig({ url, token: signedIn.token.reveal() });
      if (outputFormatOf(command) === 'json')
        printJson({ url, username: signedIn.username, expiresAt: signedIn.expiresAt });
      else process.stdout.write(`Signed in to ${url} as ${signedIn.username}.\n`);
    });

  program
    .command('logout')
    .description('end the session and forget its token')
    .action(async (_flags: unknown, command: Command) => {
      const session = currentSession();
      let failure: unknown;
      try {
        await session.client.auth.logout.mutate();
      } catch (error) {
        // A session the server already refuses is as good as ended.
        if (apiErrorCode(error) !== 'UNAUTHORIZED') failure = error;
      }
      const config = loadCliConfig();
      if (session.source === 'config' && config) saveCliConfig({ url: config.url });
      if (failure) throw failure;
      printResult(command, { url: session.url }, `Signed out of ${session.url}.`);
    });

  program
    .command('whoami')
    .description('show who you are signed in as')
    .action(async (_flags: unknown, command: Command) => {
      const session = currentSession();
      const me = await session.client.auth.whoami.query();
      if (outputFormatOf(command) === 'json') {
        printJson({ url: session.url, ...me });
        return;
      }
      process.stdout.write(
        `${formatDetails([
          ['URL', session.url],
          ['USERNAME', me.username],
          ['EMAIL', me.email],
          ['ROLES', me.roles.join(', ')],
          ['STATUS', me.status],
          ['SINCE', formatTime(me.createdAt)],
        ])}\n`,
      );
    });
}

interface SignedIn {
  username: string;
  token: Secret;
  expiresAt: string | null;
}

async function signIn(url: string, flags: LoginFlags): Promise<SignedIn> {
  const client = createApiClient(url);
  if (flags.token) {
    const token = parseToken(flags.token, '--token');
    const me = await createApiClient(url, token).auth.whoami.query();
    return { username: me.username, token, expiresAt: null };
  }
  if (!flags.username) {
    throw new WarrenError(
      'INVALID_INPUT',
      'pass --username (or --token); on a new server add --first-user and --email',
    );
  }
  if (flags.email && !flags.firstUser)
    throw new WarrenError('INVALID_INPUT', '--email is only for --first-user');
  if (flags.firstUser) {
    if (!flags.email) throw new WarrenError('INVALID_INPUT', '--first-user needs --email');
    const fields = parseFlags(createFirstUserInput.omit({ password: true }), {
      username: flags.username,
      email: flags.email,
    });
    const password = await readPassword({
      fromStdin: Boolean(flags.passwordStdin),
      prompt: 'Password for the new owner: ',
      confirm: true,
    });
    const input = parseFlags(createFirstUserInput, { ...fields, password: password.reveal() });
    const owner = await client.setup.createFirstUser.mutate(input);
    process.stderr.write(`Created ${owner.username}, the owner of this server.\n`);
    return passwordLogin(client, owner.username, password);
  }
  const password = await readPassword({
    fromStdin: Boolean(flags.passwordStdin),
    prompt: `Password for ${flags.username}: `,
  });
  return passwordLogin(client, flags.username, password);
}

async function passwordLogin(client: ApiClient, login: string, password: Secret): Promise<SignedIn> {
  const input = parseFlags(loginInput, { login, password: password.reveal(), sessionIn: 'body' });
  const result = await client.auth.login.mutate(input);
  const token = 'token' in result ? result.token : undefined;
  if (!token) throw new WarrenError('UPSTREAM', 'the server signed you in but sent no session token');
  return {
    username: result.username,
    token: parseToken(token, 'the session token'),
    expiresAt: result.expiresAt,
  };
}
