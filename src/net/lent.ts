/**
 * A connection lent to a protocol layer that closes its transport when it is done with it, and
 * taken back intact: an index session that turns into a relayed byte pipe (docs/PROTOCOL.md §13.3)
 * ends its secure channel (freeing its keys) without closing the TCP connection under it.
 */
import { closeQuietly } from "../closable.ts";
import { SfsError } from "../errors.ts";

/** The connection a {@link Lent} wraps: a Deno.Conn fits. */
export interface LendableConn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(data: Uint8Array): Promise<number>;
  close(): void;
}

/**
 * Reads and writes go to the connection; close() closes it unless it was taken back. Bytes
 * already read from the connection to look at them (`prefix`) are read again first.
 */
export class Lent<C extends LendableConn> {
  readonly #conn: C;
  #prefix: Uint8Array;
  #taken = false;

  constructor(conn: C, options: { prefix?: Uint8Array } = {}) {
    this.#conn = conn;
    this.#prefix = options.prefix ?? new Uint8Array();
  }

  /** Reads the prefix left, then from the connection. */
  read(buffer: Uint8Array): Promise<number | null> {
    if (this.#prefix.length === 0) return this.#conn.read(buffer);
    const n = Math.min(buffer.length, this.#prefix.length);
    buffer.set(this.#prefix.subarray(0, n));
    this.#prefix = this.#prefix.subarray(n);
    return Promise.resolve(n);
  }

  /** Writes to the connection. */
  write(data: Uint8Array): Promise<number> {
    return this.#conn.write(data);
  }

  /** Closes the connection, unless it was taken back (then the taker owns it). */
  close(): void {
    if (!this.#taken) closeQuietly(this.#conn);
  }

  /**
   * Takes the connection back: later close() calls leave it open. Throws if part of the prefix
   * was never read (it would be lost).
   */
  take(): C {
    if (this.#prefix.length > 0) {
      throw new SfsError("INTERNAL", "The connection's prefix was not read");
    }
    this.#taken = true;
    return this.#conn;
  }
}
