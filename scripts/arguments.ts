/** Command-line arguments of the npm commands in scripts/: what they share. */

/** A mistake in the command line: the command prints its usage and exits 2. */
export class UsageError extends Error {}

/**
 * Takes `--flag value` out of `rest` (which it changes) and returns the value, or undefined when
 * the flag is absent. A flag without a value, or followed by another flag, is a UsageError.
 */
export function takeFlag(rest: string[], flag: string): string | undefined {
  const at = rest.indexOf(flag);
  if (at === -1) return undefined;
  const value = rest[at + 1];
  if (value === undefined || value.startsWith("--")) throw new UsageError(`${flag} needs a value`);
  rest.splice(at, 2);
  return value;
}
