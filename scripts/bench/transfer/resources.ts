/**
 * Child processes and temp folders of one transfer benchmark run, released even when the run
 * fails or is interrupted; wrapped processes (sfs under GNU time) are killed with their children.
 *
 * @module
 */

import { killDescendants } from "../proc.ts";
import { type SfsOptions, type SfsProcess, startProcess } from "../../lib/sfs_process.ts";

/** Child processes and temp folders of this run, released even when the run fails. */
export class Resources {
  readonly #procs = new Set<SfsProcess>();
  readonly #dirs: string[] = [];

  /** Starts a command whose `await using` disposal also kills its descendants. */
  spawn(command: readonly string[], options: SfsOptions = {}): SfsProcess {
    const proc = startProcess(command, options);
    this.#procs.add(proc);
    proc.status.then(() => this.#procs.delete(proc));
    return {
      ...proc,
      async [Symbol.asyncDispose]() {
        // A wrapper such as /usr/bin/time does not pass SIGKILL on to the sfs it runs.
        await killDescendants(proc.pid);
        await proc[Symbol.asyncDispose]();
      },
    };
  }

  /** Creates a temp folder that {@link release} removes. */
  async tempDir(prefix: string): Promise<string> {
    const path = await Deno.makeTempDir({ prefix });
    this.#dirs.push(path);
    return path;
  }

  /** Kills every child still running and removes the temp folders. */
  async release(): Promise<void> {
    for (const proc of this.#procs) {
      await killDescendants(proc.pid);
      proc.kill("SIGKILL");
    }
    await Promise.allSettled([...this.#procs].map((p) => p.status));
    this.#procs.clear();
    for (const dir of this.#dirs.splice(0)) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
}
