/**
 * The relay's limits (docs/PROTOCOL.md §13.6) and the slots that enforce them: sessions in
 * total, per sharing user and per receiver address, each held from RELAY until the session ends.
 */
import { SfsError } from "../../errors.ts";
import { addressKey } from "./throttle.ts";

/** The relay's limits (§13.6). */
export interface RelayLimits {
  /** Relayed sessions at once, in total; beyond, BUSY. */
  readonly maxSessions: number;
  /**
   * Relayed sessions at once per sharing user (per address for an open code's sender without
   * an account); beyond, RATE_LIMITED.
   */
  readonly maxPerUser: number;
  /** Relayed sessions at once per receiver address (IPv6: per /64); beyond, RATE_LIMITED. */
  readonly maxPerAddress: number;
  /** How long a sender has to open its leg after RELAY_DIAL. */
  readonly pairingTimeoutMs: number;
  /** Silence both ways this long ends a session. */
  readonly idleTimeoutMs: number;
}

/** Defaults of {@link RelayLimits}: a small server relays a few dozen transfers at once. */
export const DEFAULT_RELAY_LIMITS: RelayLimits = {
  maxSessions: 64,
  maxPerUser: 8,
  maxPerAddress: 4,
  pairingTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
};

/** A slot in the limits, held from RELAY until the session ends. */
export interface RelayReservation {
  release(): void;
}

/** The relayed sessions held now, counted in total, per user and per address. */
export class RelaySlots {
  readonly #limits: RelayLimits;
  /** By owner: `user:ID`, or `address:KEY` for a code's sender without an account. */
  readonly #perUser = new Map<string, number>();
  readonly #perAddress = new Map<string, number>();
  #sessions = 0;

  constructor(limits: RelayLimits) {
    this.#limits = limits;
  }

  /** Relayed sessions held now (pairing or copying). */
  get sessions(): number {
    return this.#sessions;
  }

  /**
   * Takes a slot for a session of `owner`'s share (`user:ID` or `address:KEY`) asked for from
   * `host`: BUSY when the server relays all it may, RATE_LIMITED when that owner or that
   * address holds all theirs.
   */
  reserve(owner: string, host: string): RelayReservation {
    const address = addressKey(host);
    if (this.#sessions >= this.#limits.maxSessions) {
      throw new SfsError("BUSY", "The relay is at its session limit", {
        hint: "Try again in a moment",
      });
    }
    if ((this.#perUser.get(owner) ?? 0) >= this.#limits.maxPerUser) {
      throw new SfsError("RATE_LIMITED", "The sharing user has too many relayed transfers");
    }
    if ((this.#perAddress.get(address) ?? 0) >= this.#limits.maxPerAddress) {
      throw new SfsError("RATE_LIMITED", `Address "${address}" has too many relayed transfers`);
    }
    this.#sessions++;
    bump(this.#perUser, owner, 1);
    bump(this.#perAddress, address, 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#sessions--;
        bump(this.#perUser, owner, -1);
        bump(this.#perAddress, address, -1);
      },
    };
  }
}

/** Adds `by` to the count of `key`; a count that reaches zero is removed. */
export function bump<K>(counts: Map<K, number>, key: K, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next <= 0) counts.delete(key);
  else counts.set(key, next);
}
