/** Live transfer target: a real sender and receiver with one direction mutated in transit. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { DEFAULT_IDLE_TIMEOUT_MS } from "../../src/wire/frame.ts";
import { frameMutationArb } from "./frame_tap.ts";
import { check, type FuzzTarget } from "./run.ts";
import {
  checkOutput,
  failureCode,
  type Recording,
  runSession,
  type SessionCase,
  type SessionSetup,
} from "./session.ts";

/**
 * A live sender and a live receiver with one direction mutated in transit: the side that reads
 * the mutated stream (the victim) fails with a typed error unless only extra bytes were added
 * after everything it reads; the receiver never leaves a final file unless it got every byte
 * right, and never a part file with unverified bytes.
 */
export function sessionMutationTarget(): FuzzTarget {
  return {
    name: "live transfer with one direction mutated",
    ciRuns: 160,
    run: async (p, context) => {
      const { setup, recording } = await context.session();
      await check(
        fc.asyncProperty(sessionCaseArb(recording), async (edit) => {
          p.stats.add(await checkSessionCase(setup, recording, edit));
        }),
        p,
        { shrink: false },
      );
    },
  };
}

function sessionCaseArb(recording: Recording): fc.Arbitrary<SessionCase> {
  const direction = (name: "toReceiver" | "toSender") =>
    fc.record({
      direction: fc.constant(name),
      mutation: frameMutationArb(recording[name].length, recording[name].map((f) => f.burst)),
      coalesce: fc.boolean(),
    });
  return fc.oneof({ weight: 3, arbitrary: direction("toReceiver") }, direction("toSender"));
}

/**
 * Runs one mutated session and checks how it ended (see {@link sessionMutationTarget});
 * returns a label of the outcome.
 */
export async function checkSessionCase(
  setup: SessionSetup,
  recording: Recording,
  edit: SessionCase,
): Promise<string> {
  const result = await runSession(setup, { edit, recording });
  const tap = edit.direction === "toReceiver" ? result.taps.ab : result.taps.ba;
  const senderCode = failureCode(result.sender);
  const receiverCode = failureCode(result.receiver);
  const victimCode = edit.direction === "toReceiver" ? receiverCode : senderCode;
  const published = result.receiver.status === "fulfilled";
  try {
    if (!tap.onlyAppended) {
      assert.ok(victimCode, `the ${edit.direction} side accepted an altered stream`);
    }
    // The sender succeeds only on the receipt of a published file.
    if (result.sender.status === "fulfilled") assert.ok(published, "receipt without a file");
    const kept = await checkOutput(setup, result.outDir, published);
    if (kept === 0) return `${edit.direction} ${edit.mutation.op}: ${victimCode ?? "ok"}`;
    // A kept part file is a promise: the same download, run again, resumes to the exact file.
    // Nothing is altered this time, so the sides get the normal idle deadline: with the short
    // one, a process starved of CPU for 0.25 s (a loaded machine; reproduced by SIGSTOP) failed
    // a clean resume with TIMEOUT or a closed handshake. SESSION_BOUND_MS still catches a hang.
    const again = await runSession(setup, {
      outDir: result.outDir,
      idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
    });
    if (again.receiver.status === "rejected") {
      assert.fail(
        `resuming a kept part file failed: ${String(again.receiver.reason)}` +
          (again.sender.status === "rejected" ? `; sender: ${String(again.sender.reason)}` : ""),
      );
    }
    // A part holding every byte resumes at its last chunk, so the sender signs this session (§7.5).
    const size = setup.content.length;
    const expected = kept < size
      ? kept
      : Math.floor((size - 1) / setup.chunkSize) * setup.chunkSize;
    assert.equal(again.receiver.value.resumedFrom, expected, "resumed from another byte");
    await checkOutput(setup, result.outDir, true);
    return `${edit.direction} ${edit.mutation.op}: ${victimCode}, resumed`;
  } finally {
    await Deno.remove(result.outDir, { recursive: true }).catch(() => {});
  }
}
