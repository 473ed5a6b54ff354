/**
 * What every benchmark entry point does around its measurements: progress lines on stderr with
 * the benchmark's name, usage errors, clean-up that also runs on Ctrl-C, and the results file.
 *
 * @module
 */

import { dirname } from "node:path";
import { UsageError } from "./config.ts";

/** Writes one progress line to stderr. */
export type Log = (message: string) => void;

/** Returns a {@link Log} that prefixes every line with `name:` (e.g. `bench:index: …`). */
export function makeLog(name: string): Log {
  return (message) => console.error(`${name}: ${message}`);
}

/** Clean-up steps, run last-registered first; each may fail without stopping the rest. */
export type Cleanup = (() => Promise<void> | void)[];

/** How {@link runBenchmark} reports and parses. */
export interface BenchmarkEntry<C> {
  /** Prefix of every stderr line, e.g. `bench`. */
  name: string;
  /** Printed after a usage error or for `--help`. */
  usage: string;
  /** The benchmark's command-line parser (throws {@link UsageError}). */
  parse(args: string[]): C;
  /** Runs the benchmark; returns the exit status. */
  run(config: C, cleanup: Cleanup): Promise<number>;
  /**
   * Print a failure's stack trace rather than its message alone.
   * @default {false}
   */
  stackTraces?: boolean;
}

/**
 * Parses `args`, runs the benchmark and always cleans up: on success, on an error and on Ctrl-C
 * (a run must not leave servers, sshd or gigabytes of temp files behind). Returns the exit status:
 * 0 for `--help`, 2 for a usage error, 1 for a failure, else what the benchmark returned.
 */
export async function runBenchmark<C>(entry: BenchmarkEntry<C>, args: string[]): Promise<number> {
  let config: C;
  try {
    config = entry.parse(args);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (message) console.error(`${entry.name}: error: ${message}`);
    console.error(entry.usage);
    return err instanceof UsageError && message === "" ? 0 : 2;
  }
  const cleanup: Cleanup = [];
  const release = async () => {
    for (const step of cleanup.splice(0).reverse()) {
      try {
        await step();
      } catch {
        // Best effort: the rest must still run.
      }
    }
  };
  const onSignal = () => {
    makeLog(entry.name)("interrupted; cleaning up");
    release().finally(() => Deno.exit(130));
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  try {
    return await entry.run(config, cleanup);
  } catch (err) {
    const detail = err instanceof Error
      ? (entry.stackTraces ? err.stack ?? err.message : err.message)
      : String(err);
    console.error(`${entry.name}: error: ${detail}`);
    return 1;
  } finally {
    await release();
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  }
}

/** Writes `results` as indented JSON to `path`, creating its folder, and logs where. */
export async function writeResults(path: string, results: unknown, log: Log): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeTextFile(path, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${path}`);
}
