/**
 * Peak memory and CPU time of the sfs processes, from GNU `time -v`: the kernel's exact maximum
 * (from wait4) when the process exits, where polling /proc could miss a short peak.
 *
 * @module
 */

import { aptInstall, tryCommand } from "../commands.ts";
import type { Log } from "../run.ts";

/** What GNU `time -v` says about a finished process (all its threads). */
export interface ProcessUsage {
  /** "Maximum resident set size (kbytes)". */
  peakRssKiB: number;
  /** User plus system CPU time. */
  cpuSeconds: number;
  /** System (kernel) CPU time alone. */
  systemSeconds: number;
  /** Minor page faults: mostly fresh memory touched for the first time. */
  minorPageFaults: number;
}

/** Parses GNU `time -v` output; undefined when a line is missing (e.g. the command was killed). */
export function parseTimeVerbose(timeOutput: string): ProcessUsage | undefined {
  const number = (label: string) => {
    const match = new RegExp(`${label}:\\s*([\\d.]+)`).exec(timeOutput);
    return match ? Number(match[1]) : undefined;
  };
  const peakRssKiB = number("Maximum resident set size \\(kbytes\\)");
  const user = number("User time \\(seconds\\)");
  const system = number("System time \\(seconds\\)");
  const minorPageFaults = number("Minor \\(reclaiming a frame\\) page faults");
  if (
    peakRssKiB === undefined || user === undefined || system === undefined ||
    minorPageFaults === undefined
  ) {
    return undefined;
  }
  return { peakRssKiB, cpuSeconds: user + system, systemSeconds: system, minorPageFaults };
}

/** How peak RSS is measured on this machine, or why it is not. */
export type RssMode = { kind: "gnu-time"; bin: string } | { kind: "none"; reason: string };

/** Finds GNU time, installing it when possible. */
export async function detectRss(log: Log): Promise<RssMode> {
  const isGnuTime = async () =>
    (await tryCommand(["/usr/bin/time", "--version"]))?.includes("GNU") ?? false;
  if (await isGnuTime()) return { kind: "gnu-time", bin: "/usr/bin/time" };
  const failure = await aptInstall(["time"], log);
  if (failure === undefined && await isGnuTime()) return { kind: "gnu-time", bin: "/usr/bin/time" };
  return { kind: "none", reason: `no GNU /usr/bin/time and ${failure ?? "installing it failed"}` };
}
