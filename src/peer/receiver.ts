/** The receiving side of a transfer: fetch, verify and store one file (docs/PROTOCOL.md §7). */
import { createHash, type Hash } from "node:crypto";
import { join } from "node:path";
import { type CodeInfo, codeInfo, isSfsError, SfsError } from "../errors.ts";
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
import { PartFile, type PartInfo } from "./part_file.ts";
import {
  findResumeState,
  loadResumeState,
  resumeOffset,
  type ResumeState,
  STATE_SUFFIX,
} from "./resume_state.ts";
import { TargetLock } from "./target_lock.ts";
import { fileIdOf } from "../crypto/file_id.ts";
import { finalSignedData } from "./final_signed_data.ts";
import { CHUNKS_IN_FLIGHT } from "./pipelining.ts";

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
  /**
   * What the index's verified listing says the file is (a get through the index): the
   * manifest must name the same file, or nothing is stored.
   */
  expectListing?: { name: string; size: number; sha256: Bytes };
  /**
   * How often progress is recorded for a resume, whichever comes first; each costs a sync of
   * the part file, overlapped with receiving. @default {{ bytes: 64 MiB, ms: 2000 }}
   */
  checkpointEvery?: { bytes?: number; ms?: number };
  /**
   * Stops the download (Ctrl-C): the connection is closed, the verified part is kept with a
   * fresh resume state, and the fetch fails with INTERRUPTED.
   */
  signal?: AbortSignal;
  /**
   * Opens a new connection to the same sender. When the sender refuses the resume point, the
   * saved progress is discarded and the download starts over on it; without it, the fetch
   * fails and the next run starts over.
   */
  reconnect?: () => Promise<Transport>;
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
  // Closing the connection ends every wait on it; what was verified until then is kept.
  const stop = () => closeQuietly(transport);
  options.signal?.addEventListener("abort", stop, { once: true });
  if (options.signal?.aborted) stop();
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
  let outcome: FetchResult | typeof START_OVER;
  try {
    outcome = await fetchOnChannel(channel, options, require);
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
  if (outcome !== START_OVER) return outcome;
  // The sender refused our resume point and the saved progress is gone: ask again from byte 0
  // (fetchOnChannel starts over only when it can reconnect).
  return await fetchFile(await options.reconnect!(), identity, {
    ...options,
    reconnect: undefined,
  });
}

/** Returned when the saved progress was discarded and the download must start over. */
const START_OVER: unique symbol = Symbol("start over");

async function fetchOnChannel(
  channel: Channel,
  options: FetchOptions,
  require: SignaturePolicy,
): Promise<FetchResult | typeof START_OVER> {
  const force = options.force ?? false;
  const sender = channel.peer.fingerprint;
  const earlier = await findResumeState(options.outDir, options.fileId, sender);
  let lock: TargetLock | undefined;
  let resumable: Resumable | undefined;
  try {
    if (earlier) {
      // Taken before the state is trusted: another get of the same file may be writing it.
      lock = await TargetLock.acquire(join(options.outDir, earlier.name));
      resumable = await reopenForResume(options, earlier, force);
    }
    const offset = resumable?.offset ?? 0;
    await channel.send({ type: MessageType.GET, fileId: options.fileId, offset });
    let manifest: Manifest;
    try {
      manifest = await channel.expect(MessageType.MANIFEST);
    } catch (err) {
      // The sender's answer to an offset it will not serve (§7.5), e.g. after its chunk size
      // changed: the saved progress can never be used with it, so it goes.
      if (!resumable || !isSfsError(err, "BAD_MESSAGE")) throw err;
      return await startOver(
        resumable,
        `the sender refused to resume at byte ${offset}`,
        options,
        err,
      );
    }
    await checkManifest(manifest, options, sender, offset);
    const name = safeFileName(manifest.name);
    const info: PartInfo = {
      fileId: options.fileId,
      sender,
      sha256: manifest.sha256,
      size: manifest.size,
      chunkSize: manifest.chunkSize,
      name,
    };
    const hasher = createHash("sha256");
    let part: PartFile;
    if (resumable) {
      const state = resumable.state;
      if (
        state.name !== name || state.size !== manifest.size ||
        !constantTimeEqual(state.sha256, manifest.sha256)
      ) {
        // The manifest matches the file id (checked above), so the state file was edited.
        return await startOver(resumable, "the saved state does not match the file", options);
      }
      part = resumable.part;
      resumable = undefined;
      try {
        await part.rewind(offset, info, (bytes) => hasher.update(bytes));
      } catch (err) {
        await part.keep();
        throw err;
      }
      options.onNote?.(`Resuming "${name}" from byte ${offset} of ${manifest.size}`);
    } else {
      if (earlier?.name !== name) {
        await lock?.release();
        await Deno.mkdir(options.outDir, { recursive: true });
        lock = await TargetLock.acquire(join(options.outDir, name));
      }
      await noteStaleState(options, name, sender);
      part = await PartFile.create(options.outDir, name, force, info);
    }
    return await receiveAndPublish(channel, part, manifest, hasher, options, require);
  } finally {
    resumable?.part.close();
    await lock?.release();
  }
}

/** A part file from an earlier run that may be continued at `offset`. */
interface Resumable {
  readonly part: PartFile;
  readonly state: ResumeState;
  readonly offset: number;
}

/**
 * Under the target's lock, rereads the state (it may have changed before we held the lock) and
 * reopens its part file. Returns undefined, after saying why, when the download must start over.
 */
async function reopenForResume(
  options: FetchOptions,
  earlier: ResumeState,
  force: boolean,
): Promise<Resumable | undefined> {
  const state = await loadResumeState(join(options.outDir, earlier.name + STATE_SUFFIX));
  if (
    !state || !constantTimeEqual(state.fileId, earlier.fileId) ||
    !constantTimeEqual(state.sender, earlier.sender)
  ) {
    return undefined;
  }
  const offset = resumeOffset(state);
  if (offset === 0) return undefined;
  if (typeof offset !== "number") {
    options.onNote?.(`Starting "${state.name}" over: ${offset.reason}`);
    return undefined;
  }
  const part = await PartFile.reopen(options.outDir, state.name, force, state.verified);
  if (!(part instanceof PartFile)) {
    // PartFile.create then removes that name (never the file it may link to) and starts afresh.
    options.onNote?.(`Starting "${state.name}" over: ${part.reason}`);
    return undefined;
  }
  return { part, state, offset };
}

/**
 * Discards the saved progress of a resume that cannot go on, and asks for a fresh start on a
 * new connection when one can be made; otherwise fails, and the next run starts over.
 */
async function startOver(
  resumable: Resumable,
  why: string,
  options: FetchOptions,
  cause?: unknown,
): Promise<typeof START_OVER> {
  await resumable.part.discard();
  const name = resumable.state.name;
  if (options.reconnect) {
    options.onNote?.(`Starting "${name}" over: ${why}`);
    return START_OVER;
  }
  throw new SfsError("BAD_MESSAGE", `Cannot resume "${name}": ${why}`, {
    cause,
    hint: "The interrupted download was discarded; run the same command again to start over",
  });
}

/** Says why an interrupted download of another file under the same name is not continued. */
async function noteStaleState(options: FetchOptions, name: string, sender: Bytes): Promise<void> {
  const stale = await loadResumeState(join(options.outDir, name + STATE_SUFFIX));
  if (!stale || constantTimeEqual(stale.fileId, options.fileId)) return;
  options.onNote?.(
    `Starting "${name}" over: the interrupted download was of ${
      constantTimeEqual(stale.sender, sender)
        ? "another version of the file"
        : "a file from another sender"
    }`,
  );
}

/** Receives the chunks into `part`, checks the whole file, and publishes it. */
async function receiveAndPublish(
  channel: Channel,
  part: PartFile,
  manifest: Manifest,
  hasher: Hash,
  options: FetchOptions,
  require: SignaturePolicy,
): Promise<FetchResult> {
  const resumedFrom = part.written;
  let finalReceived = false;
  try {
    options.onStart?.(manifest, channel.peer);
    const sha256 = await receiveChunks(channel, part, manifest, hasher, {
      onProgress: options.onProgress,
      checkpointBytes: options.checkpointEvery?.bytes ?? CHECKPOINT_BYTES,
      checkpointMs: options.checkpointEvery?.ms ?? CHECKPOINT_MS,
    });
    const final = await expectFinal(channel, manifest.chunkSize + TAG_BYTES);
    finalReceived = true;
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
    const interrupted = options.signal?.aborted ?? false;
    // Until FINAL arrives, every byte written is verified chunk by chunk: a connection lost
    // even after the last chunk keeps them (§7.5). A file wrong as a whole is never kept.
    if (!finalReceived && part.written > 0 && (interrupted || isResumable(err))) {
      await part.keep();
    } else {
      await part.discard();
    }
    if (interrupted && !finalReceived) {
      throw new SfsError(
        "INTERRUPTED",
        `Interrupted; run the same command again to resume (${part.written} of ${manifest.size} bytes kept)`,
        { cause: err },
      );
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
    resumedFrom,
  };
}

/** Failures that leave the verified prefix worth keeping (see {@link CodeInfo.resumable}). */
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
async function checkManifest(
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

/**
 * Default time between two resume checkpoints: a crash loses at most about this much of the
 * transfer, however slow it is. The byte bound only matters above 32 MB/s; lower, it would add
 * syncs that cost throughput (16 MiB measured about 4 points slower than 64 MiB on loopback).
 */
const CHECKPOINT_MS = 2000;
/** Default bytes between two resume checkpoints. */
const CHECKPOINT_BYTES = 64 * 1024 * 1024;

/**
 * Receives chunks with a few openings in flight: reading the next frame overlaps opening and
 * writing earlier ones. Only opened (authenticated) plaintext is written, in order, and fed to
 * `hasher`; every `checkpointBytes` or `checkpointMs`, whichever comes first, the progress is
 * recorded for a resume, in the background. Returns the SHA-256 of the whole file (the hasher
 * already holds any resumed prefix).
 */
async function receiveChunks(
  channel: Channel,
  part: PartFile,
  manifest: Manifest,
  hasher: Hash,
  hooks: {
    onProgress?: (receivedBytes: number) => void;
    checkpointBytes: number;
    checkpointMs: number;
  },
): Promise<Bytes> {
  const opener = new StreamOpener(channel.payloadKey, {
    size: manifest.size,
    chunkSize: manifest.chunkSize,
    first: manifest.offset / manifest.chunkSize,
  });
  const count = chunkCount(manifest.size, manifest.chunkSize);
  const inFlight: Promise<Bytes>[] = [];
  let lastCheckpoint = { bytes: part.written, at: performance.now() };
  let writing = true;
  const writeOldest = async (): Promise<void> => {
    try {
      const plaintext = await inFlight.shift()!;
      hasher.update(plaintext);
      await part.write(plaintext);
      release(plaintext);
      hooks.onProgress?.(part.written);
      const now = performance.now();
      if (
        (part.written - lastCheckpoint.bytes >= hooks.checkpointBytes ||
          now - lastCheckpoint.at >= hooks.checkpointMs) && part.startCheckpoint()
      ) {
        lastCheckpoint = { bytes: part.written, at: now };
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
      const frame = await channel.receiveChunkOrMessage(manifest.chunkSize + TAG_BYTES);
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
