/**
 * The payload stream (docs/PROTOCOL.md §7): the file cut into fixed-size chunks, each sealed with
 * AES-256-GCM under nonce = 88-bit big-endian chunk index ‖ 8-bit last flag. Because the index is
 * in the nonce, a reordered, repeated or dropped chunk fails to open; because the last flag is in
 * the nonce, a cut stream cannot pass a middle chunk off as its end, nor extend past it.
 */
import { isSfsError, SfsError } from "../errors.ts";
import { AeadKey, NONCE_BYTES, TAG_BYTES } from "./aead.ts";
import type { Bytes } from "./bytes.ts";

/** Bytes added to each chunk by the GCM tag. */
export { TAG_BYTES };
/** Default chunk size, chosen by measurement (docs/PERFORMANCE.md). */
export const DEFAULT_CHUNK_SIZE = 256 * 1024;
/** Smallest and largest chunk size a receiver accepts. */
export const MIN_CHUNK_SIZE = 16 * 1024;
export const MAX_CHUNK_SIZE = 4 * 1024 * 1024;

/** The 12-byte nonce of chunk `index`. */
export function chunkNonce(index: number, last: boolean): Bytes {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new SfsError("INTERNAL", `Chunk index ${index} out of range`);
  }
  const nonce = new Uint8Array(NONCE_BYTES);
  const view = new DataView(nonce.buffer);
  // 88 bits of index: the top 3 bytes stay zero since index < 2^53.
  view.setBigUint64(3, BigInt(index));
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** Number of chunks a file of `size` bytes takes; an empty file is one empty last chunk. */
export function chunkCount(size: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(size / chunkSize));
}

/** Plaintext length of chunk `index` of a file of `size` bytes. */
export function chunkLength(size: number, chunkSize: number, index: number): number {
  return Math.min(chunkSize, size - index * chunkSize);
}

/** Options of {@link sealChunk} and {@link openChunk}. */
export interface ChunkOptions {
  /**
   * Buffer to write the result into instead of allocating one (see {@link AeadKey.open}); the
   * result is a view of its first bytes. Not to be reused before the promise settles.
   * @default a new buffer
   */
  into?: Bytes;
}

/** Seals chunk `index` of the stream. */
export async function sealChunk(
  key: AeadKey,
  index: number,
  last: boolean,
  plaintext: Bytes,
  options: ChunkOptions = {},
): Promise<Bytes> {
  return await key.seal(chunkNonce(index, last), plaintext, options);
}

/**
 * Opens chunk `index`; throws CHUNK_AUTH_FAILED (and reveals nothing else) when it fails. On
 * failure nothing unauthenticated is left in `options.into`.
 */
export async function openChunk(
  key: AeadKey,
  index: number,
  last: boolean,
  ciphertext: Bytes,
  options: ChunkOptions = {},
): Promise<Bytes> {
  const nonce = chunkNonce(index, last);
  try {
    return await key.open(nonce, ciphertext, options);
  } catch (err) {
    if (!isSfsError(err, "DECRYPT_FAILED")) throw err;
    throw new SfsError("CHUNK_AUTH_FAILED", `Cannot open chunk ${index}: authentication failed`);
  }
}

/**
 * Opens a stream of chunks in order for a file of known size, starting at chunk `first` (a
 * resumed transfer). Errors are sticky: once a chunk fails, every later call fails the same way,
 * so a caller cannot skip a bad chunk by accident.
 */
export class StreamOpener {
  readonly #key: AeadKey;
  readonly #size: number;
  readonly #chunkSize: number;
  readonly #count: number;
  #next: number;
  #error?: SfsError;
  /** Settles when the latest chunk handed to open() settled; rejects if any of them failed. */
  #previous: Promise<void> = Promise.resolve();

  /** The opener does not own `key`: whoever made it disposes it (the channel, on close). */
  constructor(key: AeadKey, options: { size: number; chunkSize: number; first?: number }) {
    this.#key = key;
    this.#size = options.size;
    this.#chunkSize = options.chunkSize;
    this.#count = chunkCount(options.size, options.chunkSize);
    this.#next = options.first ?? 0;
    // A small stream need not load a faster library than it is worth (AeadKey.expectBytes).
    key.expectBytes(Math.max(0, options.size - this.#next * options.chunkSize));
  }

  /** True once every chunk has been handed to {@link open}. */
  get done(): boolean {
    return this.#next >= this.#count;
  }

  /** Index of the next chunk expected. */
  get nextIndex(): number {
    return this.#next;
  }

  /**
   * Opens the next chunk; its length must be exactly what the manifest size implies. Several
   * calls may be in flight: each takes its index before the first await, decrypts at once, and
   * settles only after the call before it did — failing if that one failed. So a caller that
   * awaits results in order can never get chunk i + 1 after chunk i failed, even though their
   * decryptions ran side by side. (With the OpenSSL backend each decryption runs inside this
   * call, synchronously; the ordering still holds.) `options.into` receives the plaintext.
   */
  open(ciphertext: Bytes, options: ChunkOptions = {}): Promise<Bytes> {
    const previous = this.#previous;
    const opened = this.#openOne(ciphertext, options);
    const result = (async () => {
      const [before, self] = await Promise.allSettled([previous, opened]);
      // The earliest failure in stream order is the one reported, by this and every later chunk.
      if (before.status === "rejected") throw before.reason;
      if (self.status === "rejected") throw self.reason;
      return self.value;
    })();
    this.#previous = result.then(() => {});
    // The chain only orders results; the caller observes `result`, so silence this copy.
    this.#previous.catch(() => {});
    return result;
  }

  async #openOne(ciphertext: Bytes, options: ChunkOptions): Promise<Bytes> {
    if (this.#error) throw this.#error;
    const index = this.#next++;
    try {
      if (index >= this.#count) {
        throw new SfsError("TRAILING_DATA", "Data after the last chunk");
      }
      const expected = chunkLength(this.#size, this.#chunkSize, index) + TAG_BYTES;
      if (ciphertext.length !== expected) {
        throw new SfsError(
          "CHUNK_AUTH_FAILED",
          `Chunk ${index} has ${ciphertext.length} bytes, expected ${expected}`,
        );
      }
      return await openChunk(this.#key, index, index === this.#count - 1, ciphertext, options);
    } catch (err) {
      this.#error ??= err instanceof SfsError
        ? err
        : new SfsError("CHUNK_AUTH_FAILED", "Cannot open chunk", { cause: err });
      throw this.#error;
    }
  }

  /** Throws TRUNCATED unless the last chunk was opened (a stream must not just stop). */
  finish(): void {
    if (this.#error) throw this.#error;
    if (!this.done) {
      this.#error = new SfsError(
        "TRUNCATED",
        `Stream ended after chunk ${this.#next - 1} of ${this.#count}`,
      );
      throw this.#error;
    }
  }
}
