/** Replay targets: a recorded side, mutated or not, played back to a fresh live peer. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Bytes, concat } from "../../src/crypto/bytes.ts";
import { fetchFile } from "../../src/peer/receiver.ts";
import { serveTransfer } from "../../src/peer/sender.ts";
import { FRAME_HEADER_BYTES, FrameKind } from "../../src/wire/frame.ts";
import { bounded, equalBytes, startsWith } from "./checks.ts";
import { frameMutationArb, mutateRecording } from "./frame_tap.ts";
import { MemoryTransport } from "../transport.ts";
import { check, type FuzzTarget } from "./run.ts";
import { caseDir, checkOutput, failureCode, SESSION_BOUND_MS, SESSION_IDLE_MS } from "./session.ts";

/**
 * A transport that plays back fixed bytes (all at once, then the end of the stream) and keeps
 * what the live side writes.
 */
function replaying(bytes: Uint8Array): MemoryTransport {
  const transport = new MemoryTransport();
  transport.feed(bytes);
  transport.end();
  return transport;
}

/**
 * The recorded sender stream, mutated or not, replayed to a new live receiver: the sender's
 * flight 2 is sealed under handshake keys from the old ephemeral secret, so the receiver always
 * refuses (DECRYPT_FAILED when the flight is intact, §6.7) and never keeps a file.
 */
export function replayToReceiverTarget(): FuzzTarget {
  return {
    name: "recorded sender replayed to a live receiver",
    ciRuns: 60,
    run: async (p, context) => {
      const { setup, recording } = await context.session();
      const frames = recording.toReceiver.map((f) => f.bytes);
      const caseArb = fc.option(
        frameMutationArb(frames.length, recording.toReceiver.map((f) => f.burst)),
        {
          freq: 8,
        },
      );
      await check(
        fc.asyncProperty(caseArb, async (mutation) => {
          const bytes = mutateRecording(frames, mutation ?? undefined, frames);
          const transport = replaying(bytes);
          const outDir = caseDir(setup);
          const [result] = await bounded(
            Promise.allSettled([
              fetchFile(transport, setup.receiver, {
                fileId: setup.file.id,
                expectedFingerprint: setup.sender.public.fingerprint,
                outDir,
                idleTimeoutMs: SESSION_IDLE_MS,
              }),
            ]),
            SESSION_BOUND_MS,
            "A replayed transfer",
          );
          try {
            const code = failureCode(result);
            assert.ok(code, "a replayed sender was accepted");
            // Flight 2 is HELLO_REPLY and RESPONDER_AUTH: intact when both frames are.
            if (startsWith(bytes, concat(frames[0], frames[1]))) {
              assert.equal(code, "DECRYPT_FAILED", "an intact replayed flight 2 must not open");
            }
            await checkOutput(setup, outDir, false);
            p.stats.add(code);
          } finally {
            await Deno.remove(outDir, { recursive: true }).catch(() => {});
          }
        }),
        p,
        { shrink: false },
      );
    },
  };
}

/**
 * The recorded receiver stream, mutated or not, replayed to a new live sender: the sender's
 * keys are fresh, so the replayed flight 3 cannot open (DECRYPT_FAILED when intact), and the
 * sender releases nothing: no manifest, no chunk, at most one sealed ERROR record.
 */
export function replayToSenderTarget(): FuzzTarget {
  return {
    name: "recorded receiver replayed to a live sender",
    ciRuns: 60,
    run: async (p, context) => {
      const { setup, recording } = await context.session();
      const frames = recording.toSender.map((f) => f.bytes);
      const caseArb = fc.option(
        frameMutationArb(frames.length, recording.toSender.map((f) => f.burst)),
        {
          freq: 8,
        },
      );
      await check(
        fc.asyncProperty(caseArb, async (mutation) => {
          const bytes = mutateRecording(frames, mutation ?? undefined, frames);
          const transport = replaying(bytes);
          const [result] = await bounded(
            Promise.allSettled([
              serveTransfer(transport, setup.sender, {
                lookup: (id) => equalBytes(id, setup.file.id) ? setup.file : undefined,
                chunkSize: setup.chunkSize,
                idleTimeoutMs: SESSION_IDLE_MS,
              }),
            ]),
            SESSION_BOUND_MS,
            "A replayed transfer",
          );
          const code = failureCode(result);
          assert.ok(code, "a replayed receiver was served");
          if (startsWith(bytes, concat(frames[0], frames[1]))) {
            assert.equal(code, "DECRYPT_FAILED", "an intact replayed request must not open");
          }
          const kinds = splitFrames(concat(...transport.written)).map((f) => f[4]);
          assert.ok(!kinds.includes(FrameKind.CHUNK), "the sender sent payload to a replayer");
          assert.ok(
            kinds.filter((k) => k === FrameKind.SEALED).length <= 1,
            "the sender sent sealed records other than one ERROR",
          );
          p.stats.add(code);
        }),
        p,
        { shrink: false },
      );
    },
  };
}

/** Splits well-formed frames (as the live side wrote them). */
function splitFrames(bytes: Uint8Array): Bytes[] {
  const frames: Bytes[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (bytes.length - at >= FRAME_HEADER_BYTES) {
    const end = at + 4 + view.getUint32(at);
    frames.push(bytes.slice(at, end));
    at = end;
  }
  return frames;
}
