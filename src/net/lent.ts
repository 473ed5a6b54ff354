/**
 * A connection lent to a protocol layer that closes its transport when it is done with it, and
 * taken back intact: an index session that turns into a relayed byte pipe (docs/PROTOCOL.md §13.3)
 * ends its secure channel (freeing its keys) without closing the TCP connection under it.
 */
import { closeQuietly } from "../closable.ts";

/** The connection a {@link Lent} wraps: a Deno.Conn fits. */
export interface LendableConn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(data: Uint8Array): Promise<number>;
  close(): void;
}

/** Reads and writes go to the connection; close() closes it unless it was taken back. */
export class Lent<C extends LendableConn> {
  readonly #conn: C;
  #taken = false;

  constructor(conn: C) {
    this.#conn = conn;
  }

  /** Reads from the connection. */
  read(buffer: Uint8Array): Promise<number | null> {
    return this.#conn.read(buffer);
  }

  /** Writes to the connection. */
  write(data: Uint8Array): Promise<number> {
    return this.#conn.write(data);
  }

  /** Closes the connection, unless it was taken back (then the taker owns it). */
  close(): void {
    if (!this.#taken) closeQuietly(this.#conn);
  }

  /** Takes the connection back: later close() calls leave it open. */
  take(): C {
    this.#taken = true;
    return this.#conn;
  }
}
