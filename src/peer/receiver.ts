/** The receiving side of a transfer: fetch, verify and store one file (docs/PROTOCOL.md §7). */
import { createHash } from "node:crypto";
import { SfsError } from "../errors.ts";
import { type Bytes, constantTimeEqual, release, toHex } from "../crypto/bytes.ts";
import { formatFingerprint, type Identity, type PublicIdentity } from "../crypto/identity.ts";
import { LABEL } from "../crypto/labels.ts";
import { type SignaturePolicy, verify } from "../crypto/sign.ts";
import {
  chunkCount,
  MAX_CHUNK_SIZE,
  MIN_CHUNK_SIZE,
  StreamOpener,
  TAG_BYTES,
} from "../crypto/stream.ts";
import { type Channel, initiate } from "../wire/channel.ts";
import type { Transport } from "../wire/frame.ts";
import { type Final, type Manifest, MessageType } from "../wire/messages.ts";
import { safeFileName } from "./names.ts";
import { PartFile } from "./part_file.ts";
import { CHUNKS_IN_FLIGHT, finalSignedData } from "./transfer.ts";

/** Options of {@link fetchFile}. */
export interface FetchOptions {
  /** Id of the wanted file. */
  fileId: Bytes;
  /** The sender's expected fingerprint; any other key is refused before data flows. */
  expectedFingerprint: Bytes;
  /** Folder to write into. */
  outDir: string;
  /** Replace an existing file of the same name. @default false */
  force?: boolean;
  /** Which signatures must verify. @default "both" */
  require?: SignaturePolicy;
  /** Called once the manifest is known and accepted. */
  onStart?: (manifest: Manifest, sender: PublicIdentity) => void;
  /** Called as verified bytes are written. */
  onProgress?: (receivedBytes: number) => void;
  /** Bound on any single wait for the sender. @default 30000 */
  idleTimeoutMs?: number;
}

/** A verified, stored file. */
export interface FetchResult {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly sender: PublicIdentity;
}

/** Fetches one file: nothing appears under its final name unless every check passed. */
export async function fetchFile(
  transport: Transport,
  identity: Identity,
  options: FetchOptions,
): Promise<FetchResult> {
  const require = options.require ?? "both";
  const channel = await initiate(transport, identity, {
    require,
    idleTimeoutMs: options.idleTimeoutMs,
    verifyResponder: (sender) => {
      if (!constantTimeEqual(sender.fingerprint, options.expectedFingerprint)) {
        throw new SfsError(
          "KEY_MISMATCH",
          `The sender's key ${formatFingerprint(sender.fingerprint)} is not the expected ${
            formatFingerprint(options.expectedFingerprint)
          }`,
          { hint: "Someone may be intercepting the connection; nothing was downloaded" },
        );
      }
    },
  }).catch((err) => {
    try {
      transport.close();
    } catch { /* already closed */ }
    throw err;
  });
  try {
    return await fetchOnChannel(channel, options, require);
  } catch (err) {
    const failure = err instanceof SfsError
      ? err
      : new SfsError("INTERNAL", "Receiving failed", { cause: err });
    await channel.fail(failure);
    throw failure;
  } finally {
    channel.close();
  }
}

async function fetchOnChannel(
  channel: Channel,
  options: FetchOptions,
  require: SignaturePolicy,
): Promise<FetchResult> {
  await channel.send({ type: MessageType.GET, fileId: options.fileId, offset: 0 });
  const manifest = await channel.expect(MessageType.MANIFEST);
  checkManifest(manifest, options.fileId, 0);
  const name = safeFileName(manifest.name);
  const part = await PartFile.create(options.outDir, name, options.force ?? false);
  try {
    options.onStart?.(manifest, channel.peer);
    const sha256 = await receiveChunks(channel, part, manifest, options.onProgress);
    const final = await expectFinal(channel, manifest.chunkSize + TAG_BYTES);
    if (part.written !== manifest.size) {
      throw new SfsError(
        "SIZE_MISMATCH",
        `Received ${part.written} bytes, expected ${manifest.size}`,
      );
    }
    if (!constantTimeEqual(sha256, manifest.sha256)) {
      throw new SfsError("HASH_MISMATCH", "The content's SHA-256 differs from the manifest");
    }
    await verify(
      channel.peer,
      LABEL.FINAL_SIGNATURE,
      await finalSignedData(channel.transcriptHash, manifest),
      final.signatures,
      require,
    );
    await part.publish();
  } catch (err) {
    await part.discard();
    throw err;
  }
  // The file is verified and in place; a receipt that cannot be delivered changes nothing here.
  await channel.send({ type: MessageType.RECEIPT, sha256: manifest.sha256 }).catch(() => {});
  return {
    path: part.finalPath,
    bytes: manifest.size,
    sha256: toHex(manifest.sha256),
    sender: channel.peer,
  };
}

/** The FINAL after the last chunk; one more chunk there is TRAILING_DATA (§7.2), not a stray. */
async function expectFinal(channel: Channel, maxChunkBytes: number): Promise<Final> {
  const message = await channel.receive(maxChunkBytes);
  if (message.type === "chunk") throw new SfsError("TRAILING_DATA", "Data after the last chunk");
  if (message.type !== MessageType.FINAL) {
    throw new SfsError(
      "UNEXPECTED_MESSAGE",
      `Expected message ${MessageType.FINAL}, got ${message.type}`,
    );
  }
  return message;
}

/** Rejects a manifest that does not answer our request or that no honest sender would send. */
function checkManifest(manifest: Manifest, fileId: Bytes, offset: number): void {
  if (!constantTimeEqual(manifest.fileId, fileId)) {
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
}

/**
 * Receives chunks with a few openings in flight: reading the next frame overlaps opening and
 * writing earlier ones. Only opened (authenticated) plaintext is written. Returns the SHA-256 of
 * everything written.
 */
async function receiveChunks(
  channel: Channel,
  part: PartFile,
  manifest: Manifest,
  onProgress?: (receivedBytes: number) => void,
): Promise<Bytes> {
  const hasher = createHash("sha256");
  const opener = new StreamOpener(channel.payloadKey, {
    size: manifest.size,
    chunkSize: manifest.chunkSize,
    first: manifest.offset / manifest.chunkSize,
  });
  const count = chunkCount(manifest.size, manifest.chunkSize);
  const inFlight: Promise<Bytes>[] = [];
  const writeOldest = async (): Promise<void> => {
    const plaintext = await inFlight.shift()!;
    hasher.update(plaintext);
    await part.write(plaintext);
    release(plaintext);
    onProgress?.(part.written);
  };
  try {
    for (let index = manifest.offset / manifest.chunkSize; index < count; index++) {
      const frame = await channel.receive(manifest.chunkSize + TAG_BYTES);
      if (frame.type !== "chunk") {
        throw new SfsError("TRUNCATED", `Stream ended after chunk ${index - 1} of ${count}`);
      }
      const opened = opener.open(frame.data).finally(() => release(frame.data));
      // Failures surface in order through writeOldest; this stops an early one going unhandled.
      opened.catch(() => {});
      inFlight.push(opened);
      if (inFlight.length >= CHUNKS_IN_FLIGHT) await writeOldest();
    }
    while (inFlight.length > 0) await writeOldest();
  } catch (err) {
    // Let pending openings settle so no rejection is left unobserved.
    await Promise.allSettled(inFlight);
    if (err instanceof SfsError && err.code === "CONNECTION_CLOSED") {
      throw new SfsError(
        "TRUNCATED",
        `Connection lost after ${part.written} of ${manifest.size} bytes`,
        { cause: err },
      );
    }
    throw err;
  }
  opener.finish();
  return new Uint8Array(hasher.digest());
}
