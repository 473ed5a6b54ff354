/**
 * The index server (docs/PROTOCOL.md §12.1) on the accept loop of net/listener.ts: one async task
 * per connection, each running the secure handshake as responder and then answering requests one
 * at a time. A slow or silent client only ever holds its own task; idle deadlines and a
 * connection cap bound what clients can hold in total. Presence expiry runs on a timer.
 *
 * The same port relays (§13): a connection whose first frame is RELAY_JOIN is a sender's leg,
 * handed to the RELAY waiting for it; an index connection answered OK to its RELAY stops being
 * read as requests and is spliced to that leg, byte for byte, in its own task.
 */
import { codeInfo, SfsError } from "../../errors.ts";
import { formatFingerprint, type Identity } from "../../crypto/identity.ts";
import { AcceptLoop, type Admitted, listenTcp } from "../../net/listener.ts";
import {
  type ConnectionState,
  type HandlerOptions,
  IndexHandlers,
  type LogFields,
} from "./handlers.ts";
import type { IndexStore } from "./store.ts";
import { RelayBroker, type RelayHandover, type RelayLimits } from "./relay.ts";
import { readFirstFrame } from "./relay_leg.ts";
import { Housekeeping, type HousekeepingOptions } from "./server_housekeeping.ts";
import { asSfsError, closeConnection, type Connection, handshake } from "./server_connection.ts";
import { attachSharer, dropHandover, joinLeg, spliceRelayed } from "./server_relay.ts";
import type { RelayDirectory } from "./relay_directory.ts";
import { formatNetAddr, isWildcard } from "../../net/address.ts";

/** Connections served at once by default, once they proved their keys (first request). */
export const DEFAULT_MAX_CONNECTIONS = 256;
/**
 * Connections allowed at once before they proved their keys; past that the oldest is dropped,
 * so a flood of silent connections cannot lock honest clients out (see net/admission.ts).
 */
export const DEFAULT_MAX_PENDING = 64;
/** Default idle deadline: a connection silent this long is closed (heartbeats come every 10 s). */
export const DEFAULT_SERVER_IDLE_MS = 60_000;
/** Default bound on waiting for in-flight requests at shutdown. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 5_000;

/** Options of {@link IndexServer.listen}. */
export interface IndexServerOptions extends HandlerOptions, HousekeepingOptions {
  /** The server's own identity; clients pin its fingerprint. */
  identity: Identity;
  /** Open store; the server closes it on shutdown. */
  store: IndexStore;
  /** Address to bind. */
  hostname: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Connections served at once. @default 256 */
  maxConnections?: number;
  /** Idle deadline of every read. @default 60000 */
  idleTimeoutMs?: number;
  /** Relay limits (§13.6), or false to refuse every RELAY with RELAY_OFF. @default {} */
  relay?: Partial<RelayLimits> | false;
  /**
   * Where relay tokens live and how to reach other servers' sharers (§13.7): pass the PostgreSQL
   * store's directory when several servers share the database. @default {in memory}
   */
  relayDirectory?: RelayDirectory;
  /**
   * HOST:PORT at which senders connected to other servers reach this server's relay
   * (`--relay-address`); every RELAY_DIAL then names it. @default {the bound address, unless a
   * wildcard, for senders on other servers only}
   */
  relayAddress?: string;
}

/** A running index server. */
export class IndexServer {
  readonly #listener: Deno.TcpListener;
  readonly #options: IndexServerOptions;
  readonly #handlers: IndexHandlers;
  readonly #store: IndexStore;
  readonly #connections = new Set<Connection>();
  readonly #loop: AcceptLoop;
  readonly #housekeeping: Housekeeping;
  readonly #log: (event: string, fields: LogFields) => void;
  readonly #relay: RelayBroker;
  readonly #ready: Promise<void>;
  #stopping = false;
  #stopped: Promise<void> | undefined;

  private constructor(listener: Deno.TcpListener, options: IndexServerOptions) {
    this.#listener = listener;
    this.#options = options;
    this.#store = options.store;
    this.#log = options.log ?? (() => {});
    this.#relay = new RelayBroker({
      enabled: options.relay !== false,
      limits: options.relay || {},
      log: this.#log,
      directory: options.relayDirectory,
      address: options.relayAddress ?? listeningRelayAddress(listener.addr),
      addressInLocalDials: options.relayAddress !== undefined,
    });
    this.#ready = this.#relay.enabled ? this.#relay.start() : Promise.resolve();
    this.#handlers = new IndexHandlers(options.store, { ...options, relayBroker: this.#relay });
    this.#housekeeping = new Housekeeping(options.store, this.#log, options);
    this.#loop = new AcceptLoop(listener, (admitted) => this.#serve(admitted), {
      limits: {
        maxPending: DEFAULT_MAX_PENDING,
        maxActive: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      },
      busy: (address) => this.#busy(address),
    });
  }

  /** Binds the address and starts serving; throws SfsError CONNECTION_FAILED if it cannot bind. */
  static listen(options: IndexServerOptions): IndexServer {
    return new IndexServer(listenTcp({ host: options.hostname, port: options.port }), options);
  }

  /**
   * Resolves once the server takes relay requests from other servers too (§13.7: its LISTEN is
   * active); at once with one process. Never rejects: a failure is logged.
   */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /** The bound address. */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  /** The server identity's fingerprint, formatted. */
  get fingerprint(): string {
    return formatFingerprint(this.#options.identity.public.fingerprint);
  }

  /** Relayed sessions held right now (pairing or copying). */
  get relaySessionCount(): number {
    return this.#relay.sessionCount;
  }

  /** Connections open right now (including ones still in the handshake). */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Stops accepting, closes idle connections, lets requests in flight finish (up to
   * `graceMs`), then closes the rest and the store. Safe to call more than once.
   */
  shutdown(graceMs: number = DEFAULT_SHUTDOWN_GRACE_MS): Promise<void> {
    this.#stopped ??= this.#shutdown(graceMs);
    return this.#stopped;
  }

  async #shutdown(graceMs: number): Promise<void> {
    this.#stopping = true;
    this.#housekeeping.stop();
    this.#loop.close();
    await this.#loop.accepting;
    // Relayed sessions have no end of their own in sight: stopping ends them, and held code
    // claims with them.
    const relayClosed = this.#relay.close();
    this.#handlers.stop();
    // Idle connections (waiting for a request, or still in the handshake) have nothing in
    // flight: close them now. Busy ones finish their reply and then see #stopping.
    for (const c of this.#connections) if (!c.busy) closeConnection(c);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const graceOver = new Promise<void>((resolve) => timer = setTimeout(resolve, graceMs));
    await Promise.race([this.#loop.settled(), graceOver]);
    clearTimeout(timer);
    for (const c of this.#connections) closeConnection(c);
    await this.#loop.settled();
    await relayClosed;
    await this.#housekeeping.settled();
    await this.#store.close();
    this.#log("stopped", {});
  }

  /**
   * Serves one connection: a sender's leg is handed to its RELAY; an index client gets the
   * handshake, then its requests in turn until either side ends, or until a RELAY made it a
   * relayed session, which is then spliced here.
   */
  async #serve(admitted: Admitted): Promise<void> {
    const c: Connection = { admitted, busy: false };
    this.#connections.add(c);
    let state: ConnectionState | undefined;
    let leg = false;
    try {
      const first = await readFirstFrame(admitted.conn);
      if (first === null) return;
      if (first.kind === "leg") {
        leg = joinLeg(this.#relay, admitted, { pairingToken: first.pairingToken, log: this.#log });
        return;
      }
      c.transport = first.transport;
      state = await this.#handshake(c);
      const handover = await this.#answerRequests(c, state);
      if (handover !== undefined) await spliceRelayed(this.#relay, c, handover);
    } catch (err) {
      if (state !== undefined) dropHandover(this.#relay, state);
      await this.#drop(c, err);
    } finally {
      // A leg handed over belongs to the relayed session now.
      if (!leg) closeConnection(c);
      this.#connections.delete(c);
      if (state !== undefined) {
        const closed = state;
        this.#housekeeping.run(() => this.#relay.forget(closed));
        this.#housekeeping.run(() => this.#handlers.closed(closed));
        this.#log("disconnected", { address: admitted.peer });
      }
    }
  }

  /** Runs the handshake, then makes the connection reachable by the relay if it shares files. */
  async #handshake(c: Connection): Promise<ConnectionState> {
    const idleTimeoutMs = this.#options.idleTimeoutMs ?? DEFAULT_SERVER_IDLE_MS;
    const state = await handshake(c, this.#options.identity, idleTimeoutMs);
    const peer = formatFingerprint(state.peer.fingerprint);
    this.#log("connected", { address: state.address, peer });
    attachSharer(this.#relay, state, c.channel!);
    return state;
  }

  /**
   * Answers requests one at a time until the server stops or a handler ends the connection;
   * returns the paired leg when a RELAY was answered OK (the connection is no longer read here).
   */
  async #answerRequests(
    c: Connection,
    state: ConnectionState,
  ): Promise<RelayHandover | undefined> {
    const channel = c.channel!;
    while (!this.#stopping) {
      const request = await channel.receive();
      // It opened under the session keys: the client holds the keys it claimed.
      c.admitted.prove();
      c.busy = true;
      try {
        await channel.send(await this.#handlers.handle(state, request));
      } catch (err) {
        const e = asSfsError(err);
        if (e.code === "INTERNAL") {
          this.#log("error", { address: state.address, message: String(err) });
        }
        // A refused request is answered and the connection goes on; a protocol violation or
        // a failed send ends it.
        if (codeInfo(e.code).unanswerable) throw e;
        await channel.sendError(e);
      } finally {
        c.busy = false;
      }
      const handover = this.#relay.takeHandover(state);
      if (handover !== undefined) return handover;
      // A handler asked to end the connection once answered (too many failed AUTHs).
      if (state.closeAfterReply) return;
    }
  }

  /** Logs why a connection ended and, if it can still hear it, tells the client. */
  async #drop(c: Connection, err: unknown): Promise<void> {
    const address = c.admitted.peer;
    const e = asSfsError(err);
    if (e.code === "INTERNAL") this.#log("error", { address, message: String(err) });
    if (c.channel && e.code !== "CONNECTION_CLOSED" && !this.#stopping) await c.channel.fail(e);
    if (e.code !== "CONNECTION_CLOSED") {
      this.#log("dropped", { address, code: e.code, message: e.message });
    }
  }

  /** Logs the refusal of a client over the connection limit and returns the error it gets. */
  #busy(address: string): SfsError {
    this.#log("rejected", { address, reason: "too many connections" });
    return new SfsError("BUSY", "The index server is at its connection limit", {
      hint: "Try again in a moment",
    });
  }
}

/**
 * The relay address other servers' senders dial by default: the bound address, unless it is a
 * wildcard, which names no one host (then `--relay-address` must say; §13.7).
 */
function listeningRelayAddress(addr: Deno.NetAddr): string | undefined {
  return isWildcard(addr.hostname) ? undefined : formatNetAddr(addr);
}
