/**
 * The payload stream of a download (docs/PROTOCOL.md §7.2): chunks are opened a few at a time and
 * written in order, so only authenticated plaintext ever reaches the part file, and progress is
 * recorded for a resume as it goes.
 *
 * Each opened chunk is hashed and written on the main thread, synchronously: handing the write
 * and the hash to Deno's thread pool cost more in wake-ups between threads than it gained in
 * overlap (a 1 GiB loopback download took a third longer; docs/PERFORMANCE.md, session 7), while
 * the socket keeps filling in the kernel as the main thread works. Chunks open into a few reused
 * buffers, and each sealed frame body goes back to the frame reader once opened
 * (recycleChunkBody), so nothing is allocated per chunk for either.
 */
import { SfsError } from "../errors.ts";
import type { Bytes } from "../crypto/bytes.ts";
import type { Sha256Hasher } from "../crypto/sha256.ts";
import { chunkCount, StreamOpener, TAG_BYTES } from "../crypto/stream.ts";
import type { Channel } from "../wire/channel.ts";
import type { AeadKey } from "../crypto/aead.ts";
import { recycleChunkBody } from "../wire/frame.ts";
import type { Manifest } from "../wire/messages.ts";
import { CHUNKS_IN_FLIGHT } from "./pipelining.ts";
import { Ring } from "./buffer_pool.ts";

/**
 * Default time between two resume checkpoints: a crash loses at most about this much of the
 * transfer, however slow it is. The byte bound only matters above 32 MB/s; lower, it would add
 * syncs that cost throughput (16 MiB measured about 4 points slower than 64 MiB on loopback).
 */
export const CHECKPOINT_MS = 2000;
/** Default bytes between two resume checkpoints. */
export const CHECKPOINT_BYTES = 64 * 1024 * 1024;

/** Progress callbacks and checkpoint spacing of {@link receiveChunks}. */
export interface StreamHooks {
  onProgress?: (receivedBytes: number) => void;
  checkpointBytes: number;
  checkpointMs: number;
  /** The stream's key: a tree's file key (F6.1). @default the channel's payload key */
  key?: AeadKey;
}

/** Where opened chunks go: a part file, or one file of a tree (tree_stream.ts). */
export interface ChunkSink {
  /** Bytes written so far (including those kept from an earlier run). */
  readonly written: number;
  /** Appends verified plaintext, synchronously. */
  write(data: Uint8Array): void;
  /** Starts recording progress in the background; false when one is still running. */
  startCheckpoint(): boolean;
}

/**
 * Receives chunks with a few openings in flight: reading the next frame overlaps opening
 * earlier ones (WebCrypto opens off the main thread). Only opened (authenticated) plaintext is
 * written, in order, and fed to `hasher`; every `checkpointBytes` or `checkpointMs`, whichever
 * comes first, the progress is recorded for a resume, in the background. Returns the SHA-256 of
 * the whole file (the hasher already holds any resumed prefix).
 */
export async function receiveChunks(
  channel: Channel,
  part: ChunkSink,
  manifest: Pick<Manifest, "size" | "chunkSize" | "offset">,
  hasher: Sha256Hasher,
  hooks: StreamHooks,
): Promise<Bytes> {
  const opener = new StreamOpener(hooks.key ?? channel.payloadKey, {
    size: manifest.size,
    chunkSize: manifest.chunkSize,
    first: manifest.offset / manifest.chunkSize,
  });
  const count = chunkCount(manifest.size, manifest.chunkSize);
  // A buffer per opening in flight: the loop writes and hashes the oldest chunk before it takes
  // the buffer of the one CHUNKS_IN_FLIGHT later.
  const bytes = Math.min(manifest.chunkSize, manifest.size);
  const buffers = new Ring(CHUNKS_IN_FLIGHT, () => new Uint8Array(bytes));
  const writer = new InOrderWriter(part, hasher, hooks);
  try {
    for (let index = manifest.offset / manifest.chunkSize; index < count; index++) {
      const frame = await channel.receiveChunkOrMessage(manifest.chunkSize + TAG_BYTES);
      if (frame.type !== "chunk") {
        throw new SfsError("TRUNCATED", `Stream ended after chunk ${index - 1} of ${count}`);
      }
      const into = buffers.next();
      // The sealed body is read by the opening alone: once it settles, the next frame reuses it.
      const opened = opener.open(frame.data, { into }).finally(() => recycleChunkBody(frame.data));
      writer.add(opened);
      if (writer.pending >= CHUNKS_IN_FLIGHT) await writer.writeOldest();
    }
    while (writer.pending > 0) await writer.writeOldest();
  } catch (err) {
    const failure = await writer.keepVerified(err);
    if (failure instanceof SfsError && failure.code === "CONNECTION_CLOSED") {
      // The connection ended, not the stream: a network failure worth a retry (exit 4), which
      // resumes from the verified prefix. A stream a sender ends early stays TRUNCATED.
      throw new SfsError(
        "CONNECTION_CLOSED",
        `Connection lost after ${part.written} of ${manifest.size} bytes`,
        { cause: failure },
      );
    }
    throw failure;
  }
  opener.finish();
  // Waits for the last updates; a failed one fails the digest.
  return await hasher.digest();
}

/**
 * Hashes and writes chunks as they open, oldest first, and records checkpoints along the way.
 */
class InOrderWriter {
  readonly #part: ChunkSink;
  readonly #hasher: Sha256Hasher;
  readonly #hooks: StreamHooks;
  readonly #inFlight: Promise<Bytes>[] = [];
  #lastCheckpoint: { bytes: number; at: number };
  #writing = true;

  constructor(part: ChunkSink, hasher: Sha256Hasher, hooks: StreamHooks) {
    this.#part = part;
    this.#hasher = hasher;
    this.#hooks = hooks;
    this.#lastCheckpoint = { bytes: part.written, at: performance.now() };
  }

  /** Chunks opening or opened but not yet written. */
  get pending(): number {
    return this.#inFlight.length;
  }

  /** Queues a chunk that is opening. */
  add(opened: Promise<Bytes>): void {
    // Failures surface in order through writeOldest; this stops an early one going unhandled.
    opened.catch(() => {});
    this.#inFlight.push(opened);
  }

  /** Waits for the oldest chunk to open, then hashes and writes it; its buffer is then free. */
  async writeOldest(): Promise<void> {
    try {
      const plaintext = await this.#inFlight.shift()!;
      this.#hasher.update(plaintext);
      this.#part.write(plaintext);
    } catch (err) {
      // After a bad chunk or a failed write nothing more may be appended: the part file must
      // stay exactly the verified prefix its length claims.
      this.#writing = false;
      throw err;
    }
    this.#hooks.onProgress?.(this.#part.written);
    this.#maybeCheckpoint();
  }

  /**
   * After reading stopped with `err` (the connection, or a frame that is not a chunk), writes
   * the chunks already received: they are verified in order (the opener fails every chunk after
   * a bad one), so they are kept for a resume. Returns the fault to report: one of them failing
   * came earlier in the stream than what stopped the reading; a dropped chunk shows first as the
   * next chunk failing to open under the dropped one's nonce, and only then as a short stream.
   */
  async keepVerified(err: unknown): Promise<unknown> {
    let failure: unknown = err;
    while (this.#writing && this.#inFlight.length > 0) {
      await this.writeOldest().catch((chunkFailure) => failure = chunkFailure);
    }
    await Promise.allSettled(this.#inFlight);
    return failure;
  }

  #maybeCheckpoint(): void {
    const now = performance.now();
    const last = this.#lastCheckpoint;
    if (
      (this.#part.written - last.bytes >= this.#hooks.checkpointBytes ||
        now - last.at >= this.#hooks.checkpointMs) && this.#part.startCheckpoint()
    ) {
      this.#lastCheckpoint = { bytes: this.#part.written, at: now };
    }
  }
}
