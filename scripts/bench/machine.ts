/**
 * Facts about the machine and the source tree that every benchmark records with its numbers:
 * CPU, cores, memory, OS, Deno, which sfs commit was measured, and how busy the machine was.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { tryCommand } from "./commands.ts";
import { readProc } from "./proc.ts";
import type { Log } from "./run.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** A 1-minute load average above this is worth a warning: the numbers will be noisy. */
const LOAD_WARNING = 0.5;

/** Where a benchmark ran. */
export interface Machine {
  cpu: string;
  cores: number;
  memoryBytes: number;
  os: string;
  deno: string;
  sfsCommit: string | null;
  sfsSourceModified: boolean | null;
  /** 1-minute load average when the measurements began: other work on the machine skews them. */
  loadAverage: number;
}

/** Describes this machine; `loadAverage` is the one the benchmark reports as its start. */
export async function machineInfo(loadAverage: number): Promise<Machine> {
  const cpuinfo = await readProc("/proc/cpuinfo");
  const cpu = cpuModel(cpuinfo) ??
    (Deno.build.os === "darwin"
      ? await tryCommand(["sysctl", "-n", "machdep.cpu.brand_string"])
      : undefined) ??
    "unknown CPU";
  const deno = (await tryCommand([Deno.execPath(), "--version"]))?.split("\n")[0] ?? "unknown";
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    memoryBytes: Deno.systemMemoryInfo().total,
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno,
    ...await sourceRevision(ROOT),
    loadAverage,
  };
}

/** Returns the 1-minute load average, warning when other work will skew the numbers. */
export function loadBeforeStart(log: Log): number {
  const load = Deno.loadavg()[0];
  if (load > LOAD_WARNING) {
    log(`warning: load average ${load.toFixed(2)}; other work on this machine skews the numbers`);
  }
  return load;
}

/** The CPU model named in /proc/cpuinfo text, if any. */
export function cpuModel(cpuinfo: string): string | undefined {
  return /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1].trim();
}

/** Which sfs was measured: the commit of `root`, and whether main.ts or src/ differ from it. */
export async function sourceRevision(
  root: string,
): Promise<{ sfsCommit: string | null; sfsSourceModified: boolean | null }> {
  const git = async (...args: string[]): Promise<string | undefined> => {
    try {
      const out = await new Deno.Command("git", {
        args: ["-C", root, ...args],
        stdout: "piped",
        stderr: "null",
      }).output();
      return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
    } catch {
      return undefined;
    }
  };
  const commit = await git("rev-parse", "HEAD");
  if (commit === undefined || !/^[0-9a-f]{40}$/.test(commit)) {
    return { sfsCommit: null, sfsSourceModified: null };
  }
  const status = await git("status", "--porcelain", "--", "main.ts", "src");
  return { sfsCommit: commit, sfsSourceModified: status !== "" };
}
