/**
 * Closing things that may already be closed. It sits in the bottom layer because both `wire/`
 * (frame deadlines close the transport) and `net/` (the listener drops connections) need it, and
 * `wire/` may not import `net/`.
 */

/** Anything that can be closed, such as a Deno.Conn or a frame transport. */
export interface Closable {
  close(): void;
}

/** Closes `target`, which may already be closed by the peer, by a deadline or by us. */
export function closeQuietly(target: Closable): void {
  try {
    target.close();
  } catch {
    // Already closed.
  }
}
