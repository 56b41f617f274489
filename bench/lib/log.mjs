// Progress and diagnostics for the benchmarks go to stderr, so stdout carries only the results.

/** Writes one line to stderr. */
export const log = (message) => process.stderr.write(`${message}\n`);
