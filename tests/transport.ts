/**
 * The transports the frame, channel and fuzz tests run the wire over: an in-memory connection
 * end and a loopback TCP pair. They live in tests/ rather than beside src/wire/ because wire/
 * stays pure (no Deno.*), and the TCP pair is not.
 */
import type { Bytes } from "../src/crypto/bytes.ts";
import { closeQuietly } from "../src/closable.ts";
import type { Transport } from "../src/wire/frame.ts";

/** How a {@link MemoryTransport} cuts reads and writes, to exercise partial I/O. */
export interface MemoryTransportOptions {
  /** Bytes a read returns at most. @default Infinity */
  maxRead?: number;
  /** Bytes a write accepts at most, like a busy socket. @default Infinity */
  maxWrite?: number;
}

/**
 * One end of an in-memory connection. Bytes fed in are read out in order; what it writes goes
 * to {@link onWrite} (another end's {@link feed}, or a tap) or, without one, is kept in
 * {@link written}. close() fails a pending read the way closing a Deno.Conn does.
 */
export class MemoryTransport implements Transport {
  /** What this end wrote, when nothing takes it through {@link onWrite}. */
  readonly written: Uint8Array[] = [];
  /** Receives what this end writes (each write's accepted bytes, copied). */
  onWrite?: (bytes: Bytes) => void;
  /** Told once when this end closes. */
  onClose: () => void = () => {};
  /** Makes every write fail, as on a broken connection. */
  failWrites = false;
  readonly #maxRead: number;
  readonly #maxWrite: number;
  readonly #inbox: Uint8Array[] = [];
  #ended = false;
  #closed = false;
  #wake?: () => void;

  constructor(options: MemoryTransportOptions = {}) {
    this.#maxRead = options.maxRead ?? Infinity;
    this.#maxWrite = options.maxWrite ?? Infinity;
  }

  /** Queues bytes for this end to read (ignored once it is closed or its input ended). */
  feed(bytes: Uint8Array): void {
    if (this.#closed || this.#ended || bytes.length === 0) return;
    this.#inbox.push(new Uint8Array(bytes));
    this.#wake?.();
  }

  /** Ends this end's input: reads return null once the inbox is empty. */
  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  /** True once close() was called. */
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
    const n = Math.min(head.length, buffer.length, this.#maxRead);
    buffer.set(head.subarray(0, n));
    if (n === head.length) this.#inbox.shift();
    else this.#inbox[0] = head.subarray(n);
    return n;
  }

  write(data: Uint8Array): Promise<number> {
    if (this.failWrites || this.#closed) return Promise.reject(new Error("Broken pipe"));
    const accepted = new Uint8Array(data.subarray(0, Math.min(data.length, this.#maxWrite)));
    if (this.onWrite) this.onWrite(accepted);
    else this.written.push(accepted);
    return Promise.resolve(accepted.length);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    this.onClose();
  }
}

/** A connected loopback TCP pair; disposing closes whatever is still open. */
export interface TcpPair extends AsyncDisposable {
  readonly client: Deno.TcpConn;
  readonly server: Deno.TcpConn;
}

/** Connects a client to a one-off listener on 127.0.0.1. */
export async function tcpPair(): Promise<TcpPair> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [client, server] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    listener.accept(),
  ]);
  return {
    client,
    server,
    [Symbol.asyncDispose]() {
      // Either end may already be closed by the test or by a deadline.
      closeQuietly(client);
      closeQuietly(server);
      return Promise.resolve();
    },
  };
}
