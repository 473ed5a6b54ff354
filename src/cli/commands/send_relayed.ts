/**
 * Relayed connections on their way to the serving loop (docs/PROTOCOL.md §13.5): the sharing
 * session may hand one over as soon as its first announcement is through, before `send` serves;
 * those wait here. Each is named `relay#N` (its remote address is the relay's, the same for all)
 * and marked relayed in the sender's {@link PeerBook}, with the receiver's username the relay
 * gave, if any.
 */
import { closeQuietly } from "../../closable.ts";
import type { RelayedConnectionInfo } from "../../index/client/sharing.ts";
import type { PeerBook } from "./send_peers.ts";

/** Serves one connection like an accepted one (see `serveFiles`' `adopt`). */
export type Adopt = (conn: Deno.TcpConn, peer: string) => void;

/** Holds relayed connections until serving starts, then passes each on at once. */
export class RelayedInbox {
  #waiting: [Deno.TcpConn, RelayedConnectionInfo][] = [];
  #serve: { adopt: Adopt; peers: PeerBook } | undefined;
  #count = 0;
  #closed = false;

  /** Takes a relayed connection (the sharing session's `onRelayedConnection`). */
  readonly take = (conn: Deno.TcpConn, info: RelayedConnectionInfo): void => {
    if (this.#closed) return closeQuietly(conn);
    if (this.#serve === undefined) this.#waiting.push([conn, info]);
    else this.#deliver(conn, info);
  };

  /** Serving started: every connection waiting, and every later one, goes to `adopt`. */
  attach(adopt: Adopt, peers: PeerBook): void {
    this.#serve = { adopt, peers };
    for (const [conn, info] of this.#waiting.splice(0)) this.#deliver(conn, info);
  }

  /** Closes what still waits; later connections are closed as they come. */
  close(): void {
    this.#closed = true;
    for (const [conn] of this.#waiting.splice(0)) closeQuietly(conn);
  }

  #deliver(conn: Deno.TcpConn, info: RelayedConnectionInfo): void {
    const peer = `relay#${++this.#count}`;
    this.#serve!.peers.markRelayed(peer, { username: info.username });
    this.#serve!.adopt(conn, peer);
  }
}
