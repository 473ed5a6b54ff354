/**
 * Admission control for a listening side (sender or index server). Connections that have not yet
 * proved who they are are bounded separately from connections at work, and when too many are
 * waiting the oldest waiting one is dropped rather than the newest refused: a flood of silent
 * connections then only pushes out other silent connections, while an honest client, whose
 * handshake takes milliseconds, gets through.
 *
 * A HELLO names no one, and proves nothing. The proof comes with the peer's signed handshake and
 * first request (docs/PROTOCOL.md §6.7). So a connection stays pending until that request
 * arrived, and only then may take one of the slots at work; otherwise a few dozen HELLOs would
 * hold every slot and lock the real key holder out.
 */
import { type Closable, closeQuietly } from "../closable.ts";

/** Limits for {@link Admission}. */
export interface AdmissionLimits {
  /** Connections allowed at once before they proved their keys. */
  maxPending: number;
  /** Connections allowed at work (keys proved) at once. */
  maxActive: number;
}

/** Tracks connections through the pending and active stages. */
export class Admission<C extends Closable> {
  readonly #limits: AdmissionLimits;
  // A Set iterates in insertion order, so its first entry is the oldest waiting connection.
  readonly #pending = new Set<C>();
  readonly #active = new Set<C>();

  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
  }

  /** Connections that have not proved their keys yet. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Connections at work. */
  get active(): number {
    return this.#active.size;
  }

  /**
   * True when every slot at work is taken, so a new peer would be refused at promotion anyway:
   * a listener can then say BUSY during the handshake, before spending an RSA operation on it.
   */
  get full(): boolean {
    return this.#active.size >= this.#limits.maxActive;
  }

  /** Takes a new connection in as pending, dropping the oldest pending one if over the limit. */
  admit(conn: C): void {
    while (this.#pending.size >= this.#limits.maxPending) {
      const oldest = this.#pending.values().next().value as C;
      this.#pending.delete(oldest);
      closeQuietly(oldest);
    }
    this.#pending.add(conn);
  }

  /**
   * Moves a connection to work once it proved its keys (its first sealed record opened); false
   * when the active limit is reached. Either way it no longer counts as pending.
   */
  promote(conn: C): boolean {
    this.#pending.delete(conn);
    if (this.#active.size >= this.#limits.maxActive) return false;
    this.#active.add(conn);
    return true;
  }

  /** Forgets a connection, whatever its stage. */
  release(conn: C): void {
    this.#pending.delete(conn);
    this.#active.delete(conn);
  }

  /** Closes every connection (shutdown). */
  closeAll(): void {
    for (const conn of [...this.#pending, ...this.#active]) closeQuietly(conn);
    this.#pending.clear();
    this.#active.clear();
  }
}
