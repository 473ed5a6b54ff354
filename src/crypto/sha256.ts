/**
 * Incremental SHA-256 for whole-file hashes, behind one small interface: OpenSSL's where libcrypto
 * is loaded (sha256_openssl.ts), and the same bytes hashed everywhere else.
 *
 * A small job never needs a library: {@link BufferedSha256} keeps the bytes (at most
 * {@link BUFFERED_SHA256_MAX} of them) and digests them with WebCrypto in one call, so a 1 KiB
 * download loads neither libcrypto nor `node:crypto`. A large job without libcrypto uses
 * `node:crypto` (sha256_node.ts), loaded only then.
 */
import { SfsError } from "../errors.ts";
import type { Bytes } from "./bytes.ts";

/** Bytes of a SHA-256 digest. */
export const SHA256_BYTES = 32;
/** Most bytes a {@link BufferedSha256} takes in: a small job, kept whole in memory. */
export const BUFFERED_SHA256_MAX = 1024 * 1024;

/** An incremental SHA-256, on the calling thread. */
export interface Sha256Hasher {
  /** Takes in `data` now; `data` may change as soon as this returns. */
  update(data: Uint8Array): void;
  /** The digest of everything taken in; the hasher is then spent. */
  digest(): Promise<Bytes>;
  /**
   * A second hasher that has taken in what this one has; the two go on independently (a
   * resumable send keeps such states, content_hash.ts).
   */
  copy(): Sha256Hasher;
}

/** Makes a hasher for a job of `bytes` bytes in all (the total, when known). */
export type Sha256Factory = (job: { bytes?: number }) => Promise<Sha256Hasher>;

let factory: Sha256Factory = portableSha256;

/**
 * Sets how {@link createSha256} makes hashers; the entry point calls this once, with OpenSSL's
 * when libcrypto may be loaded (src/native/libcrypto.ts).
 */
export function setSha256Factory(make: Sha256Factory): void {
  factory = make;
}

/** A hasher suited to a job of `job.bytes` bytes (unknown: a large one). */
export function createSha256(job: { bytes?: number } = {}): Promise<Sha256Hasher> {
  return factory(job);
}

/** Hashers that need no library: buffered for a small job, `node:crypto` for the rest. */
export async function portableSha256(job: { bytes?: number }): Promise<Sha256Hasher> {
  if (isSmallHashJob(job)) return new BufferedSha256();
  const { NodeSha256 } = await import("./sha256_node.ts");
  return new NodeSha256();
}

/** True when a job of `job.bytes` fits a {@link BufferedSha256}. */
export function isSmallHashJob(job: { bytes?: number }): boolean {
  return job.bytes !== undefined && job.bytes <= BUFFERED_SHA256_MAX;
}

/**
 * SHA-256 of at most {@link BUFFERED_SHA256_MAX} bytes: kept, then digested by WebCrypto in one
 * call. Nothing to load, which is what a small job needs; more bytes are refused (INTERNAL),
 * never silently kept.
 */
export class BufferedSha256 implements Sha256Hasher {
  #parts: Bytes[] = [];
  #length = 0;
  #spent = false;

  update(data: Uint8Array): void {
    if (this.#spent) throw spentError();
    if (this.#length + data.length > BUFFERED_SHA256_MAX) {
      throw new SfsError("INTERNAL", `Buffered SHA-256 takes at most ${BUFFERED_SHA256_MAX} bytes`);
    }
    this.#parts.push(data.slice());
    this.#length += data.length;
  }

  copy(): BufferedSha256 {
    if (this.#spent) throw spentError();
    const twin = new BufferedSha256();
    // The parts are never changed once taken in: the twin may share them.
    twin.#parts = [...this.#parts];
    twin.#length = this.#length;
    return twin;
  }

  async digest(): Promise<Bytes> {
    if (this.#spent) throw spentError();
    this.#spent = true;
    const whole = new Uint8Array(this.#length);
    let offset = 0;
    for (const part of this.#parts) {
      whole.set(part, offset);
      offset += part.length;
    }
    this.#parts = [];
    return new Uint8Array(await crypto.subtle.digest("SHA-256", whole));
  }
}

/** A hasher used after its digest. */
export function spentError(): SfsError {
  return new SfsError("INTERNAL", "SHA-256 hasher used after its digest");
}
