/**
 * A load worker of the index benchmark: the Web Worker entry point that drives one
 * {@link LoadGroup} on the bench's orders, so the clients' crypto runs on more than one thread.
 *
 * @module
 */

import { type GroupInit, LoadGroup, type PhasePlan, type PhaseResult } from "./load_group.ts";

/** Messages the bench sends a load worker. */
export type ToWorker =
  | { type: "init"; init: GroupInit }
  | { type: "phase"; plan: PhasePlan }
  | { type: "close" };

/** Messages a load worker sends back. */
export type FromWorker =
  | { type: "ready"; connect: number[] }
  | { type: "phase"; result: PhaseResult }
  | { type: "error"; message: string };

/** Serves {@link ToWorker} messages with one {@link LoadGroup}; the worker entry point. */
function serveWorker(scope: {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
  close(): void;
}): void {
  let group: LoadGroup | undefined;
  // Messages are handled one after another: a phase never starts before init finished.
  let queue = Promise.resolve();
  scope.onmessage = (event) => {
    const message = event.data;
    queue = queue.then(async () => {
      try {
        if (message.type === "init") {
          const connected = await LoadGroup.connect(message.init);
          group = connected.group;
          scope.postMessage({ type: "ready", connect: connected.connect });
        } else if (message.type === "phase") {
          if (group === undefined) throw new Error("Phase before init");
          scope.postMessage({ type: "phase", result: await group.run(message.plan) });
        } else {
          group?.close();
          scope.close();
        }
      } catch (err) {
        scope.postMessage({
          type: "error",
          message: err instanceof Error ? err.message : String(err),
        });
      }
    });
  };
}

// Deno's workers have WorkerGlobalScope; the main thread does not.
if ("WorkerGlobalScope" in globalThis) {
  serveWorker(globalThis as unknown as Parameters<typeof serveWorker>[0]);
}
