/**
 * The receiver's leg of a relayed connection (docs/PROTOCOL.md §13.3): an index session whose
 * sealed RELAY asks the server to pair it with the sender sharing one file; once the server
 * answers OK, the same TCP connection is a byte pipe to that sender, and the caller runs the
 * ordinary peer handshake on it exactly as on a direct connection. The file id and the relay
 * token travel sealed, so someone watching this leg learns neither.
 */
import { SfsError } from "../../errors.ts";
import { closeQuietly } from "../../closable.ts";
import type { Identity } from "../../crypto/identity.ts";
import { connect } from "../../net/connect.ts";
import { Lent } from "../../net/lent.ts";
import { IndexClient, type IndexClientOptions } from "./client.ts";

/** What a receiver knows about a relay for one share. */
export interface RelayRoute {
  /** The index server's host. */
  readonly host: string;
  /** The index server's port (the relay listens on it too). */
  readonly port: number;
  /** The share: its 16-byte file id. */
  readonly fileId: Uint8Array;
  /**
   * The per-share relay token from a ticket (16 bytes); absent when going through the index,
   * where the listing's visibility decides.
   */
  readonly token?: Uint8Array;
}

/** Options of {@link dialRelay}. */
export interface DialRelayOptions {
  /** The receiver's identity, for the index session's handshake. */
  identity: Identity;
  /** Checks the index server's key (pinning); throws to refuse it before anything is sent. */
  verifyServer: IndexClientOptions["verifyServer"];
  /**
   * Authenticates the index session before RELAY (AUTH with the receiver's account), so that
   * listings shared only with that account may be relayed. Without it the session is anonymous.
   */
  authenticate?: (client: IndexClient) => Promise<void>;
  /** Aborting closes the connection, whatever step it is at. */
  signal?: AbortSignal;
  /** Bound on the TCP connect. @default CONNECT_TIMEOUT_MS (net/connect.ts) */
  connectTimeoutMs?: number;
  /** Bound on each reply, the pairing included. @default 30000 */
  idleTimeoutMs?: number;
}

/**
 * Opens a connection that reaches the sharing sender through the relay. Rejects with SfsError
 * RELAY_OFF (relay disabled), BUSY or RATE_LIMITED (limits), NOT_FOUND (no sender online for
 * that share, or not one this receiver may see), REFUSED (a token not valid for that share),
 * CONNECTION_FAILED (the sender did not dial in), or what connecting and the handshake throw.
 */
export async function dialRelay(
  route: RelayRoute,
  options: DialRelayOptions,
): Promise<Deno.TcpConn> {
  const { signal } = options;
  signal?.throwIfAborted();
  const conn = await connect({ host: route.host, port: route.port }, options.connectTimeoutMs);
  const stop = () => closeQuietly(conn);
  signal?.addEventListener("abort", stop, { once: true });
  const lent = new Lent(conn);
  let client: IndexClient | undefined;
  try {
    client = await IndexClient.connect(lent, options.identity, {
      verifyServer: options.verifyServer,
      idleTimeoutMs: options.idleTimeoutMs,
    });
    await options.authenticate?.(client);
    await client.relay(new Uint8Array(route.fileId), route.token && new Uint8Array(route.token));
    signal?.throwIfAborted();
    // From the byte after OK on, the connection belongs to the peers: the index session ends
    // (its keys are freed) and the TCP connection is handed over open.
    lent.take();
    return conn;
  } catch (err) {
    stop();
    if (signal?.aborted) {
      throw signal.reason instanceof SfsError
        ? signal.reason
        : new SfsError("INTERRUPTED", "Relaying was cancelled", { cause: err });
    }
    throw err;
  } finally {
    signal?.removeEventListener("abort", stop);
    client?.close();
  }
}
