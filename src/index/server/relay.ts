/**
 * The relay's bookkeeping (docs/PROTOCOL.md §13): this server's sharing connections and the
 * relay tokens they registered (kept in a relay_directory.ts, shared by every server of a
 * PostgreSQL index) and the dial requests between servers. It holds the one-time pairing tokens
 * (relay_pairing.ts), the limits (relay_limits.ts) and the sessions being spliced
 * (relay_splice.ts). The handler (handlers_relay.ts) decides who may be relayed; the accept loop
 * (server.ts, server_relay.ts) hands the two connections over once paired.
 */
import { SfsError } from "../../errors.ts";
import { type Bytes, toHex } from "../../crypto/bytes.ts";
import type { LogFields } from "./handlers_context.ts";
import {
  MemoryRelayDirectory,
  type RelayCandidate,
  type RelayDirectory,
  type RelayInbox,
} from "./relay_directory.ts";
import { decodeDialNotice, type DialNotice, encodeDialNotice } from "./relay_notice.ts";
import {
  DEFAULT_RELAY_LIMITS,
  type RelayLimits,
  type RelayReservation,
  RelaySlots,
} from "./relay_limits.ts";
import { Pairings, type RelayLeg } from "./relay_pairing.ts";
import { type RelayHandover, RelaySplices } from "./relay_splice.ts";

export { DEFAULT_RELAY_LIMITS, type RelayLimits, type RelayReservation } from "./relay_limits.ts";
export type { RelayLeg } from "./relay_pairing.ts";
export type { RelayHandover } from "./relay_splice.ts";

/** A sharing connection as the relay sees it. */
export interface RelaySharer {
  /** The sharing user (the account whose share is served). */
  readonly userId: number;
  /**
   * Sends RELAY_DIAL on the sharing connection; `receiver` is a username or empty, `relay` the
   * HOST:PORT the leg goes to or empty for the address the connection uses (§13.7).
   */
  push(fileId: Bytes, pairingToken: Bytes, receiver: string, relay: string): Promise<void>;
}

/** Options of {@link RelayBroker}. */
export interface RelayBrokerOptions {
  /** False for `sfs server --no-relay`: every RELAY is RELAY_OFF. @default true */
  enabled?: boolean;
  /** Limits; missing fields take {@link DEFAULT_RELAY_LIMITS}. */
  limits?: Partial<RelayLimits>;
  /** Receives `relay_start`, `relay_end` and `relay_notice_dropped` entries. */
  log?: (event: string, fields: LogFields) => void;
  /** Relay tokens and the way to other servers. @default {a MemoryRelayDirectory} */
  directory?: RelayDirectory;
  /**
   * HOST:PORT at which senders connected to other servers reach this relay (§13.7); without it,
   * a sender on another server cannot be paired here (CONNECTION_FAILED).
   */
  address?: string;
  /**
   * Whether pushes to this server's own sharers carry {@link address} too (it was given by the
   * operator, `--relay-address`); otherwise they carry nothing and the sender dials the index
   * address it uses. @default false
   */
  addressInLocalDials?: boolean;
}

/** A sharing connection of this server that attached to the relay. */
interface LocalSharer {
  readonly sharer: RelaySharer;
  /** Its id in the directory: random, so it names one connection among all servers. */
  readonly id: string;
  /** The files it registered a relay token for (hex). */
  readonly files: Set<string>;
  /** Set once it registered a token as an open code's sender without an account. */
  codeOwner?: string;
}

/** Relay state of one index server. */
export class RelayBroker {
  /** The limits in force. */
  readonly limits: RelayLimits;
  readonly #enabled: boolean;
  readonly #log: (event: string, fields: LogFields) => void;
  readonly #directory: RelayDirectory;
  /**
   * Tokens of open codes' senders without an account (§13.2): in this process only, like their
   * nameplates (§14.5), since the receiver claims the code on this server too.
   */
  readonly #codeTokens: MemoryRelayDirectory;
  readonly #address: string | undefined;
  readonly #localDialAddress: string;
  /** This server's sharing connections by id, and by their connection state object. */
  readonly #local = new Map<string, LocalSharer>();
  readonly #sharers = new WeakMap<object, LocalSharer>();
  readonly #pairings = new Pairings();
  readonly #slots: RelaySlots;
  readonly #splices: RelaySplices;
  readonly #stop = new AbortController();
  #inbox: Promise<RelayInbox | undefined> | undefined;

  constructor(options: RelayBrokerOptions = {}) {
    this.#enabled = options.enabled ?? true;
    this.limits = { ...DEFAULT_RELAY_LIMITS, ...options.limits };
    this.#slots = new RelaySlots(this.limits);
    this.#log = options.log ?? (() => {});
    this.#splices = new RelaySplices(this.#log);
    this.#directory = options.directory ?? new MemoryRelayDirectory();
    this.#codeTokens = new MemoryRelayDirectory(this.#directory.serverId);
    this.#address = options.address;
    this.#localDialAddress = options.addressInLocalDials ? options.address ?? "" : "";
  }

  /** True unless the server runs with `--no-relay`. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Relayed sessions held now (pairing or copying). */
  get sessionCount(): number {
    return this.#slots.sessions;
  }

  /**
   * Starts taking dial requests from other servers (§13.7); resolves once they can arrive. A
   * failure is logged: this server then pairs only its own sharers' receivers.
   */
  start(): Promise<void> {
    this.#inbox ??= this.#directory.listen((payload) => this.#onNotice(payload)).catch((err) => {
      this.#log("error", { message: `Cannot take relay requests: ${errorText(err)}` });
      return undefined;
    });
    return this.#inbox.then(() => {});
  }

  /** Ties a connection (its state object) to the way of pushing to it. */
  attach(connection: object, sharer: RelaySharer): void {
    const id = toHex(crypto.getRandomValues(new Uint8Array(16)));
    const local = { sharer, id, files: new Set<string>() };
    this.#sharers.set(connection, local);
    this.#local.set(id, local);
  }

  /** The sharer of a connection attached before, if any. */
  sharerOf(connection: object): RelaySharer | undefined {
    return this.#sharers.get(connection)?.sharer;
  }

  /** Registers (or replaces) the relay token of one file an attached connection announced. */
  async register(connection: object, fileId: string, token: Bytes): Promise<void> {
    const local = this.#sharers.get(connection);
    if (local === undefined) throw new SfsError("INTERNAL", "Connection not attached to the relay");
    // Noted first, so that forget() clears the directory even if the connection ends meanwhile.
    local.files.add(fileId);
    await this.#directory.register(local.id, local.sharer.userId, fileId, token);
  }

  /**
   * Registers (or replaces) the relay token of an open code's sender without an account
   * (§13.2): kept in this process only; its sessions count against `owner` (`address:KEY`).
   */
  registerForCode(connection: object, fileId: string, token: Bytes, owner: string): void {
    const local = this.#sharers.get(connection);
    if (local === undefined) throw new SfsError("INTERNAL", "Connection not attached to the relay");
    local.codeOwner = owner;
    this.#codeTokens.register(local.id, -1, fileId, token);
  }

  /**
   * Forgets every registration of a connection that closed: at once here (no push goes to it
   * any more), and in the directory by the promise returned.
   */
  forget(connection: object): Promise<void> {
    const local = this.#sharers.get(connection);
    if (local === undefined) return Promise.resolve();
    this.#sharers.delete(connection);
    this.#local.delete(local.id);
    this.#codeTokens.forget(local.id);
    // Most connections never register a token (searches, downloads): nothing to forget there.
    return local.files.size === 0 ? Promise.resolve() : this.#directory.forget(local.id);
  }

  /**
   * The sharer whose relay token for `fileId` equals `token`, if one is live: an account's
   * registration first, else an open code's on this server.
   */
  async byToken(fileId: string, token: Uint8Array): Promise<RelayCandidate | undefined> {
    const found = await this.#directory.byToken(fileId, token);
    if (found !== undefined) return found;
    const code = await this.#codeTokens.byToken(fileId, token);
    const owner = code && this.#local.get(code.connection)?.codeOwner;
    return owner === undefined ? undefined : { ...code!, codeOwner: owner };
  }

  /** The most recent live sharer of `fileId` that registered a relay token, if any. */
  anySharer(fileId: string): Promise<RelayCandidate | undefined> {
    return this.#directory.latest(fileId);
  }

  /**
   * Takes a slot for a session of `owner`'s share (`user:ID`, or `address:KEY` for a code's
   * sender without an account) asked for from `host`: BUSY when the server relays all it may,
   * RATE_LIMITED when that owner or that address holds all theirs.
   */
  reserve(owner: string, host: string): RelayReservation {
    return this.#slots.reserve(owner, host);
  }

  /**
   * Asks the sender `candidate` to open its leg for `fileId` and waits for it, for at most the
   * pairing timeout (CONNECTION_FAILED after). The pairing token is random and valid for this
   * wait only. A sender on this server gets RELAY_DIAL from here; one on another server gets it
   * from that server, asked by a dial request, and dials this server's relay address (§13.7).
   * `receiver` names the receiver's account for the sender, or is empty.
   */
  async pair(candidate: RelayCandidate, fileId: Bytes, receiver: string): Promise<RelayLeg> {
    const dial = (token: Bytes) =>
      this.#push(candidate, fileId, token, receiver).catch((err) => {
        // The sharing connection broke, or its server cannot be asked: that is the receiver's
        // "cannot reach the sender", never a reason to drop the receiver's own connection.
        throw new SfsError("CONNECTION_FAILED", "The sender is not reachable", { cause: err });
      });
    return await this.#pairings.wait(dial, {
      timeoutMs: this.limits.pairingTimeoutMs,
      stop: this.#stop.signal,
    });
  }

  /** Has RELAY_DIAL sent to `candidate`: by this server, or by the one holding it. */
  #push(candidate: RelayCandidate, fileId: Bytes, token: Bytes, receiver: string): Promise<void> {
    if (candidate.server === this.#directory.serverId) {
      const local = this.#local.get(candidate.connection);
      if (local === undefined) {
        return Promise.reject(new SfsError("CONNECTION_FAILED", "The sharing connection closed"));
      }
      return local.sharer.push(fileId, token, receiver, this.#localDialAddress);
    }
    if (this.#address === undefined) {
      this.#log("relay_no_address", { id: toHex(fileId) });
      return Promise.reject(
        new SfsError("CONNECTION_FAILED", "This server has no relay address for other servers"),
      );
    }
    const notice = { connection: candidate.connection, fileId, pairingToken: token, receiver };
    return this.#directory.send(
      candidate.server,
      encodeDialNotice({ ...notice, relay: this.#address }),
    );
  }

  /**
   * A dial request from another server: pushes RELAY_DIAL on the sharing connection it names,
   * once, if that connection is still here and registered that file; otherwise drops it (the
   * asking server times out).
   */
  #onNotice(payload: string): void {
    let notice: DialNotice;
    try {
      notice = decodeDialNotice(payload);
    } catch (err) {
      this.#log("relay_notice_dropped", { reason: errorText(err) });
      return;
    }
    const local = this.#local.get(notice.connection);
    if (local === undefined || !local.files.has(toHex(notice.fileId))) {
      this.#log("relay_notice_dropped", { reason: "no such sharing connection" });
      return;
    }
    local.sharer.push(notice.fileId, notice.pairingToken, notice.receiver, notice.relay)
      .catch(() => {
        // The sharing connection broke; its own task reports that.
      });
  }

  /** Hands a sender's leg to the RELAY waiting for `token`; false (refuse it) if none is. */
  join(token: Bytes, leg: RelayLeg): boolean {
    return this.#pairings.join(token, leg);
  }

  /** Records the paired legs of a connection until the server answered its RELAY. */
  handOver(connection: object, handover: RelayHandover): void {
    this.#splices.handOver(connection, handover);
  }

  /** The handover of `connection`, once: the server then splices instead of reading requests. */
  takeHandover(connection: object): RelayHandover | undefined {
    return this.#splices.takeHandover(connection);
  }

  /** Copies between the receiver's connection and the sender's leg, then logs the session. */
  run(receiver: RelayLeg, handover: RelayHandover): Promise<void> {
    const how = { idleTimeoutMs: this.limits.idleTimeoutMs, signal: this.#stop.signal };
    return this.#splices.run(receiver, handover, how);
  }

  /** Ends every session and pairing, and stops taking dial requests (server shutdown). */
  async close(): Promise<void> {
    this.#stop.abort();
    const inbox = await this.#inbox;
    await inbox?.close().catch(() => {});
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
