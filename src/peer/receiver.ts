/** The receiving side of a transfer: fetch, verify and store one file (docs/PROTOCOL.md §7). */
import { createHash, type Hash } from "node:crypto";
import { join } from "node:path";
import { type ErrorCode, SfsError } from "../errors.ts";
import { lstatOrUndefined } from "../fs.ts";
import { fromFolderError } from "../os_error.ts";
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
import { closeQuietly, type Transport } from "../wire/frame.ts";
import { type Final, type Manifest, MessageType } from "../wire/messages.ts";
import { safeFileName } from "./names.ts";
import { PART_SUFFIX, PartFile } from "./part_file.ts";
import {
  findResumeState,
  loadResumeState,
  type ResumeState,
  STATE_SUFFIX,
} from "./resume_state.ts";
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
  /** Called as verified bytes are written (absolute offset in the file). */
  onProgress?: (receivedBytes: number) => void;
  /** Called with one-line notes for the user, e.g. that a download resumes. */
  onNote?: (text: string) => void;
  /** Bound on any single wait for the sender. @default 30000 */
  idleTimeoutMs?: number;
}

/** A verified, stored file. */
export interface FetchResult {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly sender: PublicIdentity;
  /** Bytes kept from an interrupted earlier run (0 when the download started fresh). */
  readonly resumedFrom: number;
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
    closeQuietly(transport);
    throw err;
  });
  try {
    return await fetchOnChannel(channel, options, require);
  } catch (err) {
    // OS errors get their code here (a full disk, --out a file), not INTERNAL; the sender is
    // told only the code (channel.fail), never a local path.
    const failure = await fromFolderError(err, options.outDir) ??
      new SfsError("INTERNAL", "Receiving failed", { cause: err });
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
  const force = options.force ?? false;
  const earlier = await findResumeState(options.outDir, options.fileId, channel.peer.fingerprint);
  const resumeFrom = earlier && await partHolds(options.outDir, earlier) ? earlier.verified : 0;
  await channel.send({ type: MessageType.GET, fileId: options.fileId, offset: resumeFrom });
  const manifest = await channel.expect(MessageType.MANIFEST);
  checkManifest(manifest, options.fileId, resumeFrom);
  const name = safeFileName(manifest.name);
  const hasher = createHash("sha256");
  let part: PartFile | undefined;
  if (resumeFrom > 0 && earlier) {
    if (
      earlier.name !== name || earlier.size !== manifest.size ||
      !constantTimeEqual(earlier.sha256, manifest.sha256)
    ) {
      // The file id covers name and hash, so only a lying sender gets here.
      throw new SfsError("BAD_MESSAGE", "The sender's manifest contradicts the file id");
    }
    part = await PartFile.resume(options.outDir, name, force, resumeFrom, (b) => hasher.update(b));
    if (!part) throw new SfsError("IO", "The part file changed while resuming; run again");
    options.onNote?.(`Resuming "${name}" from byte ${resumeFrom} of ${manifest.size}`);
  } else {
    const stale = await loadResumeState(join(options.outDir, name + STATE_SUFFIX));
    if (stale) {
      options.onNote?.(
        `Starting "${name}" over: the interrupted download was of ${
          constantTimeEqual(stale.sender, channel.peer.fingerprint)
            ? "another version of the file"
            : "a file from another sender"
        }`,
      );
    }
    part = await PartFile.create(options.outDir, name, force);
  }
  const resumeInfo = {
    fileId: options.fileId,
    sender: channel.peer.fingerprint,
    sha256: manifest.sha256,
    size: manifest.size,
    name,
  };
  let streamDone = false;
  try {
    options.onStart?.(manifest, channel.peer);
    const sha256 = await receiveChunks(channel, part, manifest, hasher, {
      onProgress: options.onProgress,
      checkpoint: () => part.checkpoint(resumeInfo),
    });
    streamDone = true;
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
    if (!streamDone && part.written > 0 && isResumable(err)) {
      await part.keep(resumeInfo);
    } else {
      await part.discard();
    }
    throw err;
  }
  // The file is verified and in place; a receipt that cannot be delivered changes nothing here.
  await channel.send({ type: MessageType.RECEIPT, sha256: manifest.sha256 }).catch(() => {});
  return {
    path: part.finalPath,
    bytes: manifest.size,
    sha256: toHex(manifest.sha256),
    sender: channel.peer,
    resumedFrom: resumeFrom,
  };
}

/**
 * Failures that leave the verified prefix worth keeping: the connection or the disk gave out,
 * or a chunk was damaged in transit (every chunk before it was authenticated). A file that
 * turns out wrong as a whole (hash, size, signatures) is never kept.
 */
function isResumable(err: unknown): boolean {
  return err instanceof SfsError && RESUMABLE_CODES.has(err.code);
}

const RESUMABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "CONNECTION_CLOSED",
  "TRUNCATED",
  "TIMEOUT",
  "CHUNK_AUTH_FAILED",
  "DECRYPT_FAILED",
  "IO",
]);

/** True when the part file an earlier run left still holds the bytes its state claims. */
async function partHolds(outDir: string, state: ResumeState): Promise<boolean> {
  const info = await lstatOrUndefined(join(outDir, state.name + PART_SUFFIX));
  return info !== undefined && info.isFile && info.size >= state.verified;
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

/** Bytes between two resume checkpoints: each costs one sync of the part file. */
const CHECKPOINT_BYTES = 64 * 1024 * 1024;

/**
 * Receives chunks with a few openings in flight: reading the next frame overlaps opening and
 * writing earlier ones. Only opened (authenticated) plaintext is written, in order, and fed to
 * `hasher`; every {@link CHECKPOINT_BYTES} the progress is recorded for a resume. Returns the
 * SHA-256 of the whole file (the hasher already holds any resumed prefix).
 */
async function receiveChunks(
  channel: Channel,
  part: PartFile,
  manifest: Manifest,
  hasher: Hash,
  hooks: { onProgress?: (receivedBytes: number) => void; checkpoint: () => Promise<void> },
): Promise<Bytes> {
  const opener = new StreamOpener(channel.payloadKey, {
    size: manifest.size,
    chunkSize: manifest.chunkSize,
    first: manifest.offset / manifest.chunkSize,
  });
  const count = chunkCount(manifest.size, manifest.chunkSize);
  const inFlight: Promise<Bytes>[] = [];
  let nextCheckpoint = part.written + CHECKPOINT_BYTES;
  let writing = true;
  const writeOldest = async (): Promise<void> => {
    try {
      const plaintext = await inFlight.shift()!;
      hasher.update(plaintext);
      await part.write(plaintext);
      release(plaintext);
      hooks.onProgress?.(part.written);
      if (part.written >= nextCheckpoint) {
        nextCheckpoint = part.written + CHECKPOINT_BYTES;
        await hooks.checkpoint();
      }
    } catch (err) {
      // After a bad chunk or a failed write nothing more may be appended: the part file must
      // stay exactly the verified prefix its length claims.
      writing = false;
      throw err;
    }
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
    // Reading stopped (the connection, or a frame that is not a chunk): the chunks already
    // received are verified in order (the opener fails every chunk after a bad one), so keep
    // them for a resume. One of them failing came earlier in the stream than what stopped the
    // reading, and is the fault to report: a dropped chunk shows first as the next chunk failing
    // to open under the dropped one's nonce, and only then as a stream that ends short.
    let failure: unknown = err;
    while (writing && inFlight.length > 0) {
      await writeOldest().catch((chunkFailure) => failure = chunkFailure);
    }
    await Promise.allSettled(inFlight);
    if (failure instanceof SfsError && failure.code === "CONNECTION_CLOSED") {
      throw new SfsError(
        "TRUNCATED",
        `Connection lost after ${part.written} of ${manifest.size} bytes`,
        { cause: failure },
      );
    }
    throw failure;
  }
  opener.finish();
  return new Uint8Array(hasher.digest());
}
