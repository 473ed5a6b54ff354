/**
 * The index server (docs/PROTOCOL.md §12.1) on the accept loop of net/listener.ts: one async task
 * per connection, each running the secure handshake as responder and then answering requests one
 * at a time. A slow or silent client only ever holds its own task; idle deadlines and a
 * connection cap bound what clients can hold in total. Presence expiry runs on a timer.
 */
import { codeInfo, SfsError } from "../../errors.ts";
import { closeQuietly } from "../../closable.ts";
import { formatFingerprint, type Identity } from "../../crypto/identity.ts";
import { AcceptLoop, type Admitted, listenTcp } from "../../net/listener.ts";
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
}

/** A connection being served: its channel once the handshake is over, busy while answering. */
interface Connection {
  readonly admitted: Admitted;
  channel?: Channel;
  busy: boolean;
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
  readonly #log: (event: string, fields: LogFields) => void;
  #stopping = false;
  #stopped: Promise<void> | undefined;

  private constructor(listener: Deno.TcpListener, options: IndexServerOptions) {
    this.#listener = listener;
    this.#options = options;
    this.#store = options.store;
    this.#log = options.log ?? (() => {});
    this.#handlers = new IndexHandlers(options.store, options);
    // Nobody is connected yet, so every session the database remembers as online is stale
    // (left over from a crash).
    this.#store.expireStale(0);
    const presenceTimeout = options.presenceTimeoutMs ?? PRESENCE_TIMEOUT_MS;
    const retention = options.sessionRetentionMs ?? DEFAULT_SESSION_RETENTION_MS;
    const prune = () => {
      this.#store.pruneOfflineSessions(retention);
      this.#store.pruneWithdrawals(WITHDRAWAL_RETENTION_MS);
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

  /** The bound address. */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  /** The server identity's fingerprint, formatted. */
  get fingerprint(): string {
    return formatFingerprint(this.#options.identity.public.fingerprint);
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
    // Idle connections (waiting for a request, or still in the handshake) have nothing in
    // flight: close them now. Busy ones finish their reply and then see #stopping.
    for (const c of this.#connections) if (!c.busy) closeConnection(c);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const graceOver = new Promise<void>((resolve) => timer = setTimeout(resolve, graceMs));
    await Promise.race([this.#loop.settled(), graceOver]);
    clearTimeout(timer);
    for (const c of this.#connections) closeConnection(c);
    await this.#loop.settled();
    this.#store.close();
    this.#log("stopped", {});
  }

  /** Serves one connection: the handshake, then its requests in turn until either side ends. */
  async #serve(admitted: Admitted): Promise<void> {
    const c: Connection = { admitted, busy: false };
    this.#connections.add(c);
    let state: ConnectionState | undefined;
    try {
      state = await this.#handshake(c);
      await this.#answerRequests(c, state);
    } catch (err) {
      await this.#drop(c, err);
    } finally {
      closeConnection(c);
      this.#connections.delete(c);
      if (state !== undefined) {
        this.#housekeeping(() => this.#handlers.closed(state!));
        this.#log("disconnected", { address: admitted.peer });
      }
    }
  }

  /** Runs the handshake as responder; its deadline ends with it (our reply is out). */
  async #handshake(c: Connection): Promise<ConnectionState> {
    const { admitted } = c;
    const channel = await respond(admitted.conn, this.#options.identity, {
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
    return {
      peer: channel.peer,
      // Proofs (§12.2) bind to H_A: known to the client before its first request.
      transcriptHash: channel.authHash,
      address,
      host: admitted.conn.remoteAddr.hostname,
    };
  }

  /** Answers requests one at a time until the server stops or a handler ends the connection. */
  async #answerRequests(c: Connection, state: ConnectionState): Promise<void> {
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

  /** Runs a store chore; a failure is logged, never allowed to kill the server. */
  #housekeeping(chore: () => unknown): void {
    try {
      chore();
    } catch (err) {
      this.#log("error", { message: err instanceof Error ? err.message : String(err) });
    }
  }
}

function closeConnection(c: Connection): void {
  if (c.channel) c.channel.close();
  else closeQuietly(c.admitted.conn);
}

/** Keeps SfsErrors; anything else is a bug, reported to the client without detail. */
function asSfsError(err: unknown): SfsError {
  return err instanceof SfsError ? err : new SfsError("INTERNAL", "Internal server error");
}
