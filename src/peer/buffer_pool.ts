/**
 * A fixed set of equal buffers handed out and given back, so a stream reuses a few chunk
 * buffers instead of allocating two per chunk (docs/PERFORMANCE.md). Its size bounds memory,
 * and waiting for a free buffer is the backpressure on whatever still holds one.
 */
import type { Bytes } from "../crypto/bytes.ts";

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

  /**
   * Gives `buffer` back once `done` settles: whatever reads or writes it must be finished
   * then. If `done` fails, the buffer is not given back (the stream is failing anyway, and a
   * buffer whose use failed may still be in use).
   */
  giveBackAfter(done: Promise<unknown>, buffer: Bytes): void {
    done.then(() => this.#giveBack(buffer), () => {});
  }

  #giveBack(buffer: Bytes): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter(buffer);
    else this.#free.push(buffer);
  }
}
