/**
 * Where the relay looks up who may be relayed to (docs/PROTOCOL.md §13.2, §13.7): the per-share
 * relay tokens that sharing connections registered, and the way to ask the server holding one of
 * those connections to push RELAY_DIAL on it.
 *
 * - {@linkcode MemoryRelayDirectory}: one process (SQLite): tokens in memory, tied to their
 *   connection, as they always were; every candidate is on this server.
 * - pg/relay.ts: several processes on one PostgreSQL database: tokens (hashed) in a table any
 *   server reads, dial requests carried by LISTEN/NOTIFY to the server holding the connection.
 */
import { type Bytes, constantTimeEqual } from "../../crypto/bytes.ts";
import { SfsError } from "../../errors.ts";

/** A sharing connection a RELAY may be paired with. */
export interface RelayCandidate {
  /** The server process holding the connection ({@linkcode RelayDirectory.serverId}: this one). */
  readonly server: string;
  /** The connection's id, unique among all servers (32 hex digits). */
  readonly connection: string;
  /** The sharing user; -1 for an open code's sender without an account. */
  readonly userId: number;
  /**
   * Set for an open code's sender without an account (§13.2, §14.5): what its relayed sessions
   * count against (`address:KEY`) instead of a user.
   */
  readonly codeOwner?: string;
}

/** A listener of dial requests; see {@linkcode RelayDirectory.listen}. */
export interface RelayInbox {
  /** Stops listening. */
  close(): Promise<void>;
}

/** The relay's registrations and its messages between servers; see the module docs. */
export interface RelayDirectory {
  /** This server process's id among the servers of the directory. */
  readonly serverId: string;
  /** Registers, or replaces, the relay token of `fileId` (hex) on a connection of this server. */
  register(connection: string, userId: number, fileId: string, token: Bytes): Promise<void>;
  /** Forgets every registration of a connection of this server that closed. */
  forget(connection: string): Promise<void>;
  /** The most recent live registration of `fileId` whose token equals `token`, if any. */
  byToken(fileId: string, token: Uint8Array): Promise<RelayCandidate | undefined>;
  /** The most recent live registration of `fileId`, if any. */
  latest(fileId: string): Promise<RelayCandidate | undefined>;
  /** Sends a dial request to server `serverId`: at most once, lost if nobody listens. */
  send(serverId: string, payload: string): Promise<void>;
  /** Calls `onMessage` with each dial request sent to this server; resolves once listening. */
  listen(onMessage: (payload: string) => void): Promise<RelayInbox>;
}

interface Registration {
  readonly connection: string;
  readonly userId: number;
  readonly token: Bytes;
  /** Registration order: the most recent candidate wins. */
  readonly order: number;
}

/** The directory of one server process alone: everything in memory. */
export class MemoryRelayDirectory implements RelayDirectory {
  readonly serverId: string;
  /** Registrations by file id (hex), then by connection. */
  readonly #files = new Map<string, Map<string, Registration>>();
  #order = 0;

  /** `serverId` names this process among others (a broker's own registrations). @default "local" */
  constructor(serverId = "local") {
    this.serverId = serverId;
  }

  /** Registers, or replaces, a token. */
  register(connection: string, userId: number, fileId: string, token: Bytes): Promise<void> {
    let byConnection = this.#files.get(fileId);
    if (byConnection === undefined) this.#files.set(fileId, byConnection = new Map());
    byConnection.set(connection, {
      connection,
      userId,
      token: token.slice(),
      order: this.#order++,
    });
    return Promise.resolve();
  }

  /** Forgets a connection's registrations. */
  forget(connection: string): Promise<void> {
    for (const [fileId, byConnection] of this.#files) {
      byConnection.delete(connection);
      if (byConnection.size === 0) this.#files.delete(fileId);
    }
    return Promise.resolve();
  }

  /** The most recent registration of `fileId` with this token. */
  byToken(fileId: string, token: Uint8Array): Promise<RelayCandidate | undefined> {
    let found: Registration | undefined;
    for (const r of this.#files.get(fileId)?.values() ?? []) {
      // Every candidate is compared, in constant time, so timing tells nothing of the token.
      if (constantTimeEqual(r.token, token) && (found === undefined || r.order > found.order)) {
        found = r;
      }
    }
    return Promise.resolve(this.#candidate(found));
  }

  /** The most recent registration of `fileId`. */
  latest(fileId: string): Promise<RelayCandidate | undefined> {
    let found: Registration | undefined;
    for (const r of this.#files.get(fileId)?.values() ?? []) {
      if (found === undefined || r.order > found.order) found = r;
    }
    return Promise.resolve(this.#candidate(found));
  }

  /** Never called: every candidate of this directory is on this server. */
  send(serverId: string): Promise<void> {
    return Promise.reject(new SfsError("INTERNAL", `No server "${serverId}" to send to`));
  }

  /** Nobody else sends: nothing to listen to. */
  listen(): Promise<RelayInbox> {
    return Promise.resolve({ close: () => Promise.resolve() });
  }

  #candidate(r: Registration | undefined): RelayCandidate | undefined {
    return r && { server: this.serverId, connection: r.connection, userId: r.userId };
  }
}
