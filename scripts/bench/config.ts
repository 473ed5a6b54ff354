/**
 * The one command-line parser of the benchmarks: each benchmark declares its options, this module
 * rejects unknown ones and stray arguments, answers `--help`, and checks numbers and sizes the
 * same way everywhere. A {@link UsageError} makes the entry point print the usage text.
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

/** A bad command line; an empty message means `--help` was asked for (exit status 0). */
export class UsageError extends Error {}

const HELP = { help: { type: "boolean", short: "h", default: false } } as const;

/** The values {@link parseOptions} returns for `options`, typed by their declarations. */
export type OptionValues<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: true }>
>["values"];

/** Parses `args` against `options` (plus `--help`); throws {@link UsageError} on anything else. */
export function parseOptions<const O extends ParseArgsOptionsConfig>(
  args: string[],
  options: O,
): OptionValues<O> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...options, ...HELP },
    strict: true,
    allowPositionals: true,
  });
  if ((values as { help?: boolean }).help) throw new UsageError("");
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"`);
  return values as OptionValues<O>;
}

/** Bounds of a numeric option, named as on the command line (`clients` for `--clients`). */
export interface NumberRange {
  name: string;
  min: number;
  /** @default {undefined} no upper bound */
  max?: number;
}

/** A number option: `fallback` when absent, else a finite number within `range`. */
export function numberOption(
  text: string | undefined,
  fallback: number,
  range: NumberRange,
): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  const { min, max = Infinity } = range;
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(rangeMessage(text, range));
  return n;
}

/** A whole-number option: like {@link numberOption}, and the number must be an integer. */
export function wholeOption(
  text: string | undefined,
  fallback: number,
  range: NumberRange,
): number {
  if (text === undefined) return fallback;
  if (range.max === undefined) {
    // Unbounded options say "a whole number ≥ min" in one message.
    const n = Number(text);
    if (!Number.isInteger(n) || n < range.min) throw new UsageError(rangeMessage(text, range));
    return n;
  }
  const n = numberOption(text, fallback, range);
  if (!Number.isInteger(n)) throw new UsageError(`--${range.name} must be a whole number`);
  return n;
}

function rangeMessage(text: string, { name, min, max }: NumberRange): string {
  return max === undefined
    ? `--${name} must be a whole number ≥ ${min}, not "${text}"`
    : `--${name} must be a number from ${min} to ${max}, not "${text}"`;
}

const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
};

/**
 * Parses a size such as `1GiB`, `64MiB`, `1.5GB` or `1024` (bytes) into a whole number of bytes.
 * Binary units (KiB, MiB, GiB, or K, M, G) are powers of 1024; KB, MB, GB are powers of 1000.
 */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? UNITS[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new Error(`Cannot parse size "${text}": use e.g. 1GiB, 64MiB, 500MB or 1024`);
  }
  const bytes = Math.round(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new Error(`Size "${text}" is out of range`);
  }
  return bytes;
}
