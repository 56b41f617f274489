import { defineConfig } from 'vitest/config';

/** Runs after the main suite: scans every log line it produced for the secrets it created. */
export default defineConfig({
  test: { include: ['test/logScan.test.ts'] },
});
