/** A live transfer between a real sender and receiver over an in-memory pipe, and its checks. */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Bytes } from "../../src/crypto/bytes.ts";
import type { Identity } from "../../src/crypto/identity.ts";
import type { ErrorCode } from "../../src/errors.ts";
import { fetchFile } from "../../src/peer/receiver.ts";
import { prepareFile, serveTransfer, type SharedFile } from "../../src/peer/sender.ts";
import { DEFAULT_IDLE_TIMEOUT_MS } from "../../src/wire/frame.ts";
import { assertBytes, bounded, equalBytes, expectSfsError, startsWith } from "./checks.ts";
import { type FrameMutation, FrameTap } from "./frame_tap.ts";
import { MemoryTransport } from "../transport.ts";

/** The two sides of the transfer and the file between them. */
export interface SessionSetup {
  readonly sender: Identity;
  readonly receiver: Identity;
  readonly file: SharedFile;
  readonly content: Bytes;
  /** Temporary folder for the receivers' output; removed by the caller. */
  readonly root: string;
  /** Chunk size of the transfer (the smallest a receiver accepts, so several chunks are cheap). */
  readonly chunkSize: number;
}

/** A clean recorded transfer: the frames each side sent, with burst numbers. */
export interface Recording {
  /** Sender → receiver: HELLO_REPLY, RESPONDER_AUTH, KEY_TRANSPORT, MANIFEST, CHUNK…, FINAL. */
  readonly toReceiver: readonly { bytes: Bytes; burst: number }[];
  /** Receiver → sender: HELLO, INITIATOR_AUTH, GET (early, in flight 3), RECEIPT. */
  readonly toSender: readonly { bytes: Bytes; burst: number }[];
}

/** What one live session ended with. */
interface SessionResult {
  sender: PromiseSettledResult<unknown>;
  receiver: PromiseSettledResult<{ path: string; resumedFrom?: number }>;
  outDir: string;
}

let caseNumber = 0;

/** A fresh output folder for one case's receiver, under the setup's temporary folder. */
export function caseDir(setup: SessionSetup): string {
  return join(setup.root, `case-${++caseNumber}`);
}

/** Idle deadline of the live sides in mutated sessions: a deadlock costs this much. */
export const SESSION_IDLE_MS = 250;

/** Bound on a whole session; far above anything but a hang. */
export const SESSION_BOUND_MS = 15_000;

/** One mutated session: which direction is edited, how, and whether bursts arrive whole. */
export interface SessionCase {
  direction: "toReceiver" | "toSender";
  mutation: FrameMutation;
  coalesce: boolean;
}

/** Connects two pipe ends through a tap per direction. */
function connect(
  a: MemoryTransport,
  b: MemoryTransport,
  tapAB: (emit: (x: Uint8Array) => void, end: () => void) => FrameTap,
  tapBA: (emit: (x: Uint8Array) => void, end: () => void) => FrameTap,
): { ab: FrameTap; ba: FrameTap } {
  const ab = tapAB((x) => b.feed(x), () => b.end());
  const ba = tapBA((x) => a.feed(x), () => a.end());
  ab.otherFrames = () => ba.frames.length;
  ba.otherFrames = () => ab.frames.length;
  a.onWrite = (x) => ab.push(x);
  b.onWrite = (x) => ba.push(x);
  a.onClose = () => ab.end();
  b.onClose = () => ba.end();
  return { ab, ba };
}

/**
 * Runs one live transfer between the two identities over an in-memory pipe, with the case's
 * mutation applied to one direction (none when recording).
 */
export async function runSession(
  setup: SessionSetup,
  options: { edit?: SessionCase; recording?: Recording; idleTimeoutMs?: number; outDir?: string },
): Promise<SessionResult & { taps: { ab: FrameTap; ba: FrameTap } }> {
  const outDir = options.outDir ?? caseDir(setup);
  const senderEnd = new MemoryTransport();
  const receiverEnd = new MemoryTransport();
  const { edit, recording } = options;
  const tap =
    (direction: "toReceiver" | "toSender") =>
    (emit: (x: Uint8Array) => void, end: () => void): FrameTap => {
      const recorded = recording?.[direction] ?? [];
      return new FrameTap(emit, end, {
        mutation: edit?.direction === direction ? edit.mutation : undefined,
        stale: recorded.map((f) => f.bytes),
        lastOfBurst: edit?.coalesce
          ? (i) => i + 1 >= recorded.length || recorded[i + 1].burst !== recorded[i].burst
          : undefined,
      });
    };
  const taps = connect(senderEnd, receiverEnd, tap("toReceiver"), tap("toSender"));
  const idleTimeoutMs = options.idleTimeoutMs ?? SESSION_IDLE_MS;
  const sending = serveTransfer(senderEnd, setup.sender, {
    lookup: (id) => equalBytes(id, setup.file.id) ? setup.file : undefined,
    chunkSize: setup.chunkSize,
    idleTimeoutMs,
  });
  const receiving = fetchFile(receiverEnd, setup.receiver, {
    fileId: setup.file.id,
    expectedFingerprint: setup.sender.public.fingerprint,
    outDir,
    idleTimeoutMs,
  });
  const [sender, receiver] = await bounded(
    Promise.allSettled([sending, receiving]),
    SESSION_BOUND_MS,
    "A transfer",
  );
  senderEnd.close();
  receiverEnd.close();
  return { sender, receiver, outDir, taps };
}

/** Records one clean transfer; throws if it does not succeed. */
export async function recordSession(setup: SessionSetup): Promise<Recording> {
  const result = await runSession(setup, { idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS });
  if (result.sender.status === "rejected") throw result.sender.reason;
  if (result.receiver.status === "rejected") throw result.receiver.reason;
  await checkOutput(setup, result.outDir, true);
  await Deno.remove(result.outDir, { recursive: true });
  return { toReceiver: result.taps.ab.frames, toSender: result.taps.ba.frames };
}

/**
 * What the receiver left in its folder: the file, complete and exact, only when `published`;
 * otherwise at most part and state files, and a part file holds only verified plaintext (a
 * prefix of the real content). Returns the length of the part file kept, or 0.
 */
export async function checkOutput(
  setup: SessionSetup,
  outDir: string,
  published: boolean,
): Promise<number> {
  const entries: string[] = [];
  try {
    for await (const entry of Deno.readDir(outDir)) entries.push(entry.name);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const finals = entries.filter((n) => !n.endsWith(".sfs-part") && !n.endsWith(".sfs-state"));
  finals.sort();
  if (published) {
    // The proof of origin is kept beside a published file (§7.4), and only then.
    const proof = `${setup.file.name}.sfs-proof`;
    assert.deepEqual(finals, [setup.file.name, proof], "the received file is missing");
    assertBytes(await Deno.readFile(join(outDir, setup.file.name)), setup.content, "received file");
  } else {
    assert.deepEqual(finals, [], "a final file appeared although the transfer failed");
  }
  let kept = 0;
  for (const name of entries.filter((n) => n.endsWith(".sfs-part"))) {
    const part = await Deno.readFile(join(outDir, name));
    if (!startsWith(setup.content, part)) {
      const state = await Deno.readTextFile(join(outDir, name.replace(/part$/, "state")))
        .catch(() => "none");
      assert.fail(
        `The part file is not a prefix of the content: ${part.length} bytes, equal to the ` +
          `content from byte ${whereIn(setup.content, part)}; state: ${state}`,
      );
    }
    kept = part.length;
  }
  return kept;
}

/** Where `part` occurs in `content` (at a chunk boundary), or -1. */
function whereIn(content: Uint8Array, part: Uint8Array): number {
  for (let at = 0; at + part.length <= content.length; at += 1024) {
    if (equalBytes(content.subarray(at, at + part.length), part)) return at;
  }
  return -1;
}

/** The code a failed side ended with, checked against the table. */
export function failureCode(result: PromiseSettledResult<unknown>): ErrorCode | undefined {
  return result.status === "rejected" ? expectSfsError(result.reason).code : undefined;
}

/** Creates the sender's file (three chunks of 16 KiB: two full, one short) in a temp folder. */
export async function sessionSetup(sender: Identity, receiver: Identity): Promise<SessionSetup> {
  const root = await Deno.makeTempDir({ prefix: "sfs-fuzz-" });
  const chunkSize = 16 * 1024;
  const content = new Uint8Array(2 * chunkSize + 1000);
  for (let i = 0; i < content.length; i += 65536) {
    crypto.getRandomValues(content.subarray(i, Math.min(content.length, i + 65536)));
  }
  const path = join(root, "shared report.bin");
  await Deno.writeFile(path, content);
  const file = await prepareFile(path, sender);
  return { sender, receiver, file, content, root, chunkSize };
}
