/**
 * The sender's inbox of a short code (docs/PROTOCOL.md §14.5): the server pushes the receiver's
 * payloads as CODE_MAIL on the sharing connection, at any time between replies; they wait here,
 * per nameplate, until the code's exchange asks for the next one.
 */
import { SfsError } from "../../errors.ts";
import type { Bytes } from "../../crypto/bytes.ts";
import type { CodeMail } from "../../wire/index_messages.ts";

/** At most this many payloads wait per nameplate: the flow has two from the receiver. */
const MAX_WAITING = 2;

/** The one waiting {@link CodeMailbox.next} of a nameplate. */
interface Taker {
  take(payload: Bytes): void;
  /** Ends the wait: the nameplate was forgotten (CODE_UNKNOWN), or `err`. */
  drop(err?: SfsError): void;
}

/** Holds pushed payloads until they are taken; one nameplate's waiter at a time. */
export class CodeMailbox {
  readonly #waiting = new Map<number, Bytes[]>();
  readonly #takers = new Map<number, Taker>();
  readonly #open = new Set<number>();
  #failed: SfsError | undefined;

  /** Starts accepting payloads for `nameplate`; pushes for other nameplates are dropped. */
  expect(nameplate: number): void {
    this.#open.add(nameplate);
  }

  /** Stops accepting payloads for `nameplate`, forgets what waits, and fails a waiting next(). */
  forget(nameplate: number): void {
    this.#open.delete(nameplate);
    this.#waiting.delete(nameplate);
    const taker = this.#takers.get(nameplate);
    this.#takers.delete(nameplate);
    taker?.drop();
  }

  /**
   * The connection the codes live on is lost (the server burns them with it): every wait, now
   * and later, rejects with `error`.
   */
  readonly fail = (error: SfsError): void => {
    this.#failed ??= error;
    for (const taker of this.#takers.values()) taker.drop(this.#failed);
    this.#takers.clear();
  };

  /** Takes a pushed CODE_MAIL (the sharing session's `onCodeMail`). */
  readonly put = (mail: CodeMail): void => {
    if (!this.#open.has(mail.nameplate)) return;
    const taker = this.#takers.get(mail.nameplate);
    if (taker !== undefined) {
      this.#takers.delete(mail.nameplate);
      return taker.take(mail.payload);
    }
    const queue = this.#waiting.get(mail.nameplate) ?? [];
    // A server that pushes more than the flow has is ignored beyond it.
    if (queue.length < MAX_WAITING) this.#waiting.set(mail.nameplate, [...queue, mail.payload]);
  };

  /**
   * The next payload for `nameplate`. Rejects with the signal's reason when `signal` aborts
   * first (the caller's deadline or Ctrl-C), CODE_UNKNOWN when the nameplate is forgotten
   * meanwhile, the error given to {@link fail} once the connection is lost, or INTERNAL when
   * another call already waits.
   */
  next(nameplate: number, signal: AbortSignal): Promise<Bytes> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    const queue = this.#waiting.get(nameplate);
    if (queue !== undefined && queue.length > 0) return Promise.resolve(queue.shift()!);
    if (this.#takers.has(nameplate)) {
      return Promise.reject(new SfsError("INTERNAL", "Two waits for one nameplate"));
    }
    return new Promise((resolve, reject) => {
      const stop = () => {
        this.#takers.delete(nameplate);
        reject(signal.reason);
      };
      if (signal.aborted) return stop();
      signal.addEventListener("abort", stop, { once: true });
      this.#takers.set(nameplate, {
        take: (payload) => {
          signal.removeEventListener("abort", stop);
          resolve(payload);
        },
        drop: (err = new SfsError("CODE_UNKNOWN", "The code was given up")) => {
          signal.removeEventListener("abort", stop);
          reject(err);
        },
      });
    });
  }
}
