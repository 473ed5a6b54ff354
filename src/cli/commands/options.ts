/** Option declarations and parsers that several commands share. */
import type { OptionSpec } from "../args.ts";
import { SfsError } from "../../errors.ts";
import { SIGNATURE_POLICIES } from "../../crypto/sign.ts";

/** The values of {@link withIndexFlags}'s options. */
export interface IndexFlagValues {
  server?: string;
  serverFingerprint?: string;
  yes?: boolean;
}

/** The options every command that talks to the index shares. */
export const INDEX_OPTIONS: readonly OptionSpec[] = [
  {
    long: "server",
    value: "<host:port>",
    describe: "index server (default: $SFS_SERVER or the saved one)",
  },
  {
    long: "server-fingerprint",
    value: "<fp>",
    describe: "fingerprint a new index server must present",
  },
  {
    long: "yes",
    short: "y",
    describe: "trust a first contact (server or user key) without asking",
  },
];

/** Just the index flags out of a command's flags. */
export function indexFlags(flags: IndexFlagValues): IndexFlagValues {
  return { server: flags.server, serverFingerprint: flags.serverFingerprint, yes: flags.yes };
}

/** A `--sign` or `--require` option: which signature algorithms, "both" by default. */
export function signatureOption(long: string, describe: string): OptionSpec {
  return { long, value: "<algorithms>", describe, choices: SIGNATURE_POLICIES, default: "both" };
}

/**
 * The CLI's one parser of whole-number options: decimal digits only (no sign, exponent or
 * fraction), from 1 to `max`; USAGE naming the option otherwise.
 */
export function parseCount(text: string, option: string, max: number): number {
  const value = /^[0-9]{1,9}$/.test(text.trim()) ? Number(text) : NaN;
  if (!(value >= 1 && value <= max)) {
    throw new SfsError("USAGE", `${option} must be a whole number from 1 to ${max}, got "${text}"`);
  }
  return value;
}

const DURATION_UNITS_MS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses a duration option such as `3d`, `12h`, `90m` or `30s` into milliseconds, from 1 s to
 * `maxDays`; USAGE naming the option otherwise.
 */
export function parseDuration(text: string, option: string, maxDays: number): number {
  const match = /^([0-9]{1,9})([smhd])$/.exec(text.trim());
  const ms = match ? Number(match[1]) * DURATION_UNITS_MS[match[2]] : NaN;
  if (!(ms >= 1_000 && ms <= maxDays * DURATION_UNITS_MS.d)) {
    throw new SfsError(
      "USAGE",
      `${option} must be a duration such as 3d, 12h, 90m or 30s (at most ${maxDays}d), got "${text}"`,
    );
  }
  return ms;
}
