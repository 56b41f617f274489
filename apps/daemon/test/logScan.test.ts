import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ARTIFACTS_DIR } from './harness';

/**
 * Runs after the main suite (vitest.logscan.config.ts): every password and token the tests
 * created was remembered in secrets.txt; none may appear in any log line the daemons wrote.
 */
it('no log line written during the test run contains a password or token the tests created', () => {
  const secretsFile = path.join(ARTIFACTS_DIR, 'secrets.txt');
  const logsDir = path.join(ARTIFACTS_DIR, 'logs');
  expect(fs.existsSync(secretsFile), `${secretsFile} is missing: run the main suite first`).toBe(true);
  const secrets = [...new Set(fs.readFileSync(secretsFile, 'utf8').split('\n'))].filter(
    (s) => s.trim() !== '',
  );
  // Fewer than this means the suite remembered almost nothing, and a clean scan would prove nothing.
  expect(secrets.length).toBeGreaterThanOrEqual(10);

  const leaks: string[] = [];
  let lineCount = 0;
  const files = fs.existsSync(logsDir) ? fs.readdirSync(logsDir) : [];
  for (const file of files) {
    const text = fs.readFileSync(path.join(logsDir, file), 'utf8');
    const lines = text.split('\n');
    lineCount += lines.length;
    // Search the whole file first; only a hit needs the line-by-line pass.
    for (const secret of secrets.filter((s) => text.includes(s))) {
      const index = lines.findIndex((line) => line.includes(secret));
      leaks.push(`${file}:${index + 1} contains "${secret.slice(0, 6)}…": ${lines[index]?.slice(0, 300)}`);
    }
  }

  console.log(
    `log scan: ${lineCount} lines in ${files.length} files checked against ${secrets.length} secrets`,
  );
  expect(lineCount).toBeGreaterThan(0);
  expect(leaks).toEqual([]);
});
