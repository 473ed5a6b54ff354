/**
 * A fixed set of equal buffers handed out and given back, so a stream reuses a few chunk
 * buffers instead of allocating two per chunk (docs/PERFORMANCE.md). Its size bounds memory,
 * and waiting for a free buffer is the backpressure on whatever still holds one.
 */
import { type Bytes, release } from "../crypto/bytes.ts";
import { TAG_BYTES } from "../crypto/stream.ts";
import { frameBody, releaseFrameBody } from "../wire/frame.ts";

/** `count` buffers of `bytes` bytes, made at the first take. */
export class BufferPool {
  readonly #bytes: number;
  #unmade: number;
  readonly #free: Bytes[] = [];
  readonly #waiting: ((buffer: Bytes) => void)[] = [];

  constructor(count: number, bytes: number) {
    this.#unmade = count;
    this.#bytes = bytes;
  }

  /** A free buffer; waits for one to come back when all are in use. */
  take(): Promise<Bytes> {
    const free = this.#free.pop();
    if (free) return Promise.resolve(free);
    if (this.#unmade > 0) {
      this.#unmade--;
      return Promise.resolve(new Uint8Array(this.#bytes));
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Gives back `buffer`, which nothing reads or writes any more. */
  giveBack(buffer: Bytes): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter(buffer);
    else this.#free.push(buffer);
  }
}

/**
 * A sender's plaintext and frame buffers, one pair per chunk in flight, reused in turn, so
 * sending allocates nothing per chunk (no garbage for V8's young generation, no page faults for
 * fresh memory). The n-th chunk gets the pair of the (n - count)-th: the caller must keep at most
 * `count` chunks in flight, i.e. await a chunk's seal and its send (its frame
 * handed to the socket) before it takes the pair of the chunk `count` later (sender.ts
 * streamChunks does).
 */
export class ChunkBuffers {
  readonly #count: number;
  readonly #bytes: number;
  readonly #pairs: { plaintext: Bytes; frame: Bytes }[] = [];
  #taken = 0;

  /** `count` pairs of a `bytes` plaintext and a frame body (frame.ts) for its sealed chunk. */
  constructor(count: number, bytes: number) {
    this.#count = count;
    this.#bytes = bytes;
  }

  /** The pair for the next chunk, made on first use (a small file needs only one). */
  next(): { plaintext: Bytes; frame: Bytes } {
    const slot = this.#taken++ % this.#count;
    this.#pairs[slot] ??= {
      plaintext: new Uint8Array(this.#bytes),
      frame: frameBody(this.#bytes + TAG_BYTES),
    };
    return this.#pairs[slot];
  }

  /** Frees every buffer now rather than at the next garbage collection. */
  release(): void {
    for (const { plaintext, frame } of this.#pairs.splice(0)) {
      release(plaintext);
      releaseFrameBody(frame);
    }
  }
}
