/**
 * Admission control for a listening side (sender or index server). Connections still in their
 * handshake are bounded separately from connections at work, and when too many are waiting the
 * oldest waiting one is dropped rather than the newest refused: a flood of silent connections
 * then only pushes out other silent connections, while an honest client, whose handshake takes
 * milliseconds, gets through.
 */
import { closeQuietly } from "./frame.ts";

/** Anything that can be closed, such as a Deno.Conn. */
export interface Closable {
  close(): void;
}

/** Limits for {@link Admission}. */
export interface AdmissionLimits {
  /** Connections allowed to be in their handshake at once. */
  maxPending: number;
  /** Connections allowed past the handshake at once. */
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

  /** Connections waiting in their handshake. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Connections past the handshake. */
  get active(): number {
    return this.#active.size;
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

  /** Moves a connection past its handshake; false when the active limit is reached. */
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
