/** What `sfs get` tells the user after a failure that kept a verified part for a resume. */
import { codeInfo, SfsError } from "../errors.ts";

/**
 * Adds `Run the same command again to resume (N of M bytes kept)` to a failure that kept a
 * verified part (a lost connection, a timeout, a full disk), unless it already has a hint.
 * `kept` is how much of the file the part holds; 0 means nothing was kept.
 */
export function withResumeHint(err: unknown, kept: { bytes: number; total: number }): unknown {
  if (!(err instanceof SfsError) || err.hint !== undefined || err.remedy !== undefined) return err;
  if (!codeInfo(err.code).resumable || kept.bytes <= 0) return err;
  return new SfsError(err.code, err.message, {
    cause: err,
    hint: `Run the same command again to resume (${kept.bytes} of ${kept.total} bytes kept)`,
  });
}
