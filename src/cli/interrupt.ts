/**
 * Ctrl-C and SIGTERM for the long-running commands: the first asks the command to stop cleanly
 * (`get` keeps what it verified, `send` stops accepting and lets transfers in flight end), a
 * second one exits at once with status 130.
 *
 * @module
 */
import { ExitCode } from "./output.ts";

/** How long `send` lets transfers in flight run after Ctrl-C before it exits anyway. */
export const SEND_GRACE_MS = 5000;

/** The first stop request, as an AbortSignal; disposing removes the signal listeners. */
export interface StopRequest extends Disposable {
  /** Aborted by the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
}

/**
 * Turns the first SIGINT or SIGTERM into an abort of the returned signal; a second one exits
 * at once with 130 (whatever was last recorded still holds: a download's checkpoint, the
 * index's view that the files are offline).
 */
export function onStopSignal(): StopRequest {
  const controller = new AbortController();
  // Windows delivers only SIGINT (and SIGBREAK) to Deno.
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const handler = () => {
    if (controller.signal.aborted) Deno.exit(ExitCode.INTERRUPTED);
    controller.abort();
  };
  for (const signal of signals) Deno.addSignalListener(signal, handler);
  return {
    signal: controller.signal,
    [Symbol.dispose]() {
      for (const signal of signals) Deno.removeSignalListener(signal, handler);
    },
  };
}

/** Resolves `ms` after `signal` is aborted (never, if it is not); the timer holds nothing up. */
export function graceAfter(signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const start = () => {
      const timer = setTimeout(resolve, ms);
      Deno.unrefTimer(timer);
    };
    if (signal.aborted) start();
    else signal.addEventListener("abort", start, { once: true });
  });
}
