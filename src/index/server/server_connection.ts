/**
 * One index client's connection as the server holds it (server.ts): its channel once the
 * handshake is over, the transport under it, and the sender's leg once it is relayed.
 */
import { SfsError } from "../../errors.ts";
import { closeQuietly } from "../../closable.ts";
import type { Identity } from "../../crypto/identity.ts";
import type { Admitted } from "../../net/listener.ts";
import type { Lent } from "../../net/lent.ts";
import type { Channel } from "../../wire/channel.ts";
import { respond } from "../../wire/handshake.ts";
import type { ConnectionState } from "./handlers.ts";
import type { RelayHandover } from "./relay.ts";

/** A connection being served: its channel once the handshake is over, busy while answering. */
export interface Connection {
  readonly admitted: Admitted;
  channel?: Channel;
  /** The connection under the channel, lent to it so a RELAY can take it back (§13.3). */
  transport?: Lent<Deno.TcpConn>;
  busy: boolean;
  /** The sender's leg once this connection is relayed; closed with it. */
  relayed?: RelayHandover;
}

/**
 * Runs the handshake as responder on `c.transport`; its deadline ends with it (our reply is
 * out). Sets `c.channel` and returns the connection's state for the handlers.
 */
export async function handshake(
  c: Connection,
  identity: Identity,
  idleTimeoutMs: number,
): Promise<ConnectionState> {
  const { admitted } = c;
  const channel = await respond(c.transport!, identity, {
    idleTimeoutMs,
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
  return {
    peer: channel.peer,
    // Proofs (§12.2) bind to H_A: known to the client before its first request.
    transcriptHash: channel.authHash,
    address: admitted.peer,
    host: admitted.conn.remoteAddr.hostname,
    // Channel.send queues whole records, so a push never lands inside a reply (§13.4).
    push: (message) => channel.send(message),
  };
}

/** Closes the channel, the connection, and the sender's leg spliced to it. */
export function closeConnection(c: Connection): void {
  if (c.channel) c.channel.close();
  closeQuietly(c.admitted.conn);
  if (c.relayed) closeQuietly(c.relayed.sender);
}

/** Keeps SfsErrors; anything else is a bug, reported to the client without detail. */
export function asSfsError(err: unknown): SfsError {
  return err instanceof SfsError ? err : new SfsError("INTERNAL", "Internal server error");
}
