/**
 * Relayed sessions once paired (docs/PROTOCOL.md §13.3): the two legs wait here until the server
 * answered the RELAY, then are copied byte for byte, and each session is logged with the bytes
 * its sharing user has had relayed since the server started. Nothing here parses a byte of a
 * relayed session: it only counts them.
 */
import { splice } from "../../net/splice.ts";
import type { LogFields } from "./handlers_context.ts";
import { bump, type RelayReservation } from "./relay_limits.ts";
import type { RelayLeg } from "./relay_pairing.ts";

/** Two legs paired by a RELAY, waiting for the server to answer OK and start copying. */
export interface RelayHandover {
  readonly sender: RelayLeg;
  readonly reservation: RelayReservation;
  /** What the session counts against: `user:ID`, or `address:KEY` for a code's sender. */
  readonly owner: string;
  /** The sharing user's name, for the log; empty for a code's sender without an account. */
  readonly username: string;
  readonly fileId: string;
  readonly address: string;
}

/** The paired legs waiting for their connection's OK, and the copying of relayed sessions. */
export class RelaySplices {
  readonly #log: (event: string, fields: LogFields) => void;
  readonly #handovers = new WeakMap<object, RelayHandover>();
  /** Bytes relayed for each owner since the server started (logged with each session). */
  readonly #bytesPerUser = new Map<string, number>();

  constructor(log: (event: string, fields: LogFields) => void) {
    this.#log = log;
  }

  /** Records the paired legs of a connection until the server answered its RELAY. */
  handOver(connection: object, handover: RelayHandover): void {
    this.#handovers.set(connection, handover);
  }

  /** The handover of `connection`, once: the server then splices instead of reading requests. */
  takeHandover(connection: object): RelayHandover | undefined {
    const handover = this.#handovers.get(connection);
    this.#handovers.delete(connection);
    return handover;
  }

  /** Copies between the receiver's connection and the sender's leg, then logs the session. */
  async run(
    receiver: RelayLeg,
    handover: RelayHandover,
    how: { idleTimeoutMs: number; signal: AbortSignal },
  ): Promise<void> {
    const started = Date.now();
    const fields = {
      user: handover.username || undefined,
      // A code's sender without an account is named by its address instead (§14.5).
      sender: handover.username === "" ? handover.owner : undefined,
      id: handover.fileId,
      address: handover.address,
    };
    this.#log("relay_start", fields);
    try {
      const result = await splice(receiver, handover.sender, how);
      const bytes = result.aToB + result.bToA;
      bump(this.#bytesPerUser, handover.owner, bytes);
      this.#log("relay_end", {
        ...fields,
        toSender: result.aToB,
        toReceiver: result.bToA,
        bytes,
        userBytes: this.#bytesPerUser.get(handover.owner) ?? 0,
        ms: Date.now() - started,
        reason: result.reason,
      });
    } finally {
      handover.reservation.release();
    }
  }
}
