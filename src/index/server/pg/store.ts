/**
 * The index store in PostgreSQL: the {@linkcode IndexStore} of ../store.ts for any number of
 * `sfs server` processes on one database (README "Running several index servers").
 *
 * - connect.ts opens the pool and migrates (schema.ts); listings.ts writes listings; queries.ts
 *   answers SEARCH, LIST and RESOLVE; fts.ts is the search language; this file: accounts,
 *   attempts, sessions, presence, and the seam for cross-server requests.
 * - Nothing a second server must see is kept in process memory: accounts, attempt counts (the
 *   throttle's lockouts and registration quota), sessions and listings are rows. What stays in
 *   memory is safe to hold per process: owner identities cached by fingerprint (a fingerprint is
 *   a hash of its identity, so an entry is never stale) and a counter that spaces out pruning.
 * - Presence: every server process has a random id and a row in `servers` that it beats every
 *   few seconds; each session names the server holding its connection. A session shows online
 *   while its last heartbeat is younger than the presence timeout, whichever server reads it.
 *   A server starting marks offline only the sessions of servers that stopped beating.
 * - Cross-server requests: {@linkcode PgStore.notify} and {@linkcode PgStore.listen} carry short
 *   messages between server processes over LISTEN/NOTIFY, addressed by server id (see
 *   {@linkcode PgStore.sessionServer}); the relay's directory (relay.ts) is built on them.
 */
import { SfsError } from "../../../errors.ts";
import { PRESENCE_TIMEOUT_MS } from "../../protocol/limits.ts";
import { canonicalUsername, validateUsername } from "../../protocol/usernames.ts";
import type { IndexStore } from "../store.ts";
import {
  type Announcement,
  checkAddress,
  checkSessionId,
  type Withdrawal,
} from "../store_listings.ts";
import type { ListingRecord, ListOptions, PageOptions } from "../store_queries.ts";
import type { NewUser, User } from "../store_users.ts";
import { type ConnectOptions, connectPg, pgError, type Sql, type TxSql } from "./connect.ts";
import * as listings from "./listings.ts";
import * as relay from "./relay.ts";
import type { RelayDirectory } from "../relay_directory.ts";
import { copy, PgQueries } from "./queries.ts";

export { PG_SCHEMA_VERSION } from "./schema.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const ATTEMPT_PRUNE_EVERY = 1000;
/** How often a server beats its `servers` row by default. */
export const DEFAULT_SERVER_BEAT_MS = 5_000;
/** Longest payload of one cross-server message (PostgreSQL's NOTIFY limit is 8000 bytes). */
export const MAX_NOTIFY_BYTES = 7_900;
const NOTIFY_CHANNEL_PREFIX = "sfs_server_";

/** Options of {@linkcode PgStore.connect}. */
export interface PgStoreOptions extends ConnectOptions {
  /** Clock in milliseconds since the epoch. @default {Date.now} */
  now?: () => number;
  /** Failed-login rows older than this are pruned. @default {86_400_000} (one day) */
  failedLoginRetentionMs?: number;
  /** Silence after which a session, or a server, no longer counts as alive. @default 30000 */
  presenceTimeoutMs?: number;
  /** Interval of this server's liveness beat; 0 turns the timer off (tests). @default 5000 */
  serverBeatMs?: number;
  /** This process's server id. @default {a random UUID} */
  serverId?: string;
}

/** A listener of cross-server messages; see {@linkcode PgStore.listen}. */
export interface PgListener {
  /** Stops listening. */
  close(): Promise<void>;
}

/** Persistent index state in PostgreSQL; see the module docs. */
export class PgStore implements IndexStore {
  readonly #sql: Sql;
  readonly #now: () => number;
  readonly #retentionMs: number;
  readonly #presenceTimeoutMs: number;
  readonly #queries: PgQueries;
  readonly #serverId: string;
  #beat: ReturnType<typeof setInterval> | undefined;
  #attemptsSincePrune = 0;
  #closed: Promise<void> | undefined;

  private constructor(sql: Sql, options: PgStoreOptions) {
    this.#sql = sql;
    this.#now = options.now ?? Date.now;
    this.#retentionMs = options.failedLoginRetentionMs ?? DAY_MS;
    this.#presenceTimeoutMs = options.presenceTimeoutMs ?? PRESENCE_TIMEOUT_MS;
    this.#serverId = options.serverId ?? crypto.randomUUID();
    this.#queries = new PgQueries(sql, () => this.#now() - this.#presenceTimeoutMs);
  }

  /**
   * Connects to `url` (postgres://USER@HOST:PORT/DB), applies missing migrations under an
   * advisory lock, and registers this server process. SfsError VERSION_MISMATCH for a database
   * made by a newer sfs, IO when it cannot be reached, USAGE for a bad URL.
   */
  static async connect(url: string, options: PgStoreOptions = {}): Promise<PgStore> {
    const store = new PgStore(await connectPg(url, options), options);
    try {
      await store.#beatOnce();
    } catch (err) {
      await store.#sql.end({ timeout: 1 }).catch(() => {});
      throw pgError(err);
    }
    const every = options.serverBeatMs ?? DEFAULT_SERVER_BEAT_MS;
    if (every > 0) {
      store.#beat = setInterval(() => store.#beatOnce().catch(() => {}), every);
    }
    return store;
  }

  /** This server process's id, the address other servers {@linkcode notify}. */
  get serverId(): string {
    return this.#serverId;
  }

  /** Stops the beat, removes this server's row (its sessions are already offline) and closes. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      clearInterval(this.#beat);
      try {
        await this.#sql.begin(async (tx) => {
          await tx`DELETE FROM relay_tokens WHERE server_id = ${this.#serverId}`;
          await tx`DELETE FROM servers WHERE id = ${this.#serverId}`;
        });
      } catch {
        // The database is gone; the row ages out and other servers treat it as dead.
      }
      await this.#sql.end({ timeout: 5 });
    })();
    return this.#closed;
  }

  /** The database's schema version; equals {@linkcode PG_SCHEMA_VERSION} once open. */
  schemaVersion(): Promise<number> {
    return this.#run(async (sql) => {
      const [row] = await sql<{ version: number }[]>`SELECT version FROM sfs_schema`;
      return row?.version ?? 0;
    });
  }

  // Accounts and attempts

  /** Creates an account: EXISTS when the name is taken in any case, USAGE for a bad name. */
  async createUser(user: NewUser): Promise<number> {
    const key = validateUsername(user.username);
    const now = this.#now();
    const [row] = await this.#run((sql) =>
      sql<{ id: number }[]>`
        INSERT INTO users (username, username_key, password_hash, identity, fingerprint,
          created_at, keys_updated_at)
        VALUES (${user.username.normalize("NFC")}, ${key}, ${user.passwordHash},
          ${user.identity}, ${user.fingerprint}, ${now}, ${now})
        ON CONFLICT (username_key) DO NOTHING
        RETURNING id`
    );
    if (row === undefined) throw new SfsError("EXISTS", `Username "${user.username}" is taken`);
    return row.id;
  }

  /** An account by username, ignoring case. */
  async getUser(username: string): Promise<User | undefined> {
    const key = canonicalUsername(username);
    if (key === undefined) return undefined;
    const [row] = await this.#run((sql) =>
      sql<UserRow[]>`SELECT ${sql(USER_COLUMNS)} FROM users WHERE username_key = ${key}`
    );
    return row === undefined ? undefined : toUser(row);
  }

  /** An account by id. */
  async getUserById(userId: number): Promise<User | undefined> {
    const [row] = await this.#run((sql) =>
      sql<UserRow[]>`SELECT ${sql(USER_COLUMNS)} FROM users WHERE id = ${userId}`
    );
    return row === undefined ? undefined : toUser(row);
  }

  /** Replaces an account's identity; NOT_FOUND for an unknown user. */
  async updateUserKeys(userId: number, identity: Uint8Array, fingerprint: string): Promise<void> {
    const result = await this.#run((sql) =>
      sql`UPDATE users SET identity = ${identity}, fingerprint = ${fingerprint},
        keys_updated_at = ${this.#now()} WHERE id = ${userId}`
    );
    if (result.count === 0) throw new SfsError("NOT_FOUND", `No user with id ${userId}`);
  }

  /** Replaces an account's password hash; NOT_FOUND for an unknown user. */
  async updatePasswordHash(userId: number, passwordHash: string): Promise<void> {
    const result = await this.#run((sql) =>
      sql`UPDATE users SET password_hash = ${passwordHash} WHERE id = ${userId}`
    );
    if (result.count === 0) throw new SfsError("NOT_FOUND", `No user with id ${userId}`);
  }

  /** Records one attempt under `key`, pruning the key's expired ones. */
  recordAttempt(key: string): Promise<void> {
    return this.#run((sql) => sql.begin((tx) => this.#insertAttempt(tx, key)));
  }

  /**
   * Records one attempt unless `max` were recorded since `sinceMs`. A transaction-scoped
   * advisory lock on the key makes count and insert one step across every server.
   */
  recordAttemptWithin(key: string, sinceMs: number, max: number): Promise<boolean> {
    return this.#run((sql) =>
      sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(hashtextextended(${"attempt:" + key}, 0))`;
        const [{ n }] = await tx<{ n: number }[]>`
          SELECT count(*) AS n FROM attempts WHERE key = ${key} AND at >= ${sinceMs}`;
        if (n >= max) return false;
        await this.#insertAttempt(tx, key);
        return true;
      })
    );
  }

  /** Attempts under `key` at or after `sinceMs`. */
  async attemptsSince(key: string, sinceMs: number): Promise<number> {
    const [{ n }] = await this.#run((sql) =>
      sql<
        { n: number }[]
      >`SELECT count(*) AS n FROM attempts WHERE key = ${key} AND at >= ${sinceMs}`
    );
    return n;
  }

  /** Forgets the attempts under `key`. */
  async clearAttempts(key: string): Promise<void> {
    await this.#run((sql) => sql`DELETE FROM attempts WHERE key = ${key}`);
  }

  async #insertAttempt(tx: Sql | TxSql, key: string): Promise<void> {
    const now = this.#now();
    const cutoff = now - this.#retentionMs;
    await tx`INSERT INTO attempts (key, at) VALUES (${key}, ${now})`;
    await tx`DELETE FROM attempts WHERE key = ${key} AND at < ${cutoff}`;
    // Keys that never come back are swept now and then (per process: any server's sweep will do).
    if (++this.#attemptsSincePrune >= ATTEMPT_PRUNE_EVERY) {
      this.#attemptsSincePrune = 0;
      await tx`DELETE FROM attempts WHERE at < ${cutoff}`;
    }
  }

  // Sessions and presence

  /** Marks the session online at `address`, held by this server: NOT_FOUND, EXISTS as store.ts. */
  async setOnline(userId: number, sessionId: string, address: string): Promise<void> {
    checkSessionId(sessionId);
    checkAddress(address);
    const now = this.#now();
    await this.#run((sql) =>
      sql.begin(async (tx) => {
        const [user] = await tx`SELECT 1 FROM users WHERE id = ${userId}`;
        if (user === undefined) throw new SfsError("NOT_FOUND", `No user with id ${userId}`);
        // The WHERE on DO UPDATE keeps a session id from being taken over by another user.
        const [row] = await tx`
          INSERT INTO sessions (id, user_id, server_id, address, online, started_at, last_seen)
          VALUES (${sessionId}, ${userId}, ${this.#serverId}, ${address}, true, ${now}, ${now})
          ON CONFLICT (id) DO UPDATE SET
            address = excluded.address, server_id = excluded.server_id, online = true,
            last_seen = excluded.last_seen
          WHERE sessions.user_id = excluded.user_id
          RETURNING 1`;
        if (row === undefined) throw new SfsError("EXISTS", "Session id belongs to another user");
      })
    );
  }

  /** Notes that the session is alive; false if unknown. */
  async heartbeat(sessionId: string): Promise<boolean> {
    const result = await this.#run((sql) =>
      sql`UPDATE sessions SET last_seen = ${this.#now()}, online = true WHERE id = ${sessionId}`
    );
    return result.count > 0;
  }

  /** Marks the session offline; false if unknown. */
  async setOffline(sessionId: string): Promise<boolean> {
    const result = await this.#run((sql) =>
      sql`UPDATE sessions SET online = false, last_seen = ${this.#now()} WHERE id = ${sessionId}`
    );
    return result.count > 0;
  }

  /** Marks offline every session, of any server, not heard from in the last `olderThanMs`. */
  async expireStale(olderThanMs: number): Promise<number> {
    const cutoff = this.#now() - olderThanMs;
    const result = await this.#run((sql) =>
      sql`UPDATE sessions SET online = false WHERE online AND last_seen < ${cutoff}`
    );
    return result.count;
  }

  /**
   * Marks offline the online sessions of servers that are gone (no row, or a beat older than
   * the presence timeout), and forgets those servers' rows. Sessions of running servers stay.
   */
  expireOrphans(): Promise<number> {
    const cutoff = this.#now() - this.#presenceTimeoutMs;
    return this.#run((sql) =>
      sql.begin(async (tx) => {
        await tx`DELETE FROM servers WHERE last_seen < ${cutoff} AND id <> ${this.#serverId}`;
        await tx`
          DELETE FROM relay_tokens r
          WHERE NOT EXISTS (SELECT 1 FROM servers v WHERE v.id = r.server_id)`;
        const result = await tx`
          UPDATE sessions s SET online = false
          WHERE s.online AND NOT EXISTS (SELECT 1 FROM servers v WHERE v.id = s.server_id)`;
        return result.count;
      })
    );
  }

  /** Deletes sessions offline and unheard of for `olderThanMs`, with their announcements. */
  async pruneOfflineSessions(olderThanMs: number): Promise<number> {
    const cutoff = this.#now() - olderThanMs;
    const result = await this.#run((sql) =>
      sql`DELETE FROM sessions WHERE NOT online AND last_seen < ${cutoff}`
    );
    return result.count;
  }

  // Announcements

  /** Stores or replaces one announcement. */
  announce(announcement: Announcement): Promise<void> {
    return this.announceMany([announcement]);
  }

  /** Stores or replaces announcements, all or none (listings.ts). */
  announceMany(announcements: readonly Announcement[]): Promise<void> {
    return this.#run((sql) => listings.announceMany(sql, announcements, this.#now()));
  }

  /** Withdraws one of the owner's files and remembers it. */
  unshare(ownerId: number, id: string): Promise<boolean> {
    return this.#run((sql) => listings.unshare(sql, ownerId, id, this.#now()));
  }

  /** The owner's withdrawals made at or after `sinceMs`. */
  withdrawalsSince(ownerId: number, sinceMs: number): Promise<Withdrawal[]> {
    return this.#run((sql) => listings.withdrawalsSince(sql, ownerId, sinceMs));
  }

  /** Forgets withdrawals older than `olderThanMs`. */
  async pruneWithdrawals(olderThanMs: number): Promise<number> {
    const cutoff = this.#now() - olderThanMs;
    const result = await this.#run((sql) =>
      sql`DELETE FROM withdrawals WHERE withdrawn_at < ${cutoff}`
    );
    return result.count;
  }

  /** Withdraws every announcement of `ownerId`. */
  async unshareAll(ownerId: number): Promise<number> {
    const result = await this.#run((sql) =>
      sql`DELETE FROM announcements WHERE owner_id = ${ownerId}`
    );
    return result.count;
  }

  /** Withdraws every announcement of `sessionId`. */
  async removeSessionAnnouncements(sessionId: string): Promise<number> {
    const result = await this.#run((sql) =>
      sql`DELETE FROM announcements WHERE session_id = ${sessionId}`
    );
    return result.count;
  }

  // Queries (queries.ts)

  /** Full-text search, newest first. */
  search(terms: string, options: PageOptions = {}): Promise<ListingRecord[]> {
    return this.#run(() => this.#queries.search(terms, options));
  }

  /** Visible announcements, newest first. */
  list(options: ListOptions = {}): Promise<ListingRecord[]> {
    return this.#run(() => this.#queries.list(options));
  }

  /** One announcement by id, if visible. */
  get(id: string, viewer?: number): Promise<ListingRecord | undefined> {
    return this.#run(() => this.#queries.get(id, viewer));
  }

  /** Exact name ignoring case, online first. */
  findByName(name: string, viewer?: number): Promise<ListingRecord[]> {
    return this.#run(() => this.#queries.findByName(name, viewer));
  }

  // Cross-server messages: the seam the cross-server relay builds on

  /**
   * The server holding `sessionId`'s connection, while that server is alive (its beat younger
   * than the presence timeout) and the session online; undefined otherwise.
   */
  async sessionServer(sessionId: string): Promise<string | undefined> {
    const cutoff = this.#now() - this.#presenceTimeoutMs;
    const [row] = await this.#run((sql) =>
      sql<{ server_id: string }[]>`
        SELECT s.server_id FROM sessions s JOIN servers v ON v.id = s.server_id
        WHERE s.id = ${sessionId} AND s.online AND s.last_seen >= ${cutoff}
          AND v.last_seen >= ${cutoff}`
    );
    return row?.server_id;
  }

  /**
   * The server holding the connection of the session that serves file `id`, while that server
   * and session are alive (see {@linkcode sessionServer}); undefined otherwise. Visibility is
   * not checked here: ask only for a listing the viewer was shown.
   */
  async listingServer(id: string): Promise<string | undefined> {
    const cutoff = this.#now() - this.#presenceTimeoutMs;
    const [row] = await this.#run((sql) =>
      sql<{ server_id: string }[]>`
        SELECT s.server_id FROM announcements a
        JOIN sessions s ON s.id = a.session_id JOIN servers v ON v.id = s.server_id
        WHERE a.id = ${id} AND s.online AND s.last_seen >= ${cutoff} AND v.last_seen >= ${cutoff}`
    );
    return row?.server_id;
  }

  /**
   * Sends `payload` to the server process `serverId` (NOTIFY on its channel). Delivery is at
   * most once and only to a server listening now; the payload is text the receiver must
   * validate like any request (at most {@linkcode MAX_NOTIFY_BYTES} UTF-8 bytes).
   */
  async notify(serverId: string, payload: string): Promise<void> {
    if (new TextEncoder().encode(payload).length > MAX_NOTIFY_BYTES) {
      throw new SfsError("BAD_MESSAGE", `Server message longer than ${MAX_NOTIFY_BYTES} bytes`);
    }
    await this.#run((sql) => sql`SELECT pg_notify(${channelOf(serverId)}, ${payload})`);
  }

  /**
   * Calls `onMessage` with every payload {@linkcode notify} sends to this server; resolves once
   * the LISTEN is active. The driver re-listens after a lost connection (messages sent
   * meanwhile are lost: senders must time out and retry).
   */
  async listen(onMessage: (payload: string) => void): Promise<PgListener> {
    const { unlisten } = await this.#run((sql) => sql.listen(channelOf(this.#serverId), onMessage));
    return { close: () => unlisten() };
  }

  /**
   * The relay's directory on this database (pg/relay.ts): relay tokens any server of the index
   * finds, and dial requests carried by {@linkcode notify} and {@linkcode listen}.
   */
  relayDirectory(): RelayDirectory {
    const cutoff = () => this.#now() - this.#presenceTimeoutMs;
    return {
      serverId: this.#serverId,
      register: (connection, userId, fileId, token) =>
        this.#run((sql) =>
          relay.registerToken(sql, { serverId: this.#serverId, connection, userId, fileId, token })
        ),
      forget: (connection) => this.#run((sql) => relay.forgetConnection(sql, connection)),
      byToken: (fileId, token) =>
        this.#run((sql) => relay.findRegistration(sql, fileId, token, cutoff())),
      latest: (fileId) =>
        this.#run((sql) => relay.findRegistration(sql, fileId, undefined, cutoff())),
      send: (serverId, payload) => this.notify(serverId, payload),
      listen: (onMessage) => this.listen(onMessage),
    };
  }

  /** Beats this server's row (creating it on the first beat). */
  async #beatOnce(): Promise<void> {
    const now = this.#now();
    await this.#sql`
      INSERT INTO servers (id, started_at, last_seen) VALUES (${this.#serverId}, ${now}, ${now})
      ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen`;
  }

  /** Runs a database call, turning driver and database failures into SfsError IO. */
  async #run<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    try {
      return await fn(this.#sql);
    } catch (err) {
      throw pgError(err);
    }
  }
}

const USER_COLUMNS = [
  "id",
  "username",
  "password_hash",
  "identity",
  "fingerprint",
  "created_at",
  "keys_updated_at",
];

interface UserRow {
  id: number;
  username: string;
  password_hash: string;
  identity: Uint8Array;
  fingerprint: string;
  created_at: number;
  keys_updated_at: number;
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    identity: copy(row.identity),
    fingerprint: row.fingerprint,
    createdAt: row.created_at,
    keysUpdatedAt: row.keys_updated_at,
  };
}

/** The NOTIFY channel of a server: a fixed prefix and the id's letters, digits and dashes. */
function channelOf(serverId: string): string {
  if (!/^[0-9a-zA-Z-]{1,40}$/.test(serverId)) {
    throw new SfsError("BAD_MESSAGE", "Invalid server id");
  }
  return NOTIFY_CHANNEL_PREFIX + serverId.toLowerCase();
}
