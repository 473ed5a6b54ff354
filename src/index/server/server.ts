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
import { closeQuietly } from "../../closable.ts";
import type { Bytes } from "../../crypto/bytes.ts";
import { formatFingerprint, type Identity } from "../../crypto/identity.ts";
import { AcceptLoop, type Admitted, listenTcp } from "../../net/listener.ts";
import type { Lent } from "../../net/lent.ts";
import { MessageType } from "../../wire/messages.ts";
import { type Channel } from "../../wire/channel.ts";
import { respond } from "../../wire/handshake.ts";
import {
  type ConnectionState,
  type HandlerOptions,
  IndexHandlers,
  type LogFields,
} from "./handlers.ts";
import { PRESENCE_TIMEOUT_MS } from "../protocol/limits.ts";
import type { IndexStore } from "./store.ts";
import { RelayBroker, type RelayHandover, type RelayLimits } from "./relay.ts";
import { abortFrame, readFirstFrame } from "./relay_leg.ts";
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
/**
 * Sessions offline this long are deleted with their announcements (`sfs server --listing-ttl`),
 * so searches are not full of files nobody serves any more.
 */
export const DEFAULT_SESSION_RETENTION_MS = 3 * 24 * 60 * 60 * 1000;
/** A withdrawal is remembered this long: a sender offline longer may bring the file back. */
export const WITHDRAWAL_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
const PRESENCE_SWEEP_MS = 5_000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** Options of {@link IndexServer.listen}. */
export interface IndexServerOptions extends HandlerOptions {
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
  /** Silence after which a sharing session is offline. @default 30000 */
  presenceTimeoutMs?: number;
  /** Interval of the presence sweep. @default 5000 */
  presenceSweepMs?: number;
  /** Offline sessions, with their listings, older than this are pruned. @default 3 days */
  sessionRetentionMs?: number;
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

/** A connection being served: its channel once the handshake is over, busy while answering. */
interface Connection {
  readonly admitted: Admitted;
  channel?: Channel;
  /** The connection under the channel, lent to it so a RELAY can take it back (§13.3). */
  transport?: Lent<Deno.TcpConn>;
  busy: boolean;
  /** The sender's leg once this connection is relayed; closed with it. */
  relayed?: RelayHandover;
}

/** A running index server. */
export class IndexServer {
  readonly #listener: Deno.TcpListener;
  readonly #options: IndexServerOptions;
  readonly #handlers: IndexHandlers;
  readonly #store: IndexStore;
  readonly #connections = new Set<Connection>();
  readonly #loop: AcceptLoop;
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  readonly #chores = new Set<Promise<void>>();
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
    // Nobody is connected to this process yet, so the sessions the database remembers as online
    // are stale (left over from a crash) unless another server on the same database holds them.
    this.#housekeeping(() => this.#store.expireOrphans());
    const presenceTimeout = options.presenceTimeoutMs ?? PRESENCE_TIMEOUT_MS;
    const retention = options.sessionRetentionMs ?? DEFAULT_SESSION_RETENTION_MS;
    const prune = async () => {
      await this.#store.pruneOfflineSessions(retention);
      await this.#store.pruneWithdrawals(WITHDRAWAL_RETENTION_MS);
    };
    // At start too: a server that was down for days must not serve listings that expired.
    this.#housekeeping(prune);
    this.#timers.push(
      setInterval(
        () => this.#housekeeping(() => this.#store.expireStale(presenceTimeout)),
        options.presenceSweepMs ?? PRESENCE_SWEEP_MS,
      ),
      // A short retention is pruned about as often as it lapses.
      setInterval(() => this.#housekeeping(prune), Math.min(PRUNE_EVERY_MS, retention)),
    );
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
    for (const timer of this.#timers) clearInterval(timer);
    this.#loop.close();
    await this.#loop.accepting;
    // Relayed sessions have no end of their own in sight: stopping ends them.
    const relayClosed = this.#relay.close();
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
    await Promise.allSettled(this.#chores);
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
        leg = this.#join(admitted, first.pairingToken);
        return;
      }
      c.transport = first.transport;
      state = await this.#handshake(c);
      const handover = await this.#answerRequests(c, state);
      if (handover !== undefined) await this.#spliceRelayed(c, handover);
    } catch (err) {
      if (state !== undefined) this.#dropHandover(state);
      await this.#drop(c, err);
    } finally {
      // A leg handed over belongs to the relayed session now.
      if (!leg) closeConnection(c);
      this.#connections.delete(c);
      if (state !== undefined) {
        const closed = state;
        this.#housekeeping(() => this.#relay.forget(closed));
        this.#housekeeping(() => this.#handlers.closed(closed));
        this.#log("disconnected", { address: admitted.peer });
      }
    }
  }

  /**
   * Hands a sender's leg to the RELAY waiting for its pairing token; a token nobody waits for
   * (used, late, or made up) is refused in the clear (§13.5). Either way the connection is no
   * longer the caller's to close: the splice owns it, or the refusal closes it once written.
   */
  #join(admitted: Admitted, pairingToken: Bytes): boolean {
    if (this.#relay.join(pairingToken, admitted.conn)) return true;
    this.#log("relay_refused", { address: admitted.peer });
    const refused = new SfsError("REFUSED", "Unknown pairing token");
    admitted.conn.write(abortFrame(refused)).catch(() => {}).finally(() =>
      closeQuietly(admitted.conn)
    );
    return true;
  }

  /** Copies between a receiver whose RELAY was answered OK and the sender's leg. */
  async #spliceRelayed(c: Connection, handover: RelayHandover): Promise<void> {
    c.relayed = handover;
    // The channel's keys are freed; the TCP connection stays open for the splice.
    const conn = c.transport!.take();
    c.channel!.close();
    await this.#relay.run(conn, handover);
  }

  /** Closes a sender's leg paired for a RELAY whose OK could not be sent. */
  #dropHandover(state: ConnectionState): void {
    const handover = this.#relay.takeHandover(state);
    if (handover === undefined) return;
    closeQuietly(handover.sender);
    handover.reservation.release();
  }

  /** Runs the handshake as responder; its deadline ends with it (our reply is out). */
  async #handshake(c: Connection): Promise<ConnectionState> {
    const { admitted } = c;
    const channel = await respond(c.transport!, this.#options.identity, {
      idleTimeoutMs: this.#options.idleTimeoutMs ?? DEFAULT_SERVER_IDLE_MS,
      // Refused in the clear while every slot is held by a client that proved its keys; it
      // comes before anything is known of the client (§6.6).
      admit: () => admitted.refuseIfFull(),
      // The handshake deadline ends with our flight 2, as it ended with our reply in version 1:
      // the client may now be asking its user to trust this server's key (§12.1). The wait for
      // its flight 3 runs under the idle deadline, the connection pending (evictable).
      onFlightTwo: () => admitted.endHandshake(),
    });
    // The handshake is over and the client signed it, but only its first request opening under
    // the application keys shows it holds its RSA key too: until then the connection stays
    // pending (evictable, no slot at work, §6.6).
    admitted.endHandshake();
    c.channel = channel;
    const address = admitted.peer;
    this.#log("connected", { address, peer: formatFingerprint(channel.peer.fingerprint) });
    const state: ConnectionState = {
      peer: channel.peer,
      // Proofs (§12.2) bind to H_A: known to the client before its first request.
      transcriptHash: channel.authHash,
      address,
      host: admitted.conn.remoteAddr.hostname,
    };
    // How the relay reaches this connection if it shares files (§13.4); it pushes only after a
    // RELAY_TOKEN, and only between whole records (Channel.send queues them).
    this.#relay.attach(state, {
      get userId() {
        return state.userId ?? -1;
      },
      push: (fileId, pairingToken, receiver, relay) =>
        channel.send({ type: MessageType.RELAY_DIAL, fileId, pairingToken, receiver, relay }),
    });
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

  /**
   * Runs a store chore; a failure is logged, never allowed to kill the server. Chores still
   * running at shutdown are waited for before the store closes.
   */
  #housekeeping(chore: () => Promise<unknown>): void {
    const running = (async () => {
      try {
        await chore();
      } catch (err) {
        this.#log("error", { message: err instanceof Error ? err.message : String(err) });
      }
    })();
    this.#chores.add(running);
    running.finally(() => this.#chores.delete(running));
  }
}

/**
 * The relay address other servers' senders dial by default: the bound address, unless it is a
 * wildcard, which names no one host (then `--relay-address` must say; §13.7).
 */
function listeningRelayAddress(addr: Deno.NetAddr): string | undefined {
  return isWildcard(addr.hostname) ? undefined : formatNetAddr(addr);
}

function closeConnection(c: Connection): void {
  if (c.channel) c.channel.close();
  closeQuietly(c.admitted.conn);
  if (c.relayed) closeQuietly(c.relayed.sender);
}

/** Keeps SfsErrors; anything else is a bug, reported to the client without detail. */
function asSfsError(err: unknown): SfsError {
  return err instanceof SfsError ? err : new SfsError("INTERNAL", "Internal server error");
}
