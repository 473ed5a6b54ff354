/** Running a fuzz target: its parameters, its outcome counts and the fast-check call. */
import fc from "fast-check";
import type { FuzzContext } from "./context.ts";

/** Counts outcomes per label, so a run can show what its inputs actually reached. */
export class Stats {
  readonly counts: Map<string, number> = new Map();

  /** Counts one case under `label`. */
  add(label: string): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
  }

  /** The labels and counts, most frequent first, e.g. `ok 120, BAD_MESSAGE 880`. */
  summary(): string {
    return [...this.counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ");
  }
}

/** How one target is run. */
export interface RunParameters {
  /** fast-check seed (a 32-bit integer); the same seed and runs give the same cases. */
  seed: number;
  /** Number of cases. */
  numRuns: number;
  /** fast-check replay path of a failure, to rerun just that case. */
  path?: string;
  /** Outcome counters. */
  stats: Stats;
}

/**
 * One fuzz target: a named property and how many of the CI run's cases it gets.
 *
 * The property is the same everywhere: an input either decodes to a value that encodes back to
 * exactly the same bytes, or fails with an SfsError whose code is in the ErrorCode table. Any
 * other exception, a case that does not settle in time, or a read into a buffer larger than the
 * limit allows is a failure, reported by fast-check with its seed and path.
 */
export interface FuzzTarget {
  readonly name: string;
  /** Cases in the CI-sized run; the long run scales every target alike. */
  readonly ciRuns: number;
  /** Every case should succeed (a round trip), so a single outcome is expected. */
  readonly alwaysOk?: boolean;
  /** Runs the property; throws fast-check's report (with seed and path) on a failure. */
  run(parameters: RunParameters, context: FuzzContext): Promise<void>;
}

/** Default seed of the CI run: fixed, so a red CI run reproduces exactly. */
export const DEFAULT_SEED = 0x5f5_2025;

/** Runs a property under fast-check with the given seed and run count. */
export async function check<Ts>(
  property: fc.IAsyncProperty<Ts> | fc.IProperty<Ts>,
  { seed, numRuns, path }: RunParameters,
  options: { shrink?: boolean } = {},
): Promise<void> {
  await fc.assert(property, {
    seed,
    numRuns,
    path,
    // Shrinking re-runs a failing case many times; the session cases are too slow for that and
    // their mutations are already small.
    endOnFailure: options.shrink === false,
  });
}

/** Runs for `target` when the whole run has `totalRuns` cases (the CI run's shares, scaled). */
export function runsFor(
  target: FuzzTarget,
  targets: readonly FuzzTarget[],
  totalRuns: number,
): number {
  const ciTotal = targets.reduce((sum, t) => sum + t.ciRuns, 0);
  return Math.max(1, Math.round(target.ciRuns * totalRuns / ciTotal));
}
