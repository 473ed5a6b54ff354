/**
 * Ctrl-C on `sfs send`: stop accepting, let the transfers in flight finish or fail within a few
 * seconds, take `--once` shares off the index, and exit 0 (a second Ctrl-C exits 130 at once).
 */
import type { Shared } from "../../peer/sender.ts";
import { graceAfter, SEND_GRACE_MS } from "../interrupt.ts";
import type { Output } from "../output.ts";
import type { Announced } from "./send_announce.ts";

/** What a stop acts on. */
export interface Serving {
  readonly files: readonly Shared[];
  readonly announced?: Announced;
  readonly once: boolean;
}

/**
 * Waits for `served` (the serve loop) to end on its own, or after a stop request for it to end
 * within the grace period (the serve loop stops accepting on the same request).
 */
export async function serveUntilStopped(
  served: Promise<void>,
  stop: AbortSignal,
  serving: Serving,
  out: Output,
  options: { graceMs?: number } = {},
): Promise<void> {
  const graceMs = options.graceMs ?? SEND_GRACE_MS;
  const onStop = () => {
    // serveFiles stops accepting on the same signal, then waits for the transfers running.
    out.event("stopping", { grace_ms: graceMs });
    out.note(
      `Stopping: no new receivers; transfers in flight get ${graceMs / 1000} s to finish ` +
        "(Ctrl-C again stops at once)",
    );
  };
  if (stop.aborted) onStop();
  else stop.addEventListener("abort", onStop, { once: true });
  const ended = await Promise.race([
    served.then(() => true),
    graceAfter(stop, graceMs).then(() => false),
  ]);
  stop.removeEventListener("abort", onStop);
  if (!stop.aborted) return;
  if (!ended) {
    out.warn("Stopped with transfers still running", {
      hint: "Their receivers keep what they verified and resume when you share again",
    });
  }
  if (serving.once && serving.announced !== undefined) {
    // A --once share that never went out is withdrawn, not left listed as offline.
    await serving.announced.session.unshare(serving.files.map((f) => f.id)).catch((err) => {
      out.warn(`Could not withdraw the files from ${serving.announced!.target.server}`, {
        hint: err instanceof Error ? err.message : String(err),
      });
    });
  }
}
