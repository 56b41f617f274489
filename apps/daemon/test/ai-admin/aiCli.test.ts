import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli } from '../cliProcess';
import { startTestDaemon, type TestDaemon } from '../harness';
import { sampleApiKey } from '../procedureCatalog';
import { addPerson, type Person } from '../signIn';
import { parseCsv, recordCall, userIdOf } from './aiAdminHelpers';

describe('the warren CLI for the AI gateway', () => {
  let t: TestDaemon;
  let owner: { token: string };
  let member: Person;
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-ai-cli-'));
  /** Keys the CLI was given: it must never print one. */
  const keys: string[] = [];

  /** The built CLI in its own process, signed in through WARREN_URL and WARREN_TOKEN. */
  async function warren(
    args: string[],
    options: { token?: string; stdin?: string } = {},
  ): Promise<CliResult> {
    const result = await runCli(args, {
      env: { WARREN_CONFIG_DIR: configDir, WARREN_URL: t.url, WARREN_TOKEN: options.token ?? owner.token },
      ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
    });
    expect(keys.filter((key) => (result.stdout + result.stderr).includes(key))).toEqual([]);
    return result;
  }
  const newKey = (label: string) => {
    const key = sampleApiKey(label);
    keys.push(key);
    return key;
  };

  beforeAll(async () => {
    t = await startTestDaemon('sqlite');
    owner = await t.setupOwner();
    member = await addPerson(t, owner.token, 'maria');
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  it('an owner adds a provider with a key from stdin and lists it by its last 4 characters', async () => {
    const key = newKey('cli');
    const created = await warren(['ai', 'providers', 'create', 'openai', '--kind', 'openai', '--key-stdin'], {
      stdin: `${key}\n`,
    });
    expect(created, created.stderr).toMatchObject({ code: 0 });
    expect(created.stdout).toBe(
      `Added provider openai (openai, https://api.openai.com/v1) with key ****${key.slice(-4)}.\n`,
    );
    const listed = await warren(['ai', 'providers', 'list']);
    expect(listed.stdout).toMatch(/^NAME\s+KIND\s+BASE URL\s+BYOK\s+ENABLED\s+KEYS\s+MODELS\n/);
    expect(listed.stdout).toContain(`****${key.slice(-4)}`);
    const json = JSON.parse((await warren(['--output', 'json', 'ai', 'providers', 'list'])).stdout);
    expect(json[0].keys[0]).toMatchObject({ priority: 0, last4: key.slice(-4) });

    const second = await warren(['ai', 'providers', 'add-key', 'openai', '--key-stdin'], {
      stdin: newKey('cli-2'),
    });
    expect(second.stdout).toMatch(/^Added key [0-9a-f]+ \(\*{4}.{4}\) to openai, priority 1\.\n$/);
  });

  it('prices typed as decimals round-trip exactly, and a seventh decimal is refused before any request', async () => {
    const set = await warren([
      'ai',
      'models',
      'set',
      'openai',
      'gpt-4.1-mini',
      '--input-price',
      '0.075',
      '--output-price',
      '0.3',
      '--cache-read-price',
      '0.0375',
    ]);
    expect(set, set.stderr).toMatchObject({ code: 0 });
    expect(set.stdout).toBe('Saved openai/gpt-4.1-mini: $0.075 in, $0.3 out per million tokens.\n');
    const models = JSON.parse((await warren(['--output', 'json', 'ai', 'models', 'list'])).stdout);
    expect(models).toMatchObject([{ ref: 'openai/gpt-4.1-mini', inputPrice: 0.075, cacheReadPrice: 0.0375 }]);

    const refused = await warren([
      'ai',
      'models',
      'set',
      'openai',
      'x',
      '--input-price',
      '0.0000001',
      '--output-price',
      '1',
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('Use at most 6 decimal places');
  });

  it('a member stores their own key and sees the models they may use', async () => {
    const key = newKey('maria');
    const saved = await warren(['ai', 'keys', 'set', 'openai', '--key-stdin'], {
      token: member.token,
      stdin: key,
    });
    expect(saved, saved.stderr).toMatchObject({ code: 0 });
    expect(saved.stdout).toBe(`Saved your key for openai (****${key.slice(-4)}).\n`);
    const listed = await warren(['ai', 'keys', 'list'], { token: member.token });
    expect(listed.stdout).toMatch(new RegExp(`openai\\s+openai\\s+allowed\\s+\\*{4}${key.slice(-4)}`));
    const available = await warren(['ai', 'models', 'available'], { token: member.token });
    expect(available.stdout).toMatch(/openai\/gpt-4\.1-mini\s+own\s+\$0\.075/);
    const refused = await warren(['ai', 'providers', 'list'], { token: member.token });
    expect(refused).toMatchObject({ code: 1 });
    expect(refused.stderr).toContain('Your roles do not allow "ai.providers.list"');
  });

  it('an owner sets role lists and limits and reads them back', async () => {
    expect((await warren(['ai', 'policy', 'roles', 'member', 'openai/*'])).stdout).toBe(
      'member: openai/*.\n',
    );
    const limits = await warren([
      'ai',
      'policy',
      'limits',
      '--daily-usd',
      '5',
      '--monthly-usd',
      '50.5',
      '--rpm',
      '60',
    ]);
    expect(limits, limits.stderr).toMatchObject({
      code: 0,
      stdout: 'Limits for everyone (default) saved.\n',
    });
    await warren(['ai', 'policy', 'limits', '--user', 'maria', '--tpm', '1000']);
    const shown = await warren(['ai', 'policy', 'show']);
    expect(shown.stdout).toMatch(/member\s+openai\/\*/);
    expect(shown.stdout).toMatch(/\* \(default\)\s+\$5\s+\$50\.5\s+60\s+-/);
    expect(shown.stdout).toMatch(/maria\s+-\s+-\s+-\s+1000/);
  });

  it('warren usage shows your own calls, everyone’s with --all, totals with --by, and CSV with --csv', async () => {
    const [ownerId, mariaId] = [await userIdOf(t, owner.token), await userIdOf(t, member.token)];
    await recordCall(t, {
      user_id: mariaId,
      time: Date.parse('2031-05-01T10:00:00Z'),
      model: 'gpt-4.1-mini',
      input_tokens: 40,
      cost_pico_usd: 3_000_000,
      ttfb_ms: 90,
    });
    await recordCall(t, {
      user_id: ownerId,
      time: Date.parse('2031-05-01T11:00:00Z'),
      model: 'gpt-4.1',
      input_tokens: 5,
      cost_pico_usd: 1_000_000_000_000,
      error: '=1+1',
    });

    const mine = await warren(['usage'], { token: member.token });
    expect(mine, mine.stderr).toMatchObject({ code: 0 });
    expect(mine.stdout.trim().split('\n')).toHaveLength(2);
    expect(mine.stdout).toMatch(
      /maria\s+openai\/gpt-4\.1-mini\s+200\s+central\s+40\s+0\s+0\s+\$0\.000003\s+90ms/,
    );

    const byUser = await warren(['usage', '--all', '--by', 'user']);
    const lines = byUser.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^USER\s+REQUESTS\s+IN\s+OUT/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['owner', 'maria', 'TOTAL']);
    expect(lines[3]).toMatch(/^TOTAL\s+2\s+45\s.*\$1\.000003\s+90ms$/);

    const exported = await warren(['usage', '--all', '--csv']);
    expect(exported, exported.stderr).toMatchObject({ code: 0 });
    const rows = parseCsv(exported.stdout);
    expect(rows).toHaveLength(3);
    expect(rows.map((r) => r[1])).toEqual(['user', 'owner', 'maria']);
    expect(rows[1]?.[9]).toBe("'=1+1");

    const others = await warren(['usage', '--user', 'owner'], { token: member.token });
    expect(others).toMatchObject({ code: 1 });
    expect(others.stderr).toContain('You can only see your own AI usage');
  });
});
