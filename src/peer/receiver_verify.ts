/**
 * The checks a download must pass before anything is stored (docs/PROTOCOL.md §7): the manifest
 * answers our request, and the whole file matches the manifest and the sender's final
 * signatures. Only then is the part file published under its name.
 */
import { codeInfo, SfsError } from "../errors.ts";
import type { Sha256Hasher } from "../crypto/sha256.ts";
import { type Bytes, constantTimeEqual, toHex } from "../crypto/bytes.ts";
import { fileIdOf } from "../crypto/file_id.ts";
import { LABEL } from "../crypto/labels.ts";
import { type SignaturePolicy, verify } from "../crypto/sign.ts";
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, TAG_BYTES } from "../crypto/stream.ts";
import type { Channel } from "../wire/channel.ts";
import { type Final, type Manifest, MessageType, type Receipt } from "../wire/messages.ts";
import { finalSignedData } from "./final_signed_data.ts";
import type { Identity } from "../crypto/identity.ts";
import { type FileManifest, fileManifestOf } from "./file_manifest.ts";
import { keepFileProof } from "./file_proof.ts";
import { NO_MANIFEST_HASH, signDelivery } from "./receipt.ts";
import type { PartFile } from "./part_file.ts";
import type { FetchOptions, FetchResult } from "./receiver_options.ts";
import { CHECKPOINT_BYTES, CHECKPOINT_MS, receiveChunks } from "./receiver_stream.ts";

/** Receives the chunks into `part`, checks the whole file, and publishes it. */
export async function receiveAndPublish(
  channel: Channel,
  part: PartFile,
  manifest: Manifest,
  hasher: Sha256Hasher,
  options: FetchOptions & {
    require: SignaturePolicy;
    identity: Identity;
    /** The verified one-entry manifest to keep as the proof of origin (F9), if one is kept. */
    fileManifest?: FileManifest;
  },
): Promise<FetchResult> {
  const resumedFrom = part.written;
  let finalReceived = false;
  let proof: string | undefined;
  let receipt: Promise<Receipt> | undefined;
  try {
    options.onStart?.(manifest, channel.peer);
    const sha256 = await receiveChunks(channel, part, manifest, hasher, {
      onProgress: options.onProgress,
      checkpointBytes: options.checkpointEvery?.bytes ?? CHECKPOINT_BYTES,
      checkpointMs: options.checkpointEvery?.ms ?? CHECKPOINT_MS,
    });
    const final = await expectFinal(channel, manifest.chunkSize + TAG_BYTES);
    finalReceived = true;
    await checkWholeFile(channel, part, manifest, { sha256, final, require: options.require });
    // Signed while the proof and the file are written (the signing runs off this thread); sent
    // only once the file is published (§7.9).
    const manifestHash = fileManifestOf(channel.peer.fingerprint, manifest)?.manifestHash;
    receipt = signDelivery(channel, options.identity, {
      shareId: manifest.fileId,
      manifestHash: manifestHash ?? NO_MANIFEST_HASH,
    });
    receipt.catch(() => {}); // never sent if publishing fails
    // The proof first (F7.2): the file appears under its name only with its proof beside it.
    if (options.fileManifest) {
      const force = options.force ?? false;
      const owner = channel.peer;
      const signatures = manifest.manifestSignatures;
      proof = await keepFileProof(part.finalPath, owner, signatures, options.fileManifest, force);
    }
    await part.publish();
  } catch (err) {
    if (proof !== undefined) await Deno.remove(proof).catch(() => {});
    throw await keepOrDiscard(part, manifest, err, { finalReceived, signal: options.signal });
  }
  // The file is verified and in place; a receipt that cannot be delivered changes nothing here.
  await receipt.then((signed) => channel.send(signed)).catch(() => {});
  return {
    kind: "file",
    path: part.finalPath,
    bytes: manifest.size,
    sha256: toHex(manifest.sha256),
    sender: channel.peer,
    resumedFrom,
    ...(options.fileManifest ? { manifestHash: toHex(options.fileManifest.manifestHash) } : {}),
    ...(proof !== undefined ? { proof } : {}),
  };
}

/** Checks the received file as a whole: its size, its SHA-256 and the final signatures. */
async function checkWholeFile(
  channel: Channel,
  part: PartFile,
  manifest: Manifest,
  got: { sha256: Bytes; final: Final; require: SignaturePolicy },
): Promise<void> {
  if (part.written !== manifest.size) {
    throw new SfsError(
      "SIZE_MISMATCH",
      `Received ${part.written} bytes, expected ${manifest.size}`,
    );
  }
  if (!constantTimeEqual(got.sha256, manifest.sha256)) {
    throw new SfsError("HASH_MISMATCH", "The content's SHA-256 differs from the manifest");
  }
  await verify(
    channel.peer,
    LABEL.FINAL_SIGNATURE,
    await finalSignedData(channel.transcriptHash, manifest),
    got.final.signatures,
    got.require,
  );
}

/**
 * After a failed download, keeps the part file for a resume or discards it, and returns the
 * error to throw. Until FINAL arrives, every byte written is verified chunk by chunk: a
 * connection lost even after the last chunk keeps them (§7.5). A file wrong as a whole is never
 * kept.
 */
async function keepOrDiscard(
  part: PartFile,
  manifest: Manifest,
  err: unknown,
  how: { finalReceived: boolean; signal?: AbortSignal },
): Promise<unknown> {
  const interrupted = how.signal?.aborted ?? false;
  if (!how.finalReceived && part.written > 0 && (interrupted || isResumable(err))) {
    await part.keep();
  } else {
    await part.discard();
  }
  if (interrupted && !how.finalReceived) {
    return new SfsError(
      "INTERRUPTED",
      `Interrupted; run the same command again to resume (${part.written} of ${manifest.size} bytes kept)`,
      { cause: err },
    );
  }
  return err;
}

/** Failures that leave the verified prefix worth keeping (see `CodeInfo.resumable`). */
function isResumable(err: unknown): boolean {
  return err instanceof SfsError && codeInfo(err.code).resumable;
}

/** The FINAL after the last chunk; one more chunk there is TRAILING_DATA (§7.2), not a stray. */
async function expectFinal(channel: Channel, maxChunkBytes: number): Promise<Final> {
  const message = await channel.receiveChunkOrMessage(maxChunkBytes);
  if (message.type === "chunk") throw new SfsError("TRAILING_DATA", "Data after the last chunk");
  if (message.type !== MessageType.FINAL) {
    throw new SfsError(
      "UNEXPECTED_MESSAGE",
      `Expected message ${MessageType.FINAL}, got ${message.type}`,
    );
  }
  return message;
}

/**
 * Rejects a manifest that does not answer our request, that no honest sender would send, or
 * that describes another file than the one asked for: the file id is recomputed from the
 * sender's verified key and the manifest's hash and name (§7.1), so a sender cannot deliver
 * another of its files under the id of the one that was asked for.
 */
export async function checkManifest(
  manifest: Manifest,
  options: FetchOptions,
  sender: Bytes,
  offset: number,
): Promise<void> {
  if (!constantTimeEqual(manifest.fileId, options.fileId)) {
    throw new SfsError("BAD_MESSAGE", "The sender answered with a different file");
  }
  if (
    manifest.chunkSize < MIN_CHUNK_SIZE || manifest.chunkSize > MAX_CHUNK_SIZE ||
    (manifest.chunkSize & (manifest.chunkSize - 1)) !== 0
  ) {
    throw new SfsError("BAD_MESSAGE", `Unacceptable chunk size ${manifest.chunkSize}`);
  }
  if (
    manifest.offset !== offset || manifest.offset % manifest.chunkSize !== 0 ||
    manifest.offset > manifest.size
  ) {
    throw new SfsError("BAD_MESSAGE", "The sender starts at a chunk that was not asked for");
  }
  const hint = "The sender may be passing off another file as the one asked for; nothing was saved";
  const id = await fileIdOf(sender, manifest.sha256, manifest.name);
  if (!constantTimeEqual(id, options.fileId)) {
    throw new SfsError("MANIFEST_MISMATCH", "The sender's manifest is not of the file asked for", {
      hint,
    });
  }
  const listing = options.expectListing;
  if (
    listing && (listing.name !== manifest.name || listing.size !== manifest.size ||
      !constantTimeEqual(listing.sha256, manifest.sha256))
  ) {
    throw new SfsError("MANIFEST_MISMATCH", "The sender's manifest differs from the listing", {
      hint,
    });
  }
}
