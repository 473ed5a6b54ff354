/**
 * The relay's bookkeeping (docs/PROTOCOL.md §13): which sharing connections registered a relay
 * token for which file, the one-time pairing tokens waiting for a sender's leg, the limits, and
 * the sessions being spliced. The handler (handlers_relay.ts) decides who may be relayed; the
 * accept loop (server.ts) hands the two connections over once paired. Nothing here parses a byte
 * of a relayed session: it only counts them.
 */
import { SfsError } from "../../errors.ts";
import { type Bytes, constantTimeEqual, toHex } from "../../crypto/bytes.ts";
import { splice, type SpliceEnd } from "../../net/splice.ts";
import { RELAY_TOKEN_BYTES } from "../../wire/index_messages.ts";
import { addressKey } from "./throttle.ts";
import type { LogFields } from "./handlers_context.ts";

/** The relay's limits (§13.6). */
export interface RelayLimits {
  /** Relayed sessions at once, in total; beyond, BUSY. */
  readonly maxSessions: number;
  /** Relayed sessions at once per sharing user; beyond, RATE_LIMITED. */
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

/** A sharing connection as the relay sees it. */
export interface RelaySharer {
  /** The sharing user (the account whose share is served). */
  readonly userId: number;
  /** Sends RELAY_DIAL on the sharing connection; `receiver` is a username or empty. */
  push(fileId: Bytes, pairingToken: Bytes, receiver: string): Promise<void>;
}

/** The sender's leg, once it joined. */
export type RelayLeg = SpliceEnd;

/** A slot in the limits, held from RELAY until the session ends. */
export interface RelayReservation {
  release(): void;
}

/** Two legs paired by a RELAY, waiting for the server to answer OK and start copying. */
export interface RelayHandover {
  readonly sender: RelayLeg;
  readonly reservation: RelayReservation;
  readonly userId: number;
  /** The sharing user's name, for the log. */
  readonly username: string;
  readonly fileId: string;
  readonly address: string;
}

/** Options of {@link RelayBroker}. */
export interface RelayBrokerOptions {
  /** False for `sfs server --no-relay`: every RELAY is RELAY_OFF. @default true */
  enabled?: boolean;
  /** Limits; missing fields take {@link DEFAULT_RELAY_LIMITS}. */
  limits?: Partial<RelayLimits>;
  /** Receives `relay_start` and `relay_end` entries. */
  log?: (event: string, fields: LogFields) => void;
}

interface Registration {
  readonly sharer: RelaySharer;
  readonly token: Bytes;
  /** Registration order: the most recent candidate wins. */
  readonly order: number;
}

interface Pending {
  readonly resolve: (leg: RelayLeg) => void;
}

/** Relay state of one index server. */
export class RelayBroker {
  /** The limits in force. */
  readonly limits: RelayLimits;
  readonly #enabled: boolean;
  readonly #log: (event: string, fields: LogFields) => void;
  /** Registrations by file id (hex), then by sharer. */
  readonly #files = new Map<string, Map<RelaySharer, Registration>>();
  readonly #sharers = new WeakMap<object, RelaySharer>();
  readonly #pending = new Map<string, Pending>();
  readonly #handovers = new WeakMap<object, RelayHandover>();
  readonly #perUser = new Map<number, number>();
  readonly #perAddress = new Map<string, number>();
  /** Bytes relayed for each sharing user since the server started (logged with each session). */
  readonly #bytesPerUser = new Map<number, number>();
  readonly #stop = new AbortController();
  #sessions = 0;
  #order = 0;

  constructor(options: RelayBrokerOptions = {}) {
    this.#enabled = options.enabled ?? true;
    this.limits = { ...DEFAULT_RELAY_LIMITS, ...options.limits };
    this.#log = options.log ?? (() => {});
  }

  /** True unless the server runs with `--no-relay`. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Relayed sessions held now (pairing or copying). */
  get sessionCount(): number {
    return this.#sessions;
  }

  /** Ties a connection (its state object) to the way of pushing to it. */
  attach(connection: object, sharer: RelaySharer): void {
    this.#sharers.set(connection, sharer);
  }

  /** The sharer of a connection attached before, if any. */
  sharerOf(connection: object): RelaySharer | undefined {
    return this.#sharers.get(connection);
  }

  /** Registers (or replaces) the relay token of one file a sharing connection announced. */
  register(sharer: RelaySharer, fileId: string, token: Bytes): void {
    let bySharer = this.#files.get(fileId);
    if (bySharer === undefined) this.#files.set(fileId, bySharer = new Map());
    bySharer.set(sharer, { sharer, token: token.slice(), order: this.#order++ });
  }

  /** Forgets every registration of a connection that closed. */
  forget(sharer: RelaySharer): void {
    for (const [fileId, bySharer] of this.#files) {
      bySharer.delete(sharer);
      if (bySharer.size === 0) this.#files.delete(fileId);
    }
  }

  /** The sharer whose relay token for `fileId` equals `token`, if one is live. */
  byToken(fileId: string, token: Uint8Array): RelaySharer | undefined {
    let found: Registration | undefined;
    for (const r of this.#files.get(fileId)?.values() ?? []) {
      // Every candidate is compared, in constant time, so timing tells nothing of the token.
      if (constantTimeEqual(r.token, token) && (found === undefined || r.order > found.order)) {
        found = r;
      }
    }
    return found?.sharer;
  }

  /** The most recent live sharer of `fileId` that registered a relay token, if any. */
  anySharer(fileId: string): RelaySharer | undefined {
    let found: Registration | undefined;
    for (const r of this.#files.get(fileId)?.values() ?? []) {
      if (found === undefined || r.order > found.order) found = r;
    }
    return found?.sharer;
  }

  /**
   * Takes a slot for a session of `userId`'s share asked for from `host`: BUSY when the server
   * relays all it may, RATE_LIMITED when that user or that address holds all theirs.
   */
  reserve(userId: number, host: string): RelayReservation {
    const address = addressKey(host);
    if (this.#sessions >= this.limits.maxSessions) {
      throw new SfsError("BUSY", "The relay is at its session limit", {
        hint: "Try again in a moment",
      });
    }
    if ((this.#perUser.get(userId) ?? 0) >= this.limits.maxPerUser) {
      throw new SfsError("RATE_LIMITED", "The sharing user has too many relayed transfers");
    }
    if ((this.#perAddress.get(address) ?? 0) >= this.limits.maxPerAddress) {
      throw new SfsError("RATE_LIMITED", `Address "${address}" has too many relayed transfers`);
    }
    this.#sessions++;
    bump(this.#perUser, userId, 1);
    bump(this.#perAddress, address, 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#sessions--;
        bump(this.#perUser, userId, -1);
        bump(this.#perAddress, address, -1);
      },
    };
  }

  /**
   * Asks `sharer` to open its leg for `fileId` and waits for it, for at most the pairing timeout
   * (CONNECTION_FAILED after). The pairing token is random and valid for this wait only.
   * `receiver` names the receiver's account for the sender, or is empty.
   */
  async pair(sharer: RelaySharer, fileId: Bytes, receiver: string): Promise<RelayLeg> {
    const token = crypto.getRandomValues(new Uint8Array(RELAY_TOKEN_BYTES));
    const key = toHex(token);
    let fail = () => {};
    const joined = new Promise<RelayLeg>((resolve, reject) => {
      this.#pending.set(key, { resolve });
      fail = () =>
        reject(
          new SfsError("CONNECTION_FAILED", "The sender did not reach the relay in time", {
            hint: "The sender may have gone offline; try again later",
          }),
        );
    });
    const timer = setTimeout(fail, this.limits.pairingTimeoutMs);
    this.#stop.signal.addEventListener("abort", fail, { once: true });
    if (this.#stop.signal.aborted) fail();
    try {
      await sharer.push(fileId, token, receiver).catch((err) => {
        // The sharing connection broke: that is the receiver's "cannot reach the sender",
        // never a reason to drop the receiver's own connection.
        throw new SfsError("CONNECTION_FAILED", "The sender is not reachable", { cause: err });
      });
      return await joined;
    } finally {
      clearTimeout(timer);
      this.#stop.signal.removeEventListener("abort", fail);
      // One use only: a leg arriving after this point is refused (§13.5).
      this.#pending.delete(key);
    }
  }

  /** Hands a sender's leg to the RELAY waiting for `token`; false (refuse it) if none is. */
  join(token: Bytes, leg: RelayLeg): boolean {
    const key = toHex(token);
    const pending = this.#pending.get(key);
    if (pending === undefined) return false;
    this.#pending.delete(key);
    pending.resolve(leg);
    return true;
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
  async run(receiver: RelayLeg, handover: RelayHandover): Promise<void> {
    const started = Date.now();
    const fields = { user: handover.username, id: handover.fileId, address: handover.address };
    this.#log("relay_start", fields);
    try {
      const result = await splice(receiver, handover.sender, {
        idleTimeoutMs: this.limits.idleTimeoutMs,
        signal: this.#stop.signal,
      });
      const bytes = result.aToB + result.bToA;
      bump(this.#bytesPerUser, handover.userId, bytes);
      this.#log("relay_end", {
        ...fields,
        toSender: result.aToB,
        toReceiver: result.bToA,
        bytes,
        userBytes: this.#bytesPerUser.get(handover.userId) ?? 0,
        ms: Date.now() - started,
        reason: result.reason,
      });
    } finally {
      handover.reservation.release();
    }
  }

  /** Ends every session and pairing (server shutdown). */
  close(): void {
    this.#stop.abort();
  }
}

function bump<K>(counts: Map<K, number>, key: K, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next <= 0) counts.delete(key);
  else counts.set(key, next);
}
