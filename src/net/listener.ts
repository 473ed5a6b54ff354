/**
 * The one accept loop of every sfs server (the sender and the index): bind with a clear error,
 * accept without dying on a failed accept, run each connection in its own task, and bound what
 * connections can hold through {@link Admission} and a handshake deadline.
 *
 * A connection starts pending, with the deadline running. The server decides when the handshake
 * is over ({@link Admitted.endHandshake}) and when the peer proved its keys
 * ({@link Admitted.prove}: its signed first request arrived, docs/PROTOCOL.md §6.7); only then does
 * it take a slot at work. While every slot is taken, {@link Admitted.refuseIfFull} lets the server
 * say BUSY during the handshake, before it spends an RSA operation on the peer.
 */
import { clearTimer, setTimer, sleep, type Timer } from "../timer.ts";
import { SfsError } from "../errors.ts";
import { closeQuietly } from "../closable.ts";
import { formatHostPort, formatNetAddr, type HostPort } from "./address.ts";
import { Admission, type AdmissionLimits } from "./admission.ts";

/**
 * A connection must finish its handshake within this time (and, on a sender, prove its keys);
 * an honest peer does both in milliseconds.
 */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Pause after a failed accept (out of file descriptors and the like) instead of spinning. */
const ACCEPT_BACKOFF_MS = 100;

/** Binds a TCP listener; throws SfsError CONNECTION_FAILED, with a hint if the port is taken. */
export function listenTcp(address: HostPort): Deno.TcpListener {
  try {
    return Deno.listen({ hostname: address.host, port: address.port, transport: "tcp" });
  } catch (err) {
    throw new SfsError("CONNECTION_FAILED", `Cannot listen on ${formatHostPort(address)}`, {
      cause: err,
      hint: err instanceof Deno.errors.AddrInUse ? "The port is in use; pick another" : undefined,
    });
  }
}

/** Accepted connections until the listener is closed; a failed accept does not end the loop. */
export async function* acceptAll(
  listener: Deno.Listener<Deno.TcpConn>,
): AsyncGenerator<Deno.TcpConn> {
  for (;;) {
    try {
      yield await listener.accept();
    } catch (err) {
      if (err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted) return;
      await sleep(ACCEPT_BACKOFF_MS);
    }
  }
}

/** Options of {@link AcceptLoop}. */
export interface AcceptLoopOptions {
  /** How many connections may wait to prove their keys, and how many may be at work. */
  limits: AdmissionLimits;
  /** The error a connection refused for want of a slot gets; `peer` is its "host:port". */
  busy: (peer: string) => SfsError;
  /** Deadline for the handshake of each connection. @default HANDSHAKE_TIMEOUT_MS */
  handshakeTimeoutMs?: number;
}

/** One accepted connection, in the stages of {@link Admission}. */
export class Admitted {
  /** The peer's address as "host:port" (IPv6 bracketed), for logs and events. */
  readonly peer: string;
  readonly #admission: Admission<Deno.TcpConn>;
  readonly #busy: (peer: string) => SfsError;
  readonly #deadline: Timer;
  #proven = false;

  constructor(
    readonly conn: Deno.TcpConn,
    admission: Admission<Deno.TcpConn>,
    options: AcceptLoopOptions & { peer?: string },
  ) {
    this.peer = options.peer ?? formatNetAddr(conn.remoteAddr);
    this.#admission = admission;
    this.#busy = options.busy;
    this.#deadline = setTimer(
      () => closeQuietly(conn),
      options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
    );
  }

  /** Throws the busy error while every slot at work is taken by a peer that proved its keys. */
  refuseIfFull(): void {
    if (this.#admission.full) throw this.#busy(this.peer);
  }

  /** Stops the handshake deadline; the connection still waits, evictable, to prove its keys. */
  endHandshake(): void {
    clearTimer(this.#deadline);
  }

  /**
   * Marks the peer as holding its keys (its first sealed record opened) and takes it to work;
   * throws the busy error if no slot is free. Ends the deadline; later calls do nothing.
   */
  prove(): void {
    if (this.#proven) return;
    this.#proven = true;
    if (!this.#admission.promote(this.conn)) throw this.#busy(this.peer);
    this.endHandshake();
  }

  /** Forgets the connection once its task ended. */
  release(): void {
    this.endHandshake();
    this.#admission.release(this.conn);
  }
}

/**
 * Accepts connections and runs `serve` for each in its own task until closed. `serve` must not
 * reject: it reports its own failures. A flood of connections that never prove their keys only
 * pushes out one another (oldest first), so an honest peer still gets through.
 */
export class AcceptLoop {
  /** Resolves once the listener is closed and no more connections are accepted. */
  readonly accepting: Promise<void>;
  readonly #listener: Deno.Listener<Deno.TcpConn>;
  readonly #tasks = new Set<Promise<void>>();
  readonly #serve: (connection: Admitted) => Promise<void>;
  readonly #options: AcceptLoopOptions;
  readonly #admission: Admission<Deno.TcpConn>;
  #closing = false;

  constructor(
    listener: Deno.Listener<Deno.TcpConn>,
    serve: (connection: Admitted) => Promise<void>,
    options: AcceptLoopOptions,
  ) {
    this.#listener = listener;
    this.#serve = serve;
    this.#options = options;
    this.#admission = new Admission<Deno.TcpConn>(options.limits);
    this.accepting = this.#run();
  }

  /**
   * Serves a connection that did not come from the listener (a relayed one) exactly like an
   * accepted one: same admission limits, deadline and task. `peer` names it in place of its
   * remote address (which is the relay's). Once closed, the connection is closed instead.
   */
  adopt(conn: Deno.TcpConn, peer: string): void {
    if (this.#closing) return closeQuietly(conn);
    this.#start(conn, peer);
  }

  /** Stops accepting; connections already accepted go on. Safe to call more than once. */
  close(): void {
    this.#closing = true;
    closeQuietly(this.#listener);
  }

  /** Settles once every connection task running now has ended. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#tasks]);
  }

  async #run(): Promise<void> {
    for await (const conn of acceptAll(this.#listener)) {
      // Accepted in the same turn as close(): nobody will serve it.
      if (this.#closing) {
        closeQuietly(conn);
        continue;
      }
      this.#start(conn);
    }
  }

  #start(conn: Deno.TcpConn, peer?: string): void {
    this.#admission.admit(conn);
    conn.setNoDelay(true);
    const connection = new Admitted(conn, this.#admission, { ...this.#options, peer });
    const task = this.#serve(connection).finally(() => {
      connection.release();
      this.#tasks.delete(task);
    });
    this.#tasks.add(task);
  }
}
