import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli } from './cliProcess';
import { rememberSecret, startTestDaemon, type TestDaemon } from './harness';

const _DAEMON_DIR = path.resolve(import.meta.dirname, '..');

/** Everything the CLI must never print; tokens are allowed only in `tokens create`. */
const passwords: string[] = [];
const tokens: string[] = [];

const tempDirs: string[] = [];
function newConfigDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-cli-'));
  tempDirs.push(dir);
  return path.join(dir, 'config');
}

function newPassword(who: string): string {
  const password = rememberSecret(`${who}-pw-${randomBytes(8).toString('hex')}`);
  passwords.push(password);
  return password;
}

function newToken(token: string): string {
  tokens.push(rememberSecret(token));
  return token;
}

/** The built CLI as a user runs it, checked for anything it must never print. */
async function warren(
  args: string[],
  options: { configDir: string; stdin?: string; env?: Record<string, string> },
): Promise<CliResult> {
  const result = await runCli(args, {
    env: { WARREN_CONFIG_DIR: options.configDir, ...options.env },
    ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
  });
  const printed = result.stdout + result.stderr;
  for (const password of passwords) expect(printed).not.toContain(password);
  if (!(args.includes('tokens') && args.includes('create'))) {
    for (const token of tokens) expect(printed).not.toContain(token);
  }
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return result;
}

function readConfig(configDir: string): { url: string; token?: string } {
  return JSON.parse(fs.readFileSync(path.join(configDir, 'config.json'), 'utf8'));
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the warren CLI', () => {
  let t: TestDaemon;
  const owner = { username: 'owner', email: 'owner@example.com', password: '' };

  beforeAll(async () => {
    t = await startTestDaemon('sqlite');
  });
  afterAll(async () => {
    await t?.close();
    for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh config dir signed in as `username` through `warren login --password-stdin`. */
  async function signedIn(username: string, password: string): Promise<string> {
    const configDir = newConfigDir();
    const login = await warren(['login', t.url, '--username', username, '--password-stdin'], {
      configDir,
      stdin: `${password}\n`,
    });
    expect(login, login.stderr).toMatchObject({ code: 0 });
    newToken(readConfig(configDir).token ?? '');
    return configDir;
  }

  async function createUser(asOwner: string, username: string, extra: string[] = []): Promise<string> {
    const password = newPassword(username);
    const created = await warren(
      [
        'users',
        'create',
        '--username',
        username,
        '--email',
        `${username}@example.com`,
        ...extra,
        '--password-stdin',
      ],
      { configDir: asOwner, stdin: `${password}\n` },
    );
    expect(created.code, created.stderr).toBe(0);
    return password;
  }

  it('first-user login creates the owner, saves a private config and whoami shows the owner', async () => {
    owner.password = newPassword('owner');
    const configDir = newConfigDir();
    const login = await warren(
      [
        'login',
        `${t.url}/`,
        '--first-user',
        '--username',
        owner.username,
        '--email',
        owner.email,
        '--password-stdin',
      ],
      { configDir, stdin: `${owner.password}\n` },
    );
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toBe(`Signed in to ${t.url} as owner.\n`);

    const file = path.join(configDir, 'config.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(configDir).mode & 0o777).toBe(0o700);
    const config = readConfig(configDir);
    expect(config.url).toBe(t.url);
    newToken(config.token ?? '');
    expect(fs.readdirSync(configDir)).toEqual(['config.json']);

    const whoami = await warren(['whoami'], { configDir });
    expect(whoami.code).toBe(0);
    expect(whoami.stdout).toMatch(/^USERNAME\s+owner$/m);
    expect(whoami.stdout).toMatch(/^ROLES\s+owner\b/m);
    const json = await warren(['whoami', '--output', 'json'], { configDir });
    expect(JSON.parse(json.stdout)).toMatchObject({
      url: t.url,
      username: 'owner',
      roles: expect.arrayContaining(['owner']),
    });

    // The password was read from stdin without its newline: it signs in as typed.
    await signedIn(owner.username, owner.password);
  });

  it('a wrong password exits 1 with a clear message and saves nothing', async () => {
    const configDir = newConfigDir();
    const result = await warren(['login', t.url, '--username', 'owner', '--password-stdin'], {
      configDir,
      stdin: 'not-the-password\n',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('error: The username/email or password is incorrect.\n');
    expect(fs.existsSync(path.join(configDir, 'config.json'))).toBe(false);
  });

  it('login without a terminal or --password-stdin says how to pass the password', async () => {
    const result = await warren(['login', t.url, '--username', 'owner'], { configDir: newConfigDir() });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: no terminal to ask for the password on; .*--password-stdin\n$/);
  });

  it('users create adds a user that users list shows in an aligned table and in JSON', async () => {
    const asOwner = await signedIn(owner.username, owner.password);
    await createUser(asOwner, 'alice', ['--role', 'auditor', 'member']);

    const table = await warren(['users', 'list'], { configDir: asOwner });
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^USERNAME\s+EMAIL\s+ROLES\s+STATUS\s+CREATED\s+LAST SEEN$/);
    const alice = rows.find((row) => row.startsWith('alice '));
    expect(alice).toBeDefined();
    // Every column starts where its header does.
    for (const row of rows) {
      expect(row.slice(header?.indexOf('EMAIL'))).toMatch(/^\S+@example\.com\s/);
      expect(row.slice(header?.indexOf('STATUS'))).toMatch(/^active\s/);
    }
    expect(alice?.slice(header?.indexOf('ROLES'))).toMatch(/^auditor,member\s/);

    const json = await warren(['users', 'list', '--role', 'auditor', '--output', 'json'], {
      configDir: asOwner,
    });
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({
        username: 'alice',
        email: 'alice@example.com',
        status: 'active',
        roles: ['auditor', 'member'],
      }),
    ]);
  });

  it('suspending a user makes their saved session fail on the next command; activating and roles work', async () => {
    const asOwner = await signedIn(owner.username, owner.password);
    const password = await createUser(asOwner, 'bob');
    const asBob = await signedIn('bob', password);
    expect((await warren(['whoami'], { configDir: asBob })).code).toBe(0);

    const suspend = await warren(['users', 'suspend', 'bob'], { configDir: asOwner });
    expect(suspend).toMatchObject({ code: 0, stdout: 'Suspended bob.\n' });
    const refused = await warren(['whoami'], { configDir: asBob });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('error: This account is suspended.\n');
    const suspended = await warren(['users', 'list', '--status', 'suspended', '--output', 'json'], {
      configDir: asOwner,
    });
    expect(JSON.parse(suspended.stdout).map((u: { username: string }) => u.username)).toEqual(['bob']);

    expect((await warren(['users', 'activate', 'bob'], { configDir: asOwner })).stdout).toBe(
      'Activated bob.\n',
    );
    const roles = await warren(['users', 'role', 'bob', 'template-admin', 'member'], { configDir: asOwner });
    expect(roles.stdout).toBe('bob now has the roles: template-admin, member.\n');
    const whoami = await warren(['whoami', '--output', 'json'], { configDir: asBob });
    expect(JSON.parse(whoami.stdout).roles).toEqual(['template-admin', 'member']);

    // Bob is not an admin: the server's reason reaches him as one line.
    const forbidden = await warren(['users', 'suspend', 'alice'], { configDir: asBob });
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/^error: Your roles do not allow "users.suspend"\..*\n$/);
  });

  it('tokens create prints the token once; list shows it; revoke by name makes it fail', async () => {
    const asOwner = await signedIn(owner.username, owner.password);

    const shown = await warren(['tokens', 'create', 'laptop'], { configDir: asOwner });
    expect(shown.code).toBe(0);
    const [, tokenLine, warning] = shown.stdout.split('\n');
    newToken(tokenLine ?? '');
    expect(tokenLine).toMatch(/^wrn_/);
    expect(warning).toMatch(/will not be shown again/);

    const created = await warren(['tokens', 'create', 'ci', '--lifetime', '12h', '--output', 'json'], {
      configDir: asOwner,
    });
    const ci = JSON.parse(created.stdout) as { id: string; name: string; expiresAt: string; token: string };
    newToken(ci.token);
    expect(Object.keys(ci).sort()).toEqual(['expiresAt', 'id', 'name', 'token']);
    expect(Date.parse(ci.expiresAt) - Date.now()).toBeGreaterThan(11.9 * 3600_000);
    expect(Date.parse(ci.expiresAt) - Date.now()).toBeLessThanOrEqual(12 * 3600_000);

    const list = await warren(['tokens', 'list'], { configDir: asOwner });
    expect(list.stdout).toMatch(/^ID\s+NAME\s+USER\s+STATUS\s+CREATED\s+EXPIRES\s+LAST USED\n/);
    expect(list.stdout).toMatch(new RegExp(`^${ci.id}\\s+ci\\s+owner\\s+active\\s`, 'm'));

    // The token works on its own, from the environment, with no config file at all.
    const viaEnv = { WARREN_URL: t.url, WARREN_TOKEN: ci.token };
    const before = await warren(['whoami', '--output', 'json'], { configDir: newConfigDir(), env: viaEnv });
    expect(JSON.parse(before.stdout).username).toBe('owner');

    const revoke = await warren(['tokens', 'revoke', 'ci'], { configDir: asOwner });
    expect(revoke).toMatchObject({ code: 0, stdout: `Revoked token ci (id ${ci.id}).\n` });
    const after = await warren(['whoami'], { configDir: newConfigDir(), env: viaEnv });
    expect(after.code).toBe(1);
    expect(after.stderr).toBe('error: This API token or session was revoked. Sign in again.\n');

    const all = await warren(['tokens', 'list', '--all', '--output', 'json'], { configDir: asOwner });
    expect(JSON.parse(all.stdout)).toContainEqual(
      expect.objectContaining({ id: ci.id, revokedAt: expect.any(String) }),
    );
    const again = await warren(['tokens', 'revoke', ci.id], { configDir: asOwner });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: The API token .* is already revoked\.\n$/);
  });

  it('WARREN_URL and WARREN_TOKEN override the config file', async () => {
    const asOwner = await signedIn(owner.username, owner.password);
    const password = await createUser(asOwner, 'carol');
    const asCarol = await signedIn('carol', password);
    const ownerToken = readConfig(asOwner).token ?? '';

    const overridden = await warren(['whoami', '--output', 'json'], {
      configDir: asCarol,
      env: { WARREN_TOKEN: ownerToken },
    });
    expect(JSON.parse(overridden.stdout).username).toBe('owner');

    const elsewhere = `http://127.0.0.1:${await closedPort()}`;
    const unreachable = await warren(['whoami'], {
      configDir: asCarol,
      env: { WARREN_URL: elsewhere, WARREN_TOKEN: ownerToken },
    });
    expect(unreachable.stderr).toBe(`error: cannot reach Warren at ${elsewhere}: connection refused\n`);

    // Carol's saved token belongs to her server and is not sent to another one.
    const noToken = await warren(['whoami'], { configDir: asCarol, env: { WARREN_URL: elsewhere } });
    expect(noToken).toMatchObject({
      code: 1,
      stderr: `error: you are not signed in; run warren login ${elsewhere}\n`,
    });
  });

  it('an unreachable server and a missing sign-in get clear messages', async () => {
    const elsewhere = `http://127.0.0.1:${await closedPort()}`;
    const login = await warren(['login', elsewhere, '--username', 'owner', '--password-stdin'], {
      configDir: newConfigDir(),
      stdin: 'whatever-password\n',
    });
    expect(login).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `error: cannot reach Warren at ${elsewhere}: connection refused\n`,
    });

    const none = await warren(['users', 'list'], { configDir: newConfigDir() });
    expect(none).toMatchObject({ code: 1, stderr: 'error: you are not signed in; run warren login URL\n' });
  });

  it('logout ends the session on the server and forgets the token', async () => {
    const configDir = await signedIn(owner.username, owner.password);
    const token = readConfig(configDir).token ?? '';
    const logout = await warren(['logout'], { configDir });
    expect(logout).toMatchObject({ code: 0, stdout: `Signed out of ${t.url}.\n` });
    expect(readConfig(configDir)).toEqual({ url: t.url });
    expect((await warren(['whoami'], { configDir })).stderr).toBe(
      `error: you are not signed in; run warren login ${t.url}\n`,
    );
    const reused = await warren(['whoami'], {
      configDir: newConfigDir(),
      env: { WARREN_URL: t.url, WARREN_TOKEN: token },
    });
    expect(reused.code).toBe(1);
    expect(reused.stderr).toMatch(/revoked/);
  });

  it('audit lists what happened, filtered, as a table or JSON', async () => {
    const asOwner = await signedIn(owner.username, owner.password);
    const json = await warren(
      ['audit', '--actor', 'owner', '--action', 'users.create', '--limit', '2', '--output', 'json'],
      {
        configDir: asOwner,
      },
    );
    expect(json.code, json.stderr).toBe(0);
    const entries = JSON.parse(json.stdout) as { action: string; actorUsername: string }[];
    expect(entries).toHaveLength(2);
    expect(entries.every((e) => e.action === 'users.create' && e.actorUsername === 'owner')).toBe(true);

    const table = await warren(['audit', '--action', 'users.suspend', '--since', '2000-01-01T00:00:00Z'], {
      configDir: asOwner,
    });
    expect(table.stdout).toMatch(/^TIME\s+ACTOR\s+ACTION\s+TARGET\s+RESULT\s+SOURCE IP\n/);
    expect(table.stdout).toMatch(/ owner\s+users\.suspend\s+user:bob\s+ok\s/);
  });

  it('bad flags and arguments exit non-zero without calling the server', async () => {
    const asOwner = await signedIn(owner.username, owner.password);
    const cases: [string[], RegExp][] = [
      [['users', 'list', '--status', 'bogus'], /argument 'bogus' is invalid/],
      [['users', 'list', '--output', 'yaml'], /argument 'yaml' is invalid/],
      [['tokens', 'create', 'x', '--lifetime', 'forever'], /argument 'forever' is invalid/],
      [
        ['tokens', 'create', 'x', '--lifetime', '10s'],
        /^error: Token lifetime must be at least 60 seconds\.\n$/,
      ],
      [['tokens', 'create', 'bad name'], /^error: Token name may use letters/],
      [['audit', '--since', 'yesterday'], /^error: Time must be an ISO 8601 timestamp\.\n$/],
      [['audit', '--limit', 'lots'], /argument 'lots' is invalid/],
      [['users', 'frobnicate'], /unknown command 'frobnicate'/],
      [['whoami', '--nope'], /unknown option '--nope'/],
      [
        ['users', 'create', '--email', 'x@example.com', '--password-stdin'],
        /required option '--username <username>'/,
      ],
      [['login', 'not a url', '--username', 'owner', '--password-stdin'], /^error: "not a url" is not a URL/],
      [['login', t.url], /^error: pass --username/],
      [['login', t.url, '--token', 'x', '--username', 'owner'], /cannot be used with/],
    ];
    const results = await Promise.all(
      cases.map(([args]) => warren(args, { configDir: asOwner, stdin: 'short\n' })),
    );
    cases.forEach(([args, message], i) => {
      expect(results[i]?.code, args.join(' ')).not.toBe(0);
      expect(results[i]?.stderr, args.join(' ')).toMatch(message);
    });
    const short = await warren(
      ['users', 'create', '--username', 'dave', '--email', 'dave@example.com', '--password-stdin'],
      {
        configDir: asOwner,
        stdin: 'short\n',
      },
    );
    expect(short).toMatchObject({ code: 1, stderr: 'error: Password must be at least 8 characters.\n' });
  });
});
