/**
 * The integration-test harness: runs the real sfs CLI as a child process and cleans up after
 * itself (`await using`), plus helpers for temp dirs and test files.
 *
 * The process and file helpers live in scripts/lib/ because the benchmarks and the demo use them
 * too, and `scripts/` must not import `tests/`; this module re-exports them so tests import one
 * harness.
 *
 * @module
 */

export { randomFile, sha256File } from "../scripts/lib/files.ts";
export {
  runSfs,
  SFS_CMD,
  type SfsEvent,
  type SfsOptions,
  type SfsProcess,
  type SfsResult,
  startProcess,
  startSfs,
} from "../scripts/lib/sfs_process.ts";

/** A temporary directory that is removed, with everything in it, on `await using` dispose. */
export interface TempDir extends AsyncDisposable {
  /** Absolute path of the directory. */
  readonly path: string;
}

/** Creates a temporary directory removed recursively when disposed. */
export async function tempDir(): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix: "sfs-test-" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch((err) => {
        // A test may have removed it already; anything else is a real leak worth failing on.
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      });
    },
  };
}
