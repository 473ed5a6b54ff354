/**
 * The index server's persistent state behind one interface, {@linkcode IndexStore}: accounts,
 * attempt counts, sharing sessions and announced files with their full-text search. Two
 * implementations keep the same rules and pass the same tests (store_test.ts):
 *
 * - store_sqlite.ts: SQLite through `node:sqlite`, one file, one server process (the default);
 * - pg/store.ts: PostgreSQL, any number of server processes on one database.
 *
 * Every method returns a promise. The SQLite implementation still runs each call synchronously
 * (its calls are short and block the event loop while they run); PostgreSQL calls wait for the
 * database without blocking.
 */
import type { Announcement, Withdrawal } from "./store_listings.ts";
import type { ListingRecord, ListOptions, PageOptions } from "./store_queries.ts";
import type { NewUser, User } from "./store_users.ts";

export type { NewUser, User } from "./store_users.ts";
export type { Announcement, Withdrawal } from "./store_listings.ts";
export type { ListingRecord, ListOptions, PageOptions } from "./store_queries.ts";

/** Persistent index state; see the module docs. Errors are SfsError (IO for database failures). */
export interface IndexStore {
  /** Closes the store; safe to call once. */
  close(): Promise<void>;

  /** The database's schema version; equals the implementation's own SCHEMA_VERSION once open. */
  schemaVersion(): Promise<number>;

  // Accounts and attempts

  /** Creates an account and returns its id: EXISTS when taken in any case, USAGE for a bad name. */
  createUser(user: NewUser): Promise<number>;
  /** An account by username, ignoring case. */
  getUser(username: string): Promise<User | undefined>;
  /** An account by id. */
  getUserById(userId: number): Promise<User | undefined>;
  /** Replaces an account's identity; NOT_FOUND for an unknown user. */
  updateUserKeys(userId: number, identity: Uint8Array, fingerprint: string): Promise<void>;
  /** Replaces an account's password hash; NOT_FOUND for an unknown user. */
  updatePasswordHash(userId: number, passwordHash: string): Promise<void>;
  /** Records one attempt (failed login, registration) under `key`. */
  recordAttempt(key: string): Promise<void>;
  /**
   * Records one attempt under `key` unless `max` were recorded at or after `sinceMs` already;
   * true when recorded. Count and insert are one step, so parallel requests (on any server of
   * the database) cannot all slip under `max`.
   */
  recordAttemptWithin(key: string, sinceMs: number, max: number): Promise<boolean>;
  /** Attempts under `key` at or after `sinceMs` (ms since the epoch). */
  attemptsSince(key: string, sinceMs: number): Promise<number>;
  /** Forgets the attempts under `key` (after a successful login). */
  clearAttempts(key: string): Promise<void>;

  // Sessions and presence

  /**
   * Marks `sessionId` of `userId` online at `address`, creating it if new: NOT_FOUND for an
   * unknown user, EXISTS when the session id belongs to another user.
   */
  setOnline(userId: number, sessionId: string, address: string): Promise<void>;
  /** Notes that `sessionId` is alive (bringing an expired one back online); false if unknown. */
  heartbeat(sessionId: string): Promise<boolean>;
  /** Marks `sessionId` offline (its announcements stay, shown offline); false if unknown. */
  setOffline(sessionId: string): Promise<boolean>;
  /** Marks offline every session not heard from in the last `olderThanMs`; returns how many. */
  expireStale(olderThanMs: number): Promise<number>;
  /**
   * Called once when a server starts: marks offline the sessions no running server serves any
   * more (with SQLite, every session: one process owns the file; with PostgreSQL, the sessions
   * of servers that stopped beating), and returns how many.
   */
  expireOrphans(): Promise<number>;
  /** Deletes sessions offline and unheard of for `olderThanMs`, with their announcements. */
  pruneOfflineSessions(olderThanMs: number): Promise<number>;

  // Announcements

  /** Stores or replaces (by id) one announcement; see {@linkcode IndexStore.announceMany}. */
  announce(announcement: Announcement): Promise<void>;
  /**
   * Stores or replaces announcements, all or none: BAD_MESSAGE for a field beyond its limit,
   * NOT_FOUND when the session is not the owner's, EXISTS for another user's file id,
   * AUTH_FAILED when the owner's keys changed, WITHDRAWN, QUOTA_EXCEEDED.
   */
  announceMany(announcements: readonly Announcement[]): Promise<void>;
  /** Withdraws one of the owner's files and remembers it; false if the owner has no such file. */
  unshare(ownerId: number, id: string): Promise<boolean>;
  /** The owner's withdrawals made at or after `sinceMs`. */
  withdrawalsSince(ownerId: number, sinceMs: number): Promise<Withdrawal[]>;
  /** Forgets withdrawals older than `olderThanMs`; returns how many. */
  pruneWithdrawals(olderThanMs: number): Promise<number>;
  /** Withdraws every announcement of `ownerId` (after a key change); returns how many. */
  unshareAll(ownerId: number): Promise<number>;
  /** Withdraws every announcement of `sessionId`; returns how many. */
  removeSessionAnnouncements(sessionId: string): Promise<number>;

  // Queries (docs/PROTOCOL.md §12.4)

  /** Full-text search over names and keywords, limited to what the viewer sees: best match first
   * on SQLite (bm25 over the newest matches, §12.4), newest first on PostgreSQL. */
  search(terms: string, options?: PageOptions): Promise<ListingRecord[]>;
  /** Visible announcements, newest first; with `mine`, only the viewer's own. */
  list(options?: ListOptions): Promise<ListingRecord[]>;
  /** One announcement by id if the viewer may see it; hidden and missing look the same. */
  get(id: string, viewer?: number): Promise<ListingRecord | undefined>;
  /** Visible announcements named exactly `name` ignoring case, online and newest first. */
  findByName(name: string, viewer?: number): Promise<ListingRecord[]>;
}
