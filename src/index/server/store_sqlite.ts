/**
 * The index server's persistent state in SQLite (`node:sqlite`): accounts, failed logins,
 * sharing sessions and announced files with a full-text index, behind the {@linkcode IndexStore}
 * interface of store.ts (pg/ holds the PostgreSQL implementation):
 *
 * - database.ts opens the file and migrates it (schema.ts); statements.ts holds every statement;
 * - this file: sessions and presence, and the one entry point to the rest;
 * - store_users.ts: accounts and attempt counts;
 * - store_listings.ts: announcing and withdrawing; store_queries.ts: the listing queries.
 *
 * `DatabaseSync` is synchronous, so every call blocks the event loop while it runs. Calls are
 * kept short (indexed lookups, bounded pages, one transaction per write) for that reason. The
 * methods are async only to fit the interface: each runs to completion before it returns.
 */
import type { DatabaseSync } from "node:sqlite";
import { SfsError } from "../../errors.ts";
import { openDatabase } from "./database.ts";
import { int, SqlRunner } from "./sql.ts";
import { prepareStatements, type Statements } from "./statements.ts";
import {
  type Announcement,
  checkAddress,
  checkSessionId,
  ListingWrites,
  type Withdrawal,
} from "./store_listings.ts";
import {
  ListingQueries,
  type ListingRecord,
  type ListOptions,
  type PageOptions,
} from "./store_queries.ts";

import { type NewUser, type User, UserTable } from "./store_users.ts";
import type { IndexStore } from "./store.ts";

export { SCHEMA_VERSION } from "./database.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Options of {@linkcode SqliteStore.open}. */
export interface SqliteStoreOptions {
  /** Clock in milliseconds since the epoch. @default {Date.now} */
  now?: () => number;
  /** How long a write waits for another connection's lock. @default {5000} */
  busyTimeoutMs?: number;
  /** Failed-login rows older than this are pruned. @default {86_400_000} (one day) */
  failedLoginRetentionMs?: number;
}

/** Persistent index state over one SQLite connection; see the module docs. */
export class SqliteStore implements IndexStore {
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly #sql: Statements;
  readonly #runner: SqlRunner;
  readonly #users: UserTable;
  readonly #writes: ListingWrites;
  readonly #queries: ListingQueries;

  private constructor(db: DatabaseSync, options: SqliteStoreOptions) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#sql = prepareStatements(db);
    this.#runner = new SqlRunner(db);
    const retention = options.failedLoginRetentionMs ?? DAY_MS;
    this.#users = new UserTable(this.#sql, this.#runner, this.#now, retention);
    this.#writes = new ListingWrites(this.#sql, this.#runner, this.#now);
    this.#queries = new ListingQueries(this.#sql, this.#runner);
  }

  /**
   * Opens (creating if needed) the database at `path`, sets the connection pragmas and applies
   * missing migrations. Throws SfsError VERSION_MISMATCH for a database made by a newer sfs.
   */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    return new SqliteStore(openDatabase(path, options.busyTimeoutMs ?? 5000), options);
  }

  /** Closes the connection after letting SQLite refresh its planner statistics. */
  close(): Promise<void> {
    return settle(() => {
      try {
        this.#db.exec("PRAGMA optimize");
      } finally {
        this.#db.close();
      }
    });
  }

  /** The database's schema version; equals {@linkcode SCHEMA_VERSION} once open. */
  schemaVersion(): Promise<number> {
    return settle(() => this.#runner.guard(() => int(this.#sql.userVersion.get()?.user_version)));
  }

  /** Result of `PRAGMA integrity_check` plus the FTS index check; "ok" when all is well. */
  integrityCheck(): Promise<string> {
    return settle(() => {
      return this.#runner.guard(() => {
        const lines = this.#sql.integrity.all().map((row) => String(row.integrity_check));
        try {
          this.#sql.ftsIntegrity.run();
        } catch (err) {
          lines.push(`announcements_fts: ${err instanceof Error ? err.message : String(err)}`);
          return lines.filter((line) => line !== "ok").join("\n");
        }
        return lines.join("\n");
      });
    });
  }

  // Accounts and attempts (store_users.ts)

  /** {@linkcode UserTable.createUser}: EXISTS when taken in any case, USAGE for a bad name. */
  createUser(user: NewUser): Promise<number> {
    return settle(() => this.#users.createUser(user));
  }

  /** {@linkcode UserTable.getUser}: by username, ignoring case. */
  getUser(username: string): Promise<User | undefined> {
    return settle(() => this.#users.getUser(username));
  }

  /** {@linkcode UserTable.getUserById}. */
  getUserById(userId: number): Promise<User | undefined> {
    return settle(() => this.#users.getUserById(userId));
  }

  /** {@linkcode UserTable.updateUserKeys}: NOT_FOUND for an unknown user. */
  updateUserKeys(userId: number, identity: Uint8Array, fingerprint: string): Promise<void> {
    return settle(() => {
      this.#users.updateUserKeys(userId, identity, fingerprint);
    });
  }

  /** {@linkcode UserTable.updatePasswordHash}: NOT_FOUND for an unknown user. */
  updatePasswordHash(userId: number, passwordHash: string): Promise<void> {
    return settle(() => {
      this.#users.updatePasswordHash(userId, passwordHash);
    });
  }

  /** {@linkcode UserTable.recordAttempt}: one attempt under `key`. */
  recordAttempt(key: string): Promise<void> {
    return settle(() => {
      this.#users.recordAttempt(key);
    });
  }

  /** {@linkcode UserTable.recordAttemptWithin}: count and insert in one transaction. */
  recordAttemptWithin(key: string, sinceMs: number, max: number): Promise<boolean> {
    return settle(() => this.#users.recordAttemptWithin(key, sinceMs, max));
  }

  /** {@linkcode UserTable.attemptsSince}. */
  attemptsSince(key: string, sinceMs: number): Promise<number> {
    return settle(() => this.#users.attemptsSince(key, sinceMs));
  }

  /** {@linkcode UserTable.clearAttempts}. */
  clearAttempts(key: string): Promise<void> {
    return settle(() => {
      this.#users.clearAttempts(key);
    });
  }

  // Sessions and presence

  /**
   * Marks `sessionId` of `userId` online at `address`, creating it if new. SfsError NOT_FOUND
   * for an unknown user, EXISTS when the session id belongs to another user.
   */
  setOnline(userId: number, sessionId: string, address: string): Promise<void> {
    return settle(() => {
      checkSessionId(sessionId);
      checkAddress(address);
      const now = this.#now();
      this.#runner.transaction(() => {
        if (this.#sql.userById.get(userId) === undefined) {
          throw new SfsError("NOT_FOUND", `No user with id ${userId}`);
        }
        if (this.#sql.upsertSession.get(sessionId, userId, address, now, now) === undefined) {
          throw new SfsError("EXISTS", "Session id belongs to another user");
        }
      });
    });
  }

  /** Notes that `sessionId` is alive (bringing an expired one back online); false if unknown. */
  heartbeat(sessionId: string): Promise<boolean> {
    return settle(() =>
      this.#runner.guard(() => this.#sql.heartbeat.run(this.#now(), sessionId)).changes > 0
    );
  }

  /** Marks `sessionId` offline (its announcements stay, shown offline); false if unknown. */
  setOffline(sessionId: string): Promise<boolean> {
    return settle(() =>
      this.#runner.guard(() => this.#sql.setOffline.run(this.#now(), sessionId)).changes > 0
    );
  }

  /** Marks offline every session not heard from in the last `olderThanMs`; returns how many. */
  expireStale(olderThanMs: number): Promise<number> {
    return settle(() => {
      const cutoff = this.#now() - olderThanMs;
      return Number(this.#runner.guard(() => this.#sql.expireStale.run(cutoff)).changes);
    });
  }

  /** Marks every session offline: one process serves a SQLite index, so none is served yet. */
  expireOrphans(): Promise<number> {
    return this.expireStale(0);
  }

  /**
   * Deletes sessions offline and unheard of for `olderThanMs`, with their announcements, so
   * departed peers do not accumulate forever; returns how many sessions went.
   */
  pruneOfflineSessions(olderThanMs: number): Promise<number> {
    return settle(() => {
      const cutoff = this.#now() - olderThanMs;
      return Number(this.#runner.transaction(() => this.#sql.pruneSessions.run(cutoff)).changes);
    });
  }

  // Announcements (store_listings.ts)

  /** Stores or replaces (by id) one announcement; see {@linkcode IndexStore.announceMany}. */
  announce(announcement: Announcement): Promise<void> {
    return settle(() => {
      this.#writes.announceMany([announcement]);
    });
  }

  /** {@linkcode ListingWrites.announceMany}: all or none, in one transaction. */
  announceMany(announcements: readonly Announcement[]): Promise<void> {
    return settle(() => {
      this.#writes.announceMany(announcements);
    });
  }

  /** {@linkcode ListingWrites.unshare}: withdraws one and remembers it. */
  unshare(ownerId: number, id: string): Promise<boolean> {
    return settle(() => this.#writes.unshare(ownerId, id));
  }

  /** {@linkcode ListingWrites.withdrawalsSince}. */
  withdrawalsSince(ownerId: number, sinceMs: number): Promise<Withdrawal[]> {
    return settle(() => this.#writes.withdrawalsSince(ownerId, sinceMs));
  }

  /** {@linkcode ListingWrites.pruneWithdrawals}. */
  pruneWithdrawals(olderThanMs: number): Promise<number> {
    return settle(() => this.#writes.pruneWithdrawals(olderThanMs));
  }

  /** {@linkcode ListingWrites.unshareAll}. */
  unshareAll(ownerId: number): Promise<number> {
    return settle(() => this.#writes.unshareAll(ownerId));
  }

  /** {@linkcode ListingWrites.removeSessionAnnouncements}. */
  removeSessionAnnouncements(sessionId: string): Promise<number> {
    return settle(() => this.#writes.removeSessionAnnouncements(sessionId));
  }

  // Queries (store_queries.ts)

  /** {@linkcode ListingQueries.search}: full-text search, best match first (bm25, ties newest first). */
  search(terms: string, options: PageOptions = {}): Promise<ListingRecord[]> {
    return settle(() => this.#queries.search(terms, options));
  }

  /** {@linkcode ListingQueries.list}: visible announcements, newest first. */
  list(options: ListOptions = {}): Promise<ListingRecord[]> {
    return settle(() => this.#queries.list(options));
  }

  /** {@linkcode ListingQueries.get}: one announcement by id, if visible. */
  get(id: string, viewer?: number): Promise<ListingRecord | undefined> {
    return settle(() => this.#queries.get(id, viewer));
  }

  /** {@linkcode ListingQueries.findByName}: exact name ignoring case, online first. */
  findByName(name: string, viewer?: number): Promise<ListingRecord[]> {
    return settle(() => this.#queries.findByName(name, viewer));
  }
}

/** Runs a synchronous store call, turning its result or its throw into a settled promise. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}
