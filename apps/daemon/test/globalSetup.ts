import fs from 'node:fs';
import { ARTIFACTS_DIR } from './harness';

/** Each run starts with no logs or remembered secrets from an earlier one. */
export default function setup(): void {
  fs.rmSync(ARTIFACTS_DIR, { recursive: true, force: true });
  fs.mkdirSync(`${ARTIFACTS_DIR}/logs`, { recursive: true });
}
