/**
 * One-time pairing tokens (docs/PROTOCOL.md §13.5): a RELAY waits for the sender's leg that
 * presents its token; a leg whose token nobody waits for (used, late, or made up) is refused.
 */
import { SfsError } from "../../errors.ts";
import { type Bytes, toHex } from "../../crypto/bytes.ts";
import type { SpliceEnd } from "../../net/splice.ts";
import { RELAY_TOKEN_BYTES } from "../../wire/index_messages.ts";

/** The sender's leg, once it joined. */
export type RelayLeg = SpliceEnd;

/** The RELAYs waiting for a sender's leg, by pairing token. */
export class Pairings {
  readonly #pending = new Map<string, (leg: RelayLeg) => void>();

  /**
   * Makes a random pairing token, has `dial` ask the sender to come with it, and waits for its
   * leg for at most `timeoutMs` or until `stop` aborts (CONNECTION_FAILED). The token is valid
   * for this wait only.
   */
  async wait(
    dial: (token: Bytes) => Promise<void>,
    how: { timeoutMs: number; stop: AbortSignal },
  ): Promise<RelayLeg> {
    const token = crypto.getRandomValues(new Uint8Array(RELAY_TOKEN_BYTES));
    const key = toHex(token);
    let fail = () => {};
    const joined = new Promise<RelayLeg>((resolve, reject) => {
      this.#pending.set(key, resolve);
      fail = () =>
        reject(
          new SfsError("CONNECTION_FAILED", "The sender did not reach the relay in time", {
            hint: "The sender may have gone offline; try again later",
          }),
        );
    });
    const timer = setTimeout(fail, how.timeoutMs);
    how.stop.addEventListener("abort", fail, { once: true });
    if (how.stop.aborted) fail();
    try {
      // Raced with the wait, so a dial request that hangs (a sharer not reading, a database not
      // answering) is bounded by the timeout too, and a timeout is never left unhandled.
      await Promise.race([dial(token), joined]);
      return await joined;
    } finally {
      clearTimeout(timer);
      how.stop.removeEventListener("abort", fail);
      // One use only: a leg arriving after this point is refused (§13.5).
      this.#pending.delete(key);
    }
  }

  /** Hands a sender's leg to the wait for `token`; false (refuse it) if none is waiting. */
  join(token: Bytes, leg: RelayLeg): boolean {
    const key = toHex(token);
    const resolve = this.#pending.get(key);
    if (resolve === undefined) return false;
    this.#pending.delete(key);
    resolve(leg);
    return true;
  }
}
