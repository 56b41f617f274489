import { STREAMING_GLIBC_TUNABLES, STREAMING_MALLOC_MARKER } from '@warren/core/node';

/** Where the init script puts the agent inside the container. */
export const AGENT_PATH = '/tmp/warren-agent.mjs';
/** The script's first line of output: sh runs and node exists. */
export const INIT_STARTED_LINE = 'warren: downloading the agent';

/*
 * The downloader runs as `node -e` inside the workspace, so images need node but no curl or
 * wget. It retries until the daemon answers: the container may start before the daemon is
 * reachable (a daemon restart, a slow network). It must not contain a single quote, because the
 * shell script wraps it in single quotes.
 */
const downloader = `
const fs = require("node:fs");
const url = process.env.WARREN_AGENT_BINARY_URL;
const dest = ${JSON.stringify(AGENT_PATH)};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
(async () => {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(60000) });
      if (!res.ok) throw new Error("HTTP " + res.status);
      fs.writeFileSync(dest + ".part", Buffer.from(await res.arrayBuffer()));
      fs.renameSync(dest + ".part", dest);
      return;
    } catch (error) {
      const reason = (error.cause && error.cause.code) || error.message;
      if (attempt === 1 || attempt % 30 === 0) console.error("warren: the agent download failed (" + reason + "); retrying every 2 seconds");
      await sleep(2000);
    }
  }
})();
`.trim();

/**
 * The container's `sh -c` entrypoint, as Coder's templates do it: download the agent bundle from
 * the daemon's /bin/ and exec it. Everything it needs comes from the environment
 * (WARREN_AGENT_BINARY_URL, and WARREN_AGENT_TOKEN for the agent), so no secret is ever part of
 * the container's command line, which `docker inspect` and `ps` show to anyone.
 */
export function agentInitScript(): string {
  if (downloader.includes("'")) throw new Error('The agent downloader may not contain a single quote.');
  return [
    'set -e',
    'if ! command -v node >/dev/null 2>&1; then',
    '  echo "warren: this image has no node on its PATH; the Warren agent needs Node.js 20 or later in the image." >&2',
    '  exit 127',
    'fi',
    `echo "${INIT_STARTED_LINE} from $WARREN_AGENT_BINARY_URL"`,
    `node -e '${downloader}'`,
    'echo "warren: starting the agent"',
    // Only the agent's own malloc: it drops both variables before it starts anything else.
    `if [ -z "\${GLIBC_TUNABLES+set}" ]; then export GLIBC_TUNABLES='${STREAMING_GLIBC_TUNABLES}' ${STREAMING_MALLOC_MARKER}=1; fi`,
    `exec node ${AGENT_PATH}`,
  ].join('\n');
}
