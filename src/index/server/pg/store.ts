/**
 * The index store in PostgreSQL: the {@linkcode IndexStore} of ../store.ts for any number of
 * `sfs server` processes on one database (README "Running several index servers").
 *
 * - connect.ts opens the pool and migrates (schema.ts); users.ts keeps accounts and attempts;
 *   presence.ts sessions, server beats and cross-server messages; listings.ts writes listings;
 *   queries.ts answers SEARCH, LIST and RESOLVE; fts.ts is the search language; relay.ts is the
 *   relay's directory. This file puts them behind the one query API, IndexStore.
 * - Nothing a second server must see is kept in process memory: accounts, attempt counts (the
 *   throttle's lockouts and registration quota), sessions and listings are rows. What stays in
 *   memory is safe to hold per process: owner identities cached by fingerprint (a fingerprint is
 *   a hash of its identity, so an entry is never stale) and a counter that spaces out pruning.
 * - Presence and cross-server requests: see presence.ts.
 */
import { PRESENCE_TIMEOUT_MS } from "../../protocol/limits.ts";
import type { IndexStore } from "../store.ts";
import type { Announcement, Withdrawal } from "../store_listings.ts";
import type { ListingRecord, ListOptions, PageOptions } from "../store_queries.ts";
import type { NewUser, User } from "../store_users.ts";
import { type ConnectOptions, connectPg, pgError, type Sql } from "./connect.ts";
import * as listings from "./listings.ts";
import * as presence from "./presence.ts";
import * as relay from "./relay.ts";
import type { RelayDirectory } from "../relay_directory.ts";
import { PgQueries } from "./queries.ts";
import * as users from "./users.ts";

export { PG_SCHEMA_VERSION } from "./schema.ts";
export { MAX_NOTIFY_BYTES } from "./presence.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
/** How often a server beats its `servers` row by default. */
export const DEFAULT_SERVER_BEAT_MS = 5_000;

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
  readonly #attempts: users.PgAttempts;
  readonly #presenceTimeoutMs: number;
  readonly #queries: PgQueries;
  readonly #serverId: string;
  #beat: ReturnType<typeof setInterval> | undefined;
  #closed: Promise<void> | undefined;

  private constructor(sql: Sql, options: PgStoreOptions) {
    this.#sql = sql;
    this.#now = options.now ?? Date.now;
    this.#attempts = new users.PgAttempts(this.#now, options.failedLoginRetentionMs ?? DAY_MS);
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
        await presence.removeServer(this.#sql, this.#serverId);
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

  // Accounts and attempts (users.ts)

  /** Creates an account: EXISTS when the name is taken in any case, USAGE for a bad name. */
  createUser(user: NewUser): Promise<number> {
    return this.#run((sql) => users.createUser(sql, user, this.#now()));
  }

  /** An account by username, ignoring case. */
  getUser(username: string): Promise<User | undefined> {
    return this.#run((sql) => users.getUser(sql, username));
  }

  /** An account by id. */
  getUserById(userId: number): Promise<User | undefined> {
    return this.#run((sql) => users.getUserById(sql, userId));
  }

  /** Replaces an account's identity; NOT_FOUND for an unknown user. */
  updateUserKeys(userId: number, identity: Uint8Array, fingerprint: string): Promise<void> {
    const keys = { identity, fingerprint, now: this.#now() };
    return this.#run((sql) => users.updateUserKeys(sql, userId, keys));
  }

  /** Replaces an account's password hash; NOT_FOUND for an unknown user. */
  updatePasswordHash(userId: number, passwordHash: string): Promise<void> {
    return this.#run((sql) => users.updatePasswordHash(sql, userId, passwordHash));
  }

  /** Records one attempt under `key`, pruning the key's expired ones. */
  recordAttempt(key: string): Promise<void> {
    return this.#run((sql) => this.#attempts.record(sql, key));
  }

  /** Records one attempt unless `max` were recorded since `sinceMs`, as one step on every server. */
  recordAttemptWithin(key: string, sinceMs: number, max: number): Promise<boolean> {
    return this.#run((sql) => this.#attempts.recordWithin(sql, key, sinceMs, max));
  }

  /** Attempts under `key` at or after `sinceMs`. */
  attemptsSince(key: string, sinceMs: number): Promise<number> {
    return this.#run((sql) => this.#attempts.since(sql, key, sinceMs));
  }

  /** Forgets the attempts under `key`. */
  clearAttempts(key: string): Promise<void> {
    return this.#run((sql) => this.#attempts.clear(sql, key));
  }

  // Sessions and presence

  /** Marks the session online at `address`, held by this server: NOT_FOUND, EXISTS as store.ts. */
  setOnline(userId: number, sessionId: string, address: string): Promise<void> {
    const session = { userId, sessionId, address, serverId: this.#serverId, now: this.#now() };
    return this.#run((sql) => presence.setOnline(sql, session));
  }

  /** Notes that the session is alive; false if unknown. */
  heartbeat(sessionId: string): Promise<boolean> {
    return this.#run((sql) => presence.heartbeat(sql, sessionId, this.#now()));
  }

  /** Marks the session offline; false if unknown. */
  setOffline(sessionId: string): Promise<boolean> {
    return this.#run((sql) => presence.setOffline(sql, sessionId, this.#now()));
  }

  /** Marks offline every session, of any server, not heard from in the last `olderThanMs`. */
  expireStale(olderThanMs: number): Promise<number> {
    const cutoff = this.#now() - olderThanMs;
    return this.#run((sql) => presence.expireStale(sql, cutoff));
  }

  /**
   * Marks offline the online sessions of servers that are gone (no row, or a beat older than
   * the presence timeout), and forgets those servers' rows. Sessions of running servers stay.
   */
  expireOrphans(): Promise<number> {
    const cutoff = this.#now() - this.#presenceTimeoutMs;
    return this.#run((sql) => presence.expireOrphans(sql, this.#serverId, cutoff));
  }

  /** Deletes sessions offline and unheard of for `olderThanMs`, with their announcements. */
  pruneOfflineSessions(olderThanMs: number): Promise<number> {
    const cutoff = this.#now() - olderThanMs;
    return this.#run((sql) => presence.pruneOfflineSessions(sql, cutoff));
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
  pruneWithdrawals(olderThanMs: number): Promise<number> {
    const cutoff = this.#now() - olderThanMs;
    return this.#run((sql) => listings.pruneWithdrawals(sql, cutoff));
  }

  /** Withdraws every announcement of `ownerId`. */
  unshareAll(ownerId: number): Promise<number> {
    return this.#run((sql) => listings.unshareAll(sql, ownerId));
  }

  /** Withdraws every announcement of `sessionId`. */
  removeSessionAnnouncements(sessionId: string): Promise<number> {
    return this.#run((sql) => listings.removeSessionAnnouncements(sql, sessionId));
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

  /** The server holding `sessionId`'s connection while it and the session live (presence.ts). */
  sessionServer(sessionId: string): Promise<string | undefined> {
    const cutoff = this.#now() - this.#presenceTimeoutMs;
    return this.#run((sql) => presence.sessionServer(sql, sessionId, cutoff));
  }

  /** The server serving file `id` while alive (presence.ts): ask only for a listing shown. */
  listingServer(id: string): Promise<string | undefined> {
    const cutoff = this.#now() - this.#presenceTimeoutMs;
    return this.#run((sql) => presence.listingServer(sql, id, cutoff));
  }

  /** Sends `payload` to the server process `serverId`, at most once (presence.ts). */
  notify(serverId: string, payload: string): Promise<void> {
    return this.#run((sql) => presence.notify(sql, serverId, payload));
  }

  /** Calls `onMessage` with every payload {@linkcode notify} sends here (presence.ts). */
  async listen(onMessage: (payload: string) => void): Promise<PgListener> {
    const unlisten = await this.#run((sql) => presence.listen(sql, this.#serverId, onMessage));
    return { close: () => unlisten() };
  }

  /**
   * The relay's directory on this database (pg/relay.ts): relay tokens any server of the index
   * finds, and dial requests carried by {@linkcode notify} and {@linkcode listen}.
   */
  relayDirectory(): RelayDirectory {
    return relay.relayDirectoryOn((fn) => this.#run(fn), this.#serverId, {
      cutoff: () => this.#now() - this.#presenceTimeoutMs,
      send: (serverId, payload) => this.notify(serverId, payload),
      listen: (onMessage) => this.listen(onMessage),
    });
  }

  /** Beats this server's row (creating it on the first beat). */
  #beatOnce(): Promise<void> {
    return presence.beat(this.#sql, this.#serverId, this.#now());
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
