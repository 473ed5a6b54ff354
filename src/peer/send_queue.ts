/**
 * The sending end of a chunk stream (docs/PROTOCOL.md §7.2), shared by a file share
 * (file_stream.ts) and a tree's file streams (tree_stream.ts): sealed chunks in flight, oldest
 * first, and the buffers they are read and sealed into.
 *
 * @module
 */
import type { Bytes } from "../crypto/bytes.ts";
import { TAG_BYTES } from "../crypto/stream.ts";
import type { Channel } from "../wire/channel.ts";
import { ChunkBuffers } from "./buffer_pool.ts";
import { CHUNKS_IN_FLIGHT } from "./pipelining.ts";

/**
 * Sealed chunks in flight, oldest first: pushing waits for the oldest to be sent once the queue
 * is full, so memory is bounded by backpressure whatever the files.
 */
export class SendQueue {
  readonly #channel: Channel;
  readonly #onProgress: ((sentBytes: number) => void) | undefined;
  readonly #inFlight: Promise<Bytes>[] = [];
  /**
   * The plaintext and frame of each chunk, reused in turn (across files too): a chunk's pair
   * comes back {@link CHUNKS_IN_FLIGHT} chunks later, when push() has sent it (it keeps fewer in
   * flight). A pushed promise must settle only once nothing reads the pair any more.
   */
  readonly #buffers: ChunkBuffers;
  /** Payload bytes sent through this queue. */
  sent = 0;

  constructor(channel: Channel, chunkSize: number, onProgress?: (sentBytes: number) => void) {
    this.#channel = channel;
    this.#buffers = new ChunkBuffers(CHUNKS_IN_FLIGHT, chunkSize);
    this.#onProgress = onProgress;
  }

  /** The buffers to read and seal the next chunk into (sealed with room for the frame header). */
  nextBuffers(): { plaintext: Bytes; frame: Bytes } {
    return this.#buffers.next();
  }

  /** Queues a chunk being sealed into its frame; sends the oldest once the queue is full. */
  async push(sealed: Promise<Bytes>): Promise<void> {
    this.#inFlight.push(sealed);
    if (this.#inFlight.length >= CHUNKS_IN_FLIGHT) await this.#sendOldest();
  }

  /** Sends every chunk still queued. */
  async drain(): Promise<void> {
    while (this.#inFlight.length > 0) await this.#sendOldest();
  }

  /** Waits for every seal still running (after a failure), then frees the buffers. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.#inFlight);
    this.#buffers.release();
  }

  async #sendOldest(): Promise<void> {
    const sealed = await this.#inFlight.shift()!;
    await this.#channel.sendChunk(sealed);
    this.sent += sealed.length - TAG_BYTES;
    this.#onProgress?.(this.sent);
  }
}
