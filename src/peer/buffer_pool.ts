/**
 * Chunk buffers reused in turn, so a stream allocates nothing per chunk (no garbage for V8's young
 * generation, no page faults for fresh memory; docs/PERFORMANCE.md). How many there are bounds
 * memory; the stream's own backpressure (chunks in flight) is what keeps them free for reuse.
 */
import { type Bytes, release } from "../crypto/bytes.ts";
import { TAG_BYTES } from "../crypto/stream.ts";
import { frameBody, releaseFrameBody } from "../wire/frame.ts";

/**
 * `count` items, each made on first use (a small file needs only one), handed out in turn: the
 * n-th {@link next} gets the item of the (n - count)-th. The caller must keep at most `count` in
 * use, i.e. be done with an item before it takes the one `count` later.
 */
export class Ring<T> {
  readonly #count: number;
  readonly #make: () => T;
  readonly #items: T[] = [];
  #taken = 0;

  constructor(count: number, make: () => T) {
    this.#count = count;
    this.#make = make;
  }

  /** The item for the next use. */
  next(): T {
    const slot = this.#taken++ % this.#count;
    return this.#items[slot] ??= this.#make();
  }

  /** Takes the items made so far out of the ring (to free them); it starts empty again. */
  takeAll(): T[] {
    this.#taken = 0;
    return this.#items.splice(0);
  }
}

/**
 * A sender's plaintext and frame buffers, one pair per chunk in flight (sender.ts and send_queue.ts
 * await a chunk's seal and its send before they take the pair of the chunk `count` later).
 */
export class ChunkBuffers {
  readonly #pairs: Ring<{ plaintext: Bytes; frame: Bytes }>;

  /** `count` pairs of a `bytes` plaintext and a frame body (frame.ts) for its sealed chunk. */
  constructor(count: number, bytes: number) {
    this.#pairs = new Ring(count, () => ({
      plaintext: new Uint8Array(bytes),
      frame: frameBody(bytes + TAG_BYTES),
    }));
  }

  /** The pair for the next chunk. */
  next(): { plaintext: Bytes; frame: Bytes } {
    return this.#pairs.next();
  }

  /** Frees every buffer now rather than at the next garbage collection. */
  release(): void {
    for (const { plaintext, frame } of this.#pairs.takeAll()) {
      release(plaintext);
      releaseFrameBody(frame);
    }
  }
}
