// Command-line options for the benchmarks: `--flag value` or `--flag=value`; a lone `--` (pnpm
// passes it through in `pnpm bench:x -- --flag`) is ignored; -h/--help prints the usage and exits 0;
// anything else unknown or out of range is a UsageError (runBench prints it with the usage, exit 2).

/** A bad command line. */
export class UsageError extends Error {}

/** Parses argv into a copy of `defaults`; `flags` maps each flag to a handler made by integer, matching or toggle. */
export function parseArgs(argv, { usage, defaults, flags }) {
  const options = { ...defaults };
  const args = argv.filter((a) => a !== '--');
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] =
      args[i].startsWith('--') && args[i].includes('=') ? args[i].split(/=(.*)/s) : [args[i]];
    const value = () => (inline !== undefined ? inline : args[++i]);
    if (flag === '-h' || flag === '--help') {
      process.stdout.write(usage);
      process.exit(0);
    }
    if (!Object.hasOwn(flags, flag)) throw new UsageError(`Unknown option ${args[i]}.`);
    flags[flag](options, value, flag);
  }
  return options;
}

/** A flag that takes an integer from `min` (up to `max`, when given) into options[key]. */
export const integer =
  (key, { min, max = Number.POSITIVE_INFINITY }) =>
  (options, value, flag) => {
    const text = value();
    const n = Number(text);
    if (text === undefined || !Number.isInteger(n) || n < min || n > max) {
      throw new UsageError(
        `${flag} needs an integer ${Number.isFinite(max) ? `from ${min} to ${max}` : `>= ${min}`}, got ${text ?? 'nothing'}.`,
      );
    }
    options[key] = n;
  };

/** A flag that takes a string matching `pattern` into options[key]; a UsageError with `message` otherwise. */
export const matching = (key, pattern, message) => (options, value) => {
  const text = value();
  if (!pattern.test(text ?? '')) throw new UsageError(message);
  options[key] = text;
};

/** A flag without a value that sets options[key] to `to`. */
export const toggle = (key, to) => (options) => {
  options[key] = to;
};
