/** Replaced by the bundler with the package version; source runs (tests) say dev. */
declare const WARREN_AGENT_VERSION: string | undefined;

export const AGENT_VERSION = typeof WARREN_AGENT_VERSION === 'string' ? WARREN_AGENT_VERSION : '0.0.0-dev';
