/** One end of an in-memory connection, as a frame transport. */
import type { Bytes } from "../../src/crypto/bytes.ts";
import type { Transport } from "../../src/wire/frame.ts";

/** One end of an in-memory connection; closing it ends the other end's stream. */
export class PipeEnd implements Transport {
  /** Receives what this end writes; set by {@link connect}. */
  onWrite: (bytes: Bytes) => void = () => {};
  /** Told when this end closes. */
  onClose: () => void = () => {};
  readonly #inbox: Uint8Array[] = [];
  #ended = false;
  #closed = false;
  #wake?: () => void;

  /** Queues bytes for this end to read. */
  deliver(bytes: Uint8Array): void {
    if (this.#closed || this.#ended || bytes.length === 0) return;
    this.#inbox.push(bytes);
    this.#wake?.();
  }

  /** Ends this end's input: reads return null once the inbox is empty. */
  deliverEnd(): void {
    this.#ended = true;
    this.#wake?.();
  }

  get closed(): boolean {
    return this.#closed;
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#inbox.length === 0 && !this.#ended && !this.#closed) {
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    if (this.#closed) throw new Error("Interrupted: operation canceled");
    const head = this.#inbox[0];
    if (!head) return null;
    const n = Math.min(head.length, buffer.length);
    buffer.set(head.subarray(0, n));
    if (n === head.length) this.#inbox.shift();
    else this.#inbox[0] = head.subarray(n);
    return n;
  }

  write(data: Uint8Array): Promise<number> {
    if (this.#closed) return Promise.reject(new Error("Broken pipe"));
    this.onWrite(new Uint8Array(data));
    return Promise.resolve(data.length);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    this.onClose();
  }
}
