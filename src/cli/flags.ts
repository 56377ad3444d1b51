import { UserError } from '../util/user-error.ts';

/**
 * An integer command-line flag, read from its text (yargs would turn "abc" into NaN and the
 * error would then blame a config key): undefined when absent, else an integer in [min, max]
 * or a UserError naming the flag.
 */
export function integerFlag(flag: string, raw: string | number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (raw === undefined) return undefined;
  const text = String(raw).trim();
  const shown = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  if (!/^-?\d+$/.test(text)) throw new UserError(`${flag}: expected an integer >= ${min}, found "${shown}"`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UserError(`${flag}: expected an integer from ${min} to ${max}, found ${shown}`);
  return n;
}
