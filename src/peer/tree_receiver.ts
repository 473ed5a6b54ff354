/**
 * Receiving a tree (docs/design/folders.md F5.1, F7): the sender answered with TREE_MANIFEST.
 *
 * 1. The manifest's pages are read through `ManifestReader` (every path, order and collision
 *    checked, F3.5) and kept as `manifest` in a fresh part folder, in the proof format (F9); then
 *    the owner's key and signatures and the share id are checked (`verifyManifest`). Nothing of
 *    any file is written before all of that passed (tree_receiver_open.ts).
 * 2. The files stream back to back (tree_receive_stream.ts), each checked against its size and
 *    SHA-256.
 * 3. FINAL's signatures bind the session to the manifest; then the tree is published (the proof
 *    beside it) and a signed RECEIPT goes back (F10).
 *
 * A failure the transfer can resume from keeps the part folder and its state (F7.3); any other
 * removes it. A resume that turns out inconsistent discards it and starts over.
 *
 * @module
 */
import { codeInfo, SfsError } from "../errors.ts";
import { constantTimeEqual, toHex } from "../crypto/bytes.ts";
import { fileKey } from "../crypto/file_key.ts";
import type { Identity } from "../crypto/identity.ts";
import { LABEL } from "../crypto/labels.ts";
import { type SignaturePolicy, verify } from "../crypto/sign.ts";
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, TAG_BYTES } from "../crypto/stream.ts";
import type { Channel } from "../wire/channel.ts";
import { type Final, MessageType, type TreeManifest } from "../wire/messages.ts";
import { treeFinalSignedData } from "./final_signed_data.ts";
import { proofEntries } from "./proof.ts";
import { sendReceipt } from "./receipt.ts";
import type { FetchOptions, FetchResult } from "./receiver_options.ts";
import { CHECKPOINT_BYTES, CHECKPOINT_MS } from "./receiver_stream.ts";
import { TreePart } from "./tree_part.ts";
import type { TreeResume } from "./tree_receiver_start.ts";
import { continueResume, type Open, openFresh } from "./tree_receiver_open.ts";
import { CannotResume, receiveTreeFiles, type TreeStreamResult } from "./tree_receive_stream.ts";

/** Returned when the saved progress was discarded and the download must start over. */
export const TREE_START_OVER: unique symbol = Symbol("tree start over");

/** What a tree fetch runs with. */
export type TreeFetchOptions = FetchOptions & { identity: Identity; require: SignaturePolicy };

/**
 * Receives the tree `reply` announces into `options.outDir`, continuing `resume` when the
 * request was its TREE_GET; TREE_START_OVER when the saved progress turned out unusable and was
 * discarded (the caller connects again for a fresh start).
 */
export async function receiveTree(
  channel: Channel,
  reply: TreeManifest,
  resume: TreeResume | undefined,
  options: TreeFetchOptions,
): Promise<FetchResult | typeof TREE_START_OVER> {
  try {
    checkReply(reply, resume, options);
  } catch (err) {
    // A sender that answers a resume out of step would do so again: the next run starts over.
    if (resume) await resume.part.discard();
    throw err;
  }
  const open = resume
    ? await continueResume(reply, resume, options)
    : await openFresh(channel, reply, options);
  try {
    return await receiveAndPublish(channel, reply, open, options);
  } catch (err) {
    if (err instanceof CannotResume) {
      options.onNote?.(`Starting "${open.header.name}" over: ${err.message}`);
      await open.part.discard();
      if (options.reconnect) return TREE_START_OVER;
      throw new SfsError("IO", err.message, {
        cause: err,
        hint: "The interrupted download was discarded; run the same command again to start over",
      });
    }
    throw err;
  } finally {
    open.state.close();
    await open.lock.release();
  }
}

/** The reply must answer what was asked: this share, from where we asked, in a usable shape. */
function checkReply(
  reply: TreeManifest,
  resume: TreeResume | undefined,
  options: FetchOptions,
): void {
  if (!constantTimeEqual(reply.shareId, options.fileId)) {
    throw new SfsError("BAD_MESSAGE", "The sender answered with a different share");
  }
  const { chunkSize } = reply;
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE || (chunkSize & (chunkSize - 1))) {
    throw new SfsError("BAD_MESSAGE", `Unacceptable chunk size ${chunkSize}`);
  }
  const asked = resume?.start ?? { entry: 0, offset: 0 };
  if (reply.entry !== asked.entry || reply.offset !== asked.offset) {
    throw new SfsError("BAD_MESSAGE", "The sender starts at an entry that was not asked for");
  }
  // Holding the manifest whose hash the share id commits to, we get no pages; asking afresh,
  // we must get them all.
  if (reply.pagesFollow === (resume !== undefined)) {
    throw new SfsError("BAD_MESSAGE", "The sender's manifest pages are not what was asked for");
  }
  if (resume && asked.offset > 0 && chunkSize !== resume.state.chunkSize) {
    throw new SfsError("BAD_MESSAGE", "The sender's chunk size changed since the interruption");
  }
}

/** Receives the files, checks FINAL, publishes, and sends the signed receipt. */
async function receiveAndPublish(
  channel: Channel,
  reply: TreeManifest,
  open: Open,
  options: TreeFetchOptions,
): Promise<FetchResult> {
  const { part, header, manifestHash } = open;
  let finalReceived = false;
  let resumedBytes = 0;
  let files: number;
  try {
    options.onTreeStart?.({
      name: header.name,
      files: open.files,
      entries: header.entryCount,
      totalBytes: header.totalBytes,
    }, channel.peer);
    const received = await receiveFiles(channel, reply.chunkSize, open, options);
    files = received.files;
    resumedBytes = received.resumedBytes;
    const final = await expectFinal(channel, reply.chunkSize + TAG_BYTES);
    finalReceived = true;
    await verify(
      channel.peer,
      LABEL.FINAL_SIGNATURE,
      await treeFinalSignedData(channel.transcriptHash, reply, manifestHash, header.totalBytes),
      final.signatures,
      options.require,
    );
  } catch (err) {
    throw await keepOrDiscard(part, err, { finalReceived, signal: options.signal });
  }
  open.state.close();
  let path: string;
  try {
    path = await part.publish();
  } catch (err) {
    await part.discard().catch(() => {});
    throw err;
  }
  // The tree is verified and in place; a receipt that cannot be delivered changes nothing here.
  await sendReceipt(channel, options.identity, { shareId: options.fileId, manifestHash })
    .catch(() => {});
  return {
    kind: "tree",
    path,
    bytes: header.totalBytes,
    sha256: toHex(manifestHash),
    manifestHash: toHex(manifestHash),
    files,
    sender: channel.peer,
    resumedFrom: resumedBytes,
    ...(part.proofPath !== undefined ? { proof: part.proofPath } : {}),
  };
}

/** The files' streams into the part folder (tree_receive_stream.ts), reported to `options`. */
function receiveFiles(
  channel: Channel,
  chunkSize: number,
  open: Open,
  options: TreeFetchOptions,
): Promise<TreeStreamResult> {
  const { part, manifestHash } = open;
  return receiveTreeFiles(channel, part, proofEntries(part.manifestPath), open.state, {
    keyFor: (index) => fileKey(channel.payloadKdf, manifestHash, index),
    chunkSize,
    start: open.start,
    checkpointBytes: options.checkpointEvery?.bytes ?? CHECKPOINT_BYTES,
    checkpointMs: options.checkpointEvery?.ms ?? CHECKPOINT_MS,
    onProgress: (bytes) => options.onProgress?.(bytes),
    onFile: (entry, how) =>
      options.onFile?.({
        path: entry.path,
        size: entry.size,
        sha256: toHex(entry.sha256),
        kept: how.kept,
        filesDone: how.filesDone,
      }),
  });
}

/**
 * After a failed transfer, keeps the part folder for a resume or removes it, and returns the
 * error to throw: until FINAL arrives every file written is verified (§7.5), so a lost
 * connection, a full disk or Ctrl-C keeps it; a file or signature that is wrong removes it.
 */
async function keepOrDiscard(
  part: TreePart,
  err: unknown,
  how: { finalReceived: boolean; signal?: AbortSignal },
): Promise<unknown> {
  if (err instanceof CannotResume) return err;
  const interrupted = how.signal?.aborted ?? false;
  const resumable = err instanceof SfsError && codeInfo(err.code).resumable;
  if (how.finalReceived || !(interrupted || resumable)) {
    await part.discard();
    return err;
  }
  if (!interrupted) return err;
  return new SfsError("INTERRUPTED", "Interrupted; run the same command again to resume", {
    cause: err,
  });
}

/** The FINAL after the last file; one more chunk there is TRAILING_DATA (§7.2). */
async function expectFinal(channel: Channel, maxChunkBytes: number): Promise<Final> {
  const message = await channel.receiveChunkOrMessage(maxChunkBytes);
  if (message.type === "chunk") throw new SfsError("TRAILING_DATA", "Data after the last file");
  if (message.type !== MessageType.FINAL) {
    throw new SfsError(
      "UNEXPECTED_MESSAGE",
      `Expected message ${MessageType.FINAL}, got ${message.type}`,
    );
  }
  return message;
}
