/**
 * The index server's persistent state in SQLite (`node:sqlite`): accounts, failed logins,
 * sharing sessions and announced files with a full-text index. All SQL of the index lives here
 * behind a small typed API, so another backend only has to re-implement {@linkcode IndexStore}.
 *
 * The store treats announcement bytes and signatures as opaque: the protocol layer verifies the
 * signature and hands over the parsed fields, which the store only checks against its limits.
 *
 * `DatabaseSync` is synchronous, so every call blocks the event loop while it runs. Calls are
 * kept short (indexed lookups, bounded pages, one transaction per write) for that reason.
 */
import { DatabaseSync, type SQLOutputValue, type StatementSync } from "node:sqlite";
import type { Bytes } from "../../crypto/bytes.ts";
import { SfsError } from "../../errors.ts";
import {
  DEFAULT_PAGE_SIZE,
  MAX_ANNOUNCEMENT_BYTES,
  MAX_KEYWORD_BYTES,
  MAX_KEYWORDS,
  MAX_LIST_OFFSET,
  MAX_LISTINGS,
  MAX_NAME_BYTES,
  MAX_QUERY_BYTES,
  MAX_RECIPIENTS,
  MAX_SIGNATURE_SET_BYTES,
} from "../protocol/limits.ts";
import { isAnnouncedName, isKeyword, isPeerAddress } from "../protocol/announcement.ts";
import { canonicalUsername, validateUsername } from "../protocol/usernames.ts";
import { CONNECTION_PRAGMAS, MIGRATIONS } from "./schema.ts";

/** Longest session id. */
export const MAX_SESSION_ID_LENGTH = 128;
/** Search terms beyond this many are ignored, which bounds the work one query can cause. */
export const MAX_SEARCH_TERMS = 8;

/** Schema version this code creates and expects (`PRAGMA user_version`). */
export const SCHEMA_VERSION: number = MIGRATIONS.length;

const HEX_ID_RE = /^(?:[0-9a-f]{2}){8,64}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;
// Runs of what unicode61 treats as token characters (letters, numbers, private use); a search
// term without one could only ever produce an empty phrase.
const TOKEN_RE = /[\p{L}\p{N}\p{Co}]+/gu;
const KEYWORD_SEPARATOR = "\n";
const DAY_MS = 24 * 60 * 60 * 1000;
const FAILED_LOGIN_PRUNE_EVERY = 1000;
/**
 * Owner identity bytes the `…Records` queries keep in memory, keyed by fingerprint. A fingerprint
 * is a hash of the identity, so an entry can never go stale; the bound keeps the map small (about
 * 1 KiB per entry), and past it the oldest entry goes.
 */
const IDENTITY_CACHE_SIZE = 1024;

/** Options of {@linkcode IndexStore.open}. */
export interface IndexStoreOptions {
  /** Clock in milliseconds since the epoch. @default {Date.now} */
  now?: () => number;
  /** How long a write waits for another connection's lock. @default {5000} */
  busyTimeoutMs?: number;
  /** Failed-login rows older than this are pruned. @default {86_400_000} (one day) */
  failedLoginRetentionMs?: number;
}

/** An account as stored. */
export interface User {
  /** Store-assigned id. */
  id: number;
  /** Username as the user typed it at registration. */
  username: string;
  /** `scrypt$…` encoding from `hashPassword`. */
  passwordHash: string;
  /** Canonical public identity bytes. */
  identity: Bytes;
  /** Fingerprint of `identity`. */
  fingerprint: string;
  /** Registration time (ms since the epoch). */
  createdAt: number;
  /** Last time the identity changed (ms since the epoch). */
  keysUpdatedAt: number;
}

/** Fields of a new account. */
export interface NewUser {
  /** Username; must pass {@linkcode validateUsername}. */
  username: string;
  /** `scrypt$…` encoding from `hashPassword`. */
  passwordHash: string;
  /** Canonical public identity bytes. */
  identity: Uint8Array;
  /** Fingerprint of `identity`. */
  fingerprint: string;
}

/** A signed announcement with the parsed fields the store needs. */
export interface Announcement {
  /** File id, lower-case hex (8 to 64 bytes). */
  id: string;
  /** Owner's user id. */
  ownerId: number;
  /** Sharing session the file is served from; it must belong to the owner. */
  sessionId: string;
  /** File name, at most {@linkcode MAX_NAME_BYTES} UTF-8 bytes, no control characters. */
  name: string;
  /** File size in bytes. */
  size: number;
  /** SHA-256 of the file, lower-case hex. */
  sha256: string;
  /** Search keywords, at most {@linkcode MAX_KEYWORDS}. */
  keywords: readonly string[];
  /** Username keys allowed to see the file; empty means public. */
  recipients: readonly string[];
  /** Where the owner serves it, "host:port". */
  address: string;
  /** Creation time the owner signed (ms since the epoch). */
  createdAt: number;
  /** The signed announcement, opaque to the store. */
  announcement: Uint8Array;
  /** Signature over `announcement`, opaque to the store. */
  signature: Uint8Array;
  /**
   * The owner's fingerprint the signature was verified with. When given, it must still be the
   * registered one when the row is written (checked in the same transaction), so a key rotation
   * racing with the request cannot let in an announcement signed by the replaced keys.
   */
  ownerFingerprint?: string;
  /**
   * Most listings the owner may have stored. When given, a new file id (not a re-announcement of
   * one the owner already has) beyond it is refused with QUOTA_EXCEEDED, counted in the same
   * transaction as the insert, so concurrent announcements cannot overshoot.
   */
  maxOwnerListings?: number;
}

/** A file id its owner withdrew, as {@linkcode IndexStore.withdrawalsSince} returns it. */
export interface Withdrawal {
  /** File id (hex). */
  id: string;
  /** Signed creation time of the withdrawn announcement. */
  createdAt: number;
}

/**
 * What a LISTINGS reply carries of one visible announcement: the signed bytes, the owner's
 * identity to check them with, and presence. The `…Records` queries return only this, which is
 * what the server sends; {@linkcode Listing} adds the parsed fields.
 */
export interface ListingRecord {
  /** File id (hex). */
  id: string;
  /** Owner's identity fingerprint. */
  ownerFingerprint: string;
  /**
   * Owner's canonical public identity bytes, to verify `signature`. In records, one array is
   * shared by every record of the same identity: read it, never modify it.
   */
  ownerIdentity: Bytes;
  /** Whether the session serving the file is online. */
  online: boolean;
  /** Last time the serving session was heard from (ms since the epoch). */
  lastSeen: number;
  /** The signed announcement bytes. */
  announcement: Bytes;
  /** Signature over `announcement`. */
  signature: Bytes;
}

/** One visible announcement as returned by search, list and lookups. */
export interface Listing extends ListingRecord {
  /** File id (hex). */
  id: string;
  /** File name. */
  name: string;
  /** File size in bytes. */
  size: number;
  /** SHA-256 of the file (hex). */
  sha256: string;
  /** Owner's username. */
  owner: string;
  /** Owner's identity fingerprint. */
  ownerFingerprint: string;
  /** Owner's canonical public identity bytes, to verify `signature`. */
  ownerIdentity: Bytes;
  /** Whether the session serving the file is online. */
  online: boolean;
  /** Last time the serving session was heard from (ms since the epoch). */
  lastSeen: number;
  /** Search keywords. */
  keywords: string[];
  /** Creation time the owner signed. */
  createdAt: number;
  /** Where the owner serves it, "host:port". */
  address: string;
  /** The signed announcement bytes. */
  announcement: Bytes;
  /** Signature over `announcement`. */
  signature: Bytes;
}

/** Who is asking and which page; an absent viewer sees public files only. */
export interface PageOptions {
  /** Viewer's user id (the server knows it after login); undefined for anonymous. */
  viewer?: number;
  /** Rows per page, 1 to {@linkcode MAX_LISTINGS}. @default {50} */
  limit?: number;
  /** Rows to skip, 0 to {@linkcode MAX_LIST_OFFSET}. @default {0} */
  offset?: number;
}

/** Options of {@linkcode IndexStore.list}. */
export interface ListOptions extends PageOptions {
  /** Only the viewer's own announcements (none for an anonymous viewer). @default {false} */
  mine?: boolean;
}

/**
 * Turns a user-typed search string into a safe FTS5 query: each whitespace-separated term
 * becomes a quoted phrase, all of them ANDed. Quoting means no FTS5 syntax (`NEAR`, `OR`, `-`,
 * `*`, `^`, column filters) ever reaches the parser. A term whose last word has two or more
 * characters matches as a prefix (`"repo"*` finds "reports"); a one-character word does not,
 * because `"a"*` would merge the postings of every word starting with "a". Returns undefined
 * when no term has a letter or digit, which callers treat as "no results".
 */
export function toFtsQuery(input: string): string | undefined {
  const terms = new Set<string>();
  for (const raw of input.slice(0, MAX_QUERY_BYTES).normalize("NFC").split(/\s+/u)) {
    if (terms.size === MAX_SEARCH_TERMS) break;
    const words = raw.match(TOKEN_RE);
    if (words === null) continue;
    const prefix = [...words[words.length - 1]].length >= 2 ? "*" : "";
    terms.add(`"${raw.replaceAll('"', '""')}"${prefix}`);
  }
  return terms.size === 0 ? undefined : [...terms].join(" AND ");
}

/** Persistent index state over one SQLite connection; see the module docs. */
export class IndexStore {
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly #failedRetentionMs: number;
  readonly #sql: ReturnType<typeof prepareAll>;
  readonly #identities = new Map<string, Bytes>();
  #failedSincePrune = 0;
  #inTransaction = false;

  private constructor(db: DatabaseSync, options: IndexStoreOptions) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#failedRetentionMs = options.failedLoginRetentionMs ?? DAY_MS;
    this.#sql = prepareAll(db);
  }

  /**
   * Opens (creating if needed) the database at `path`, sets the connection pragmas and applies
   * missing migrations. Throws SfsError VERSION_MISMATCH for a database made by a newer sfs.
   */
  static open(path: string, options: IndexStoreOptions = {}): IndexStore {
    let db: DatabaseSync;
    try {
      if (path !== ":memory:") keepPrivate(path);
      db = new DatabaseSync(path);
    } catch (err) {
      throw new SfsError("IO", `Cannot open index database "${path}"`, { cause: err });
    }
    try {
      db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
      for (const pragma of CONNECTION_PRAGMAS) db.exec(pragma);
      // journal_mode silently stays as it was where WAL is impossible (some network file
      // systems); refuse then rather than run with other durability and locking than designed.
      const mode = db.prepare("PRAGMA journal_mode").get()?.journal_mode;
      if (mode !== "wal" && path !== ":memory:") {
        throw new SfsError("IO", `Index database "${path}" cannot use WAL mode (got ${mode})`);
      }
      migrate(db);
      return new IndexStore(db, options);
    } catch (err) {
      db.close();
      if (err instanceof SfsError) throw err;
      throw new SfsError("IO", `Cannot open index database "${path}"`, { cause: err });
    }
  }

  /** Closes the connection after letting SQLite refresh its planner statistics. */
  close(): void {
    try {
      this.#db.exec("PRAGMA optimize");
    } finally {
      this.#db.close();
    }
  }

  /** The database's schema version; equals {@linkcode SCHEMA_VERSION} once open. */
  schemaVersion(): number {
    return this.#guard(() => int(this.#sql.userVersion.get()?.user_version));
  }

  /** Result of `PRAGMA integrity_check` plus the FTS index check; "ok" when all is well. */
  integrityCheck(): string {
    return this.#guard(() => {
      const lines = this.#sql.integrity.all().map((row) => String(row.integrity_check));
      try {
        this.#sql.ftsIntegrity.run();
      } catch (err) {
        lines.push(`announcements_fts: ${err instanceof Error ? err.message : String(err)}`);
        return lines.filter((line) => line !== "ok").join("\n");
      }
      return lines.join("\n");
    });
  }

  // Users

  /** Creates an account and returns its id; SfsError EXISTS when the name is taken in any case. */
  createUser(user: NewUser): number {
    const key = validateUsername(user.username);
    const now = this.#now();
    const row = this.#guard(() =>
      this.#sql.insertUser.get(
        user.username.normalize("NFC"),
        key,
        user.passwordHash,
        user.identity,
        user.fingerprint,
        now,
        now,
      )
    );
    if (row === undefined) throw new SfsError("EXISTS", `Username "${user.username}" is taken`);
    return int(row.id);
  }

  /** Looks an account up by username, ignoring case. */
  getUser(username: string): User | undefined {
    const key = canonicalUsername(username);
    if (key === undefined) return undefined;
    const row = this.#guard(() => this.#sql.userByKey.get(key));
    return row === undefined ? undefined : toUser(row);
  }

  /** Looks an account up by id. */
  getUserById(userId: number): User | undefined {
    const row = this.#guard(() => this.#sql.userById.get(userId));
    return row === undefined ? undefined : toUser(row);
  }

  /** Replaces an account's identity; SfsError NOT_FOUND for an unknown user. */
  updateUserKeys(userId: number, identity: Uint8Array, fingerprint: string): void {
    const result = this.#guard(() =>
      this.#sql.updateKeys.run(identity, fingerprint, this.#now(), userId)
    );
    if (result.changes === 0) throw new SfsError("NOT_FOUND", `No user with id ${userId}`);
  }

  /** Replaces an account's password hash (e.g. after a rehash); SfsError NOT_FOUND if unknown. */
  updatePasswordHash(userId: number, passwordHash: string): void {
    const result = this.#guard(() => this.#sql.updatePassword.run(passwordHash, userId));
    if (result.changes === 0) throw new SfsError("NOT_FOUND", `No user with id ${userId}`);
  }

  // Attempts (failed logins, registrations): timestamped events counted per key

  /**
   * Records one attempt under `key` (e.g. "login:alice@192.0.2.1", "register:192.0.2.1"). The
   * table is still named failed_logins, from when it counted nothing else.
   */
  recordAttempt(key: string): void {
    const now = this.#now();
    const cutoff = now - this.#failedRetentionMs;
    this.#transaction(() => {
      this.#sql.insertFailed.run(key, now);
      this.#sql.pruneFailedKey.run(key, cutoff);
      // Keys that never fail again are swept now and then, so the table stays bounded by the
      // failure rate times the retention window.
      if (++this.#failedSincePrune >= FAILED_LOGIN_PRUNE_EVERY) {
        this.#failedSincePrune = 0;
        this.#sql.pruneFailedAll.run(cutoff);
      }
    });
  }

  /** Attempts under `key` at or after `sinceMs` (ms since the epoch). */
  attemptsSince(key: string, sinceMs: number): number {
    return int(this.#guard(() => this.#sql.countFailed.get(key, sinceMs))?.n ?? 0);
  }

  /** Forgets the attempts under `key` (after a successful login). */
  clearAttempts(key: string): void {
    this.#guard(() => this.#sql.clearFailed.run(key));
  }

  // Sessions and presence

  /**
   * Marks `sessionId` of `userId` online at `address`, creating it if new. SfsError NOT_FOUND
   * for an unknown user, EXISTS when the session id belongs to another user.
   */
  setOnline(userId: number, sessionId: string, address: string): void {
    checkSessionId(sessionId);
    checkAddress(address);
    const now = this.#now();
    this.#transaction(() => {
      if (this.#sql.userById.get(userId) === undefined) {
        throw new SfsError("NOT_FOUND", `No user with id ${userId}`);
      }
      if (this.#sql.upsertSession.get(sessionId, userId, address, now, now) === undefined) {
        throw new SfsError("EXISTS", "Session id belongs to another user");
      }
    });
  }

  /** Notes that `sessionId` is alive (bringing an expired one back online); false if unknown. */
  heartbeat(sessionId: string): boolean {
    return this.#guard(() => this.#sql.heartbeat.run(this.#now(), sessionId)).changes > 0;
  }

  /** Marks `sessionId` offline (its announcements stay, shown offline); false if unknown. */
  setOffline(sessionId: string): boolean {
    return this.#guard(() => this.#sql.setOffline.run(this.#now(), sessionId)).changes > 0;
  }

  /** Marks offline every session not heard from in the last `olderThanMs`; returns how many. */
  expireStale(olderThanMs: number): number {
    const cutoff = this.#now() - olderThanMs;
    return Number(this.#guard(() => this.#sql.expireStale.run(cutoff)).changes);
  }

  /**
   * Deletes sessions offline and unheard of for `olderThanMs`, with their announcements, so
   * departed peers do not accumulate forever; returns how many sessions went.
   */
  pruneOfflineSessions(olderThanMs: number): number {
    const cutoff = this.#now() - olderThanMs;
    return Number(this.#transaction(() => this.#sql.pruneSessions.run(cutoff)).changes);
  }

  // Announcements

  /** Stores or replaces (by id) one announcement; see {@linkcode IndexStore.announceMany}. */
  announce(announcement: Announcement): void {
    this.announceMany([announcement]);
  }

  /**
   * Stores or replaces (by id) announcements in one transaction: all or none. Throws SfsError
   * BAD_MESSAGE for a field beyond its limit, NOT_FOUND when the session is not the owner's,
   * EXISTS when the file id is already announced by another user.
   */
  announceMany(announcements: readonly Announcement[]): void {
    // Validate before BEGIN so the write lock is held only for the inserts.
    const rows = announcements.map(checkAnnouncement);
    const now = this.#now();
    this.#transaction(() => {
      const sessionOwners = new Map<string, number | undefined>();
      const fingerprints = new Map<number, string | undefined>();
      for (const { a, keywords, recipients, nameKey } of rows) {
        if (!sessionOwners.has(a.sessionId)) {
          const owner = this.#sql.sessionOwner.get(a.sessionId);
          sessionOwners.set(a.sessionId, owner === undefined ? undefined : int(owner.user_id));
        }
        if (sessionOwners.get(a.sessionId) !== a.ownerId) {
          throw new SfsError("NOT_FOUND", `Owner ${a.ownerId} has no session "${a.sessionId}"`);
        }
        if (a.ownerFingerprint !== undefined) {
          if (!fingerprints.has(a.ownerId)) {
            const user = this.#sql.userFingerprint.get(a.ownerId);
            fingerprints.set(a.ownerId, user === undefined ? undefined : text(user.fingerprint));
          }
          if (fingerprints.get(a.ownerId) !== a.ownerFingerprint) {
            throw new SfsError("AUTH_FAILED", "The account's keys changed; authenticate again");
          }
        }
        this.#checkWithdrawn(a);
        if (a.maxOwnerListings !== undefined) this.#checkQuota(a, a.maxOwnerListings);
        const row = this.#sql.upsertAnnouncement.get(
          a.id,
          a.ownerId,
          a.sessionId,
          a.name,
          nameKey,
          a.size,
          a.sha256,
          keywords.join(KEYWORD_SEPARATOR),
          recipients.length === 0 ? 1 : 0,
          a.address,
          a.createdAt,
          now,
          a.announcement,
          a.signature,
        );
        if (row === undefined) {
          throw new SfsError("EXISTS", `File id ${a.id} is announced by another user`);
        }
        const seq = int(row.seq);
        this.#sql.deleteRecipients.run(seq);
        for (const key of recipients) this.#sql.insertRecipient.run(key, seq);
      }
    });
  }

  /**
   * Withdraws the owner's announcement `id` and remembers the withdrawal, so the same signed
   * announcement (a running sender re-announcing after a reconnect) is refused from now on;
   * false when there was none.
   */
  unshare(ownerId: number, id: string): boolean {
    const now = this.#now();
    return this.#transaction(() => {
      const row = this.#sql.announcementCreatedAt.get(ownerId, id);
      if (row === undefined) return false;
      this.#sql.unshare.run(ownerId, id);
      this.#sql.upsertWithdrawal.run(ownerId, id, int(row.created_at), now);
      return true;
    });
  }

  /** The owner's withdrawals made at or after `sinceMs` (ms since the epoch). */
  withdrawalsSince(ownerId: number, sinceMs: number): Withdrawal[] {
    return this.#guard(() => this.#sql.withdrawalsSince.all(ownerId, sinceMs)).map((row) => ({
      id: text(row.id),
      createdAt: int(row.created_at),
    }));
  }

  /** Forgets withdrawals older than `olderThanMs`; returns how many. */
  pruneWithdrawals(olderThanMs: number): number {
    const cutoff = this.#now() - olderThanMs;
    return Number(this.#guard(() => this.#sql.pruneWithdrawals.run(cutoff)).changes);
  }

  /**
   * Refuses (WITHDRAWN) an announcement signed no later than one of the same id its owner
   * withdrew; a newer one is a new share, and the withdrawal is forgotten.
   */
  #checkWithdrawn(a: Announcement): void {
    const row = this.#sql.withdrawal.get(a.ownerId, a.id);
    if (row === undefined) return;
    if (a.createdAt <= int(row.created_at)) {
      throw new SfsError("WITHDRAWN", `File ${a.id} was unshared by its owner`, {
        hint: "Run sfs send again to share it anew",
      });
    }
    this.#sql.deleteWithdrawal.run(a.ownerId, a.id);
  }

  /** Refuses (QUOTA_EXCEEDED) a new file id of an owner who has `max` listings already. */
  #checkQuota(a: Announcement, max: number): void {
    if (this.#sql.announcementOwner.get(a.id) !== undefined) return;
    const count = int(this.#sql.countOwnerListings.get(a.ownerId)?.n ?? 0);
    if (count >= max) {
      throw new SfsError(
        "QUOTA_EXCEEDED",
        `You have ${count} listings, the most this index keeps`,
        {
          hint: "Unshare files you no longer share (sfs ls --mine, sfs unshare ID)",
        },
      );
    }
  }

  /** Withdraws every announcement of `ownerId` (after a key change); returns how many. */
  unshareAll(ownerId: number): number {
    return Number(this.#transaction(() => this.#sql.unshareAll.run(ownerId)).changes);
  }

  /** Withdraws every announcement of `sessionId`; returns how many. */
  removeSessionAnnouncements(sessionId: string): number {
    return Number(this.#transaction(() => this.#sql.removeSession.run(sessionId)).changes);
  }

  // Queries

  /**
   * Full-text search over names and keywords (see {@linkcode toFtsQuery}), newest first,
   * limited to what the viewer may see. Never throws for odd query text: a query without
   * letters or digits has no results. Newest first rather than bm25 relevance because FTS5 can
   * then stop after one page, while ranking must score every match: measured 10 to 50 times
   * slower for broad terms over 100,000 listings.
   */
  search(terms: string, options: PageOptions = {}): Listing[] {
    return this.#search(this.#sql.full, terms, options, toListing);
  }

  /** {@linkcode IndexStore.search}, returning only what a LISTINGS reply carries. */
  searchRecords(terms: string, options: PageOptions = {}): ListingRecord[] {
    return this.#search(this.#sql.records, terms, options, this.#toRecord);
  }

  /** Visible announcements, newest first; with `mine`, only the viewer's own. */
  list(options: ListOptions = {}): Listing[] {
    return this.#list(this.#sql.full, options, toListing);
  }

  /** {@linkcode IndexStore.list}, returning only what a LISTINGS reply carries. */
  listRecords(options: ListOptions = {}): ListingRecord[] {
    return this.#list(this.#sql.records, options, this.#toRecord);
  }

  /** The announcement `id` if the viewer may see it; hidden and missing look the same. */
  getAnnouncement(id: string, viewer?: number): Listing | undefined {
    const row = this.#guard(() => this.#sql.full.byId.get({ id, viewer: viewer ?? null }));
    return row === undefined ? undefined : toListing(row);
  }

  /** {@linkcode IndexStore.getAnnouncement}, returning only what a LISTINGS reply carries. */
  getRecord(id: string, viewer?: number): ListingRecord | undefined {
    const row = this.#guard(() => this.#sql.records.byId.get({ id, viewer: viewer ?? null }));
    return row === undefined ? undefined : this.#toRecord(row);
  }

  /** Visible announcements named exactly `name` ignoring case, online and newest first. */
  findByName(name: string, viewer?: number): Listing[] {
    return this.#findByName(this.#sql.full, name, viewer, toListing);
  }

  /** {@linkcode IndexStore.findByName}, returning only what a LISTINGS reply carries. */
  findRecordsByName(name: string, viewer?: number): ListingRecord[] {
    return this.#findByName(this.#sql.records, name, viewer, this.#toRecord);
  }

  #search<T>(sql: Queries, terms: string, options: PageOptions, convert: (row: Row) => T): T[] {
    const { limit, offset } = page(options);
    const query = toFtsQuery(terms);
    if (query === undefined) return [];
    return this.#guard(() =>
      sql.search.all({ query, viewer: options.viewer ?? null, limit, offset }).map(convert)
    );
  }

  #list<T>(sql: Queries, options: ListOptions, convert: (row: Row) => T): T[] {
    const { limit, offset } = page(options);
    const viewer = options.viewer ?? null;
    if (options.mine && viewer === null) return [];
    const statement = options.mine ? sql.listMine : sql.listVisible;
    return this.#guard(() => statement.all({ viewer, limit, offset }).map(convert));
  }

  #findByName<T>(
    sql: Queries,
    name: string,
    viewer: number | undefined,
    convert: (row: Row) => T,
  ): T[] {
    const nameKey = name.normalize("NFC").toLowerCase();
    return this.#guard(() =>
      sql.byName.all({ nameKey, viewer: viewer ?? null, limit: DEFAULT_PAGE_SIZE }).map(convert)
    );
  }

  /**
   * A record row to a {@linkcode ListingRecord}. The row names the owner's fingerprint; the
   * identity comes from the cache, or from the users table when it still has that fingerprint.
   * Every listing of one owner shares one identity array: callers only read it.
   */
  #toRecord = (row: Row): ListingRecord => {
    let fingerprint = text(row.owner_fingerprint);
    let identity = this.#identities.get(fingerprint);
    if (identity === undefined) {
      const user = this.#sql.userIdentity.get(int(row.owner_id));
      if (user === undefined) throw new SfsError("INTERNAL", "Listing without an owner");
      // Identity and fingerprint are read together, so the record and the cache never pair an
      // identity with another one's fingerprint (another process may change keys in between).
      identity = blob(user.identity);
      fingerprint = text(user.fingerprint);
      if (this.#identities.size >= IDENTITY_CACHE_SIZE) {
        this.#identities.delete(this.#identities.keys().next().value!);
      }
      this.#identities.set(fingerprint, identity);
    }
    return {
      id: text(row.id),
      ownerFingerprint: fingerprint,
      ownerIdentity: identity,
      online: int(row.online) === 1,
      lastSeen: int(row.last_seen),
      announcement: blob(row.announcement),
      signature: blob(row.signature),
    };
  };

  /** Runs `fn` in a write transaction; BEGIN IMMEDIATE takes the write lock up front. */
  #transaction<T>(fn: () => T): T {
    if (this.#inTransaction) throw new SfsError("INTERNAL", "Nested index transaction");
    return this.#guard(() => {
      this.#sql.begin.run();
      this.#inTransaction = true;
      try {
        const result = fn();
        this.#sql.commit.run();
        return result;
      } catch (err) {
        try {
          this.#sql.rollback.run();
        } catch {
          // SQLite already rolled back (e.g. after SQLITE_FULL); the first error is the one to
          // report.
        }
        throw err;
      } finally {
        this.#inTransaction = false;
      }
    });
  }

  /** Turns SQLite failures (disk full, busy, corruption) into SfsError IO. */
  #guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof SfsError) throw err;
      const detail = err instanceof Error ? err.message : String(err);
      throw new SfsError("IO", `Index database error: ${detail}`, { cause: err });
    }
  }
}

/**
 * Makes the database file owner-only before SQLite opens it: it holds password hashes. A new
 * file is created with mode 0600; SQLite gives the `-wal` and `-shm` files it creates the
 * database file's mode. Files an older sfs left readable by others are narrowed to 0600.
 */
function keepPrivate(path: string): void {
  try {
    Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 }).close();
  } catch {
    // Not ours to create (a read-only folder, say): SQLite reports the real problem.
    return;
  }
  if (Deno.build.os === "windows") return;
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      const mode = Deno.statSync(file).mode;
      if (mode !== null && (mode & 0o077) !== 0) Deno.chmodSync(file, mode & 0o700);
    } catch {
      // Not there (no WAL yet), or not ours to change.
    }
  }
}

/** Applies the missing migrations in one transaction. */
function migrate(db: DatabaseSync): void {
  const version = () => int(db.prepare("PRAGMA user_version").get()?.user_version ?? 0);
  if (version() === MIGRATIONS.length) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    // Read again under the write lock: another process may have migrated in the meantime.
    const current = version();
    if (current > MIGRATIONS.length) {
      throw new SfsError(
        "VERSION_MISMATCH",
        `Index database has schema version ${current}; this sfs knows up to ${MIGRATIONS.length}`,
        { hint: "Upgrade sfs to open this database" },
      );
    }
    for (let v = current; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]);
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
    db.exec("COMMIT");
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
}

const LISTING_COLUMNS = `
  a.id, a.name, a.size, a.sha256, u.username AS owner, u.fingerprint AS owner_fingerprint,
  u.identity AS owner_identity, s.online, s.last_seen, a.keywords, a.created_at, a.address,
  a.announcement, a.signature`;

// The identity is left out: it comes from a cache by fingerprint (see IndexStore.#toRecord).
const RECORD_COLUMNS = `
  a.id, a.announcement, a.signature, a.owner_id, u.fingerprint AS owner_fingerprint, s.online,
  s.last_seen`;

const LISTING_JOINS = `
  JOIN users u ON u.id = a.owner_id
  JOIN sessions s ON s.id = a.session_id`;

// Public, the viewer's own, or addressed to the viewer. The username subquery does not depend
// on the row, so SQLite evaluates it once per statement; a NULL viewer matches neither branch.
const VISIBLE = `
  (a.public = 1 OR a.owner_id = :viewer OR EXISTS (
    SELECT 1 FROM recipients r
    WHERE r.seq = a.seq AND r.username_key = (SELECT username_key FROM users WHERE id = :viewer)
  ))`;

const USER_COLUMNS =
  "id, username, password_hash, identity, fingerprint, created_at, keys_updated_at";

/** Prepares every statement once; the store reuses them for its lifetime. */
function prepareAll(db: DatabaseSync) {
  const p = (sql: string): StatementSync => db.prepare(sql);
  return {
    begin: p("BEGIN IMMEDIATE"),
    commit: p("COMMIT"),
    rollback: p("ROLLBACK"),
    integrity: p("PRAGMA integrity_check"),
    userVersion: p("PRAGMA user_version"),
    ftsIntegrity: p(
      "INSERT INTO announcements_fts (announcements_fts) VALUES ('integrity-check')",
    ),

    insertUser: p(`
      INSERT INTO users (username, username_key, password_hash, identity, fingerprint,
        created_at, keys_updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (username_key) DO NOTHING
      RETURNING id`),
    userByKey: p(`SELECT ${USER_COLUMNS} FROM users WHERE username_key = ?`),
    userById: p(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`),
    userFingerprint: p("SELECT fingerprint FROM users WHERE id = ?"),
    userIdentity: p("SELECT identity, fingerprint FROM users WHERE id = ?"),
    updateKeys: p(
      "UPDATE users SET identity = ?, fingerprint = ?, keys_updated_at = ? WHERE id = ?",
    ),
    updatePassword: p("UPDATE users SET password_hash = ? WHERE id = ?"),

    insertFailed: p("INSERT INTO failed_logins (key, at) VALUES (?, ?)"),
    pruneFailedKey: p("DELETE FROM failed_logins WHERE key = ? AND at < ?"),
    pruneFailedAll: p("DELETE FROM failed_logins WHERE at < ?"),
    countFailed: p("SELECT count(*) AS n FROM failed_logins WHERE key = ? AND at >= ?"),
    clearFailed: p("DELETE FROM failed_logins WHERE key = ?"),

    // The WHERE on DO UPDATE keeps a session id from being taken over by another user; then
    // nothing is returned.
    upsertSession: p(`
      INSERT INTO sessions (id, user_id, address, online, started_at, last_seen)
      VALUES (?, ?, ?, 1, ?, ?)
      ON CONFLICT (id) DO UPDATE SET
        address = excluded.address, online = 1, last_seen = excluded.last_seen
      WHERE sessions.user_id = excluded.user_id
      RETURNING 1 AS ok`),
    sessionOwner: p("SELECT user_id FROM sessions WHERE id = ?"),
    heartbeat: p("UPDATE sessions SET last_seen = ?, online = 1 WHERE id = ?"),
    setOffline: p("UPDATE sessions SET online = 0, last_seen = ? WHERE id = ?"),
    expireStale: p("UPDATE sessions SET online = 0 WHERE online = 1 AND last_seen < ?"),
    pruneSessions: p("DELETE FROM sessions WHERE online = 0 AND last_seen < ?"),

    // Same trick: a file id announced by one user cannot be overwritten by another.
    upsertAnnouncement: p(`
      INSERT INTO announcements (id, owner_id, session_id, name, name_key, size, sha256,
        keywords, public, address, created_at, updated_at, announcement, signature)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET
        session_id = excluded.session_id, name = excluded.name, name_key = excluded.name_key,
        size = excluded.size, sha256 = excluded.sha256, keywords = excluded.keywords,
        public = excluded.public, address = excluded.address, created_at = excluded.created_at,
        updated_at = excluded.updated_at, announcement = excluded.announcement,
        signature = excluded.signature
      WHERE announcements.owner_id = excluded.owner_id
      RETURNING seq`),
    deleteRecipients: p("DELETE FROM recipients WHERE seq = ?"),
    insertRecipient: p("INSERT INTO recipients (username_key, seq) VALUES (?, ?)"),
    unshare: p("DELETE FROM announcements WHERE owner_id = ? AND id = ?"),
    announcementCreatedAt: p(
      "SELECT created_at FROM announcements WHERE owner_id = ? AND id = ?",
    ),
    announcementOwner: p("SELECT owner_id FROM announcements WHERE id = ?"),
    countOwnerListings: p("SELECT count(*) AS n FROM announcements WHERE owner_id = ?"),
    upsertWithdrawal: p(`
      INSERT INTO withdrawals (owner_id, id, created_at, withdrawn_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (owner_id, id) DO UPDATE SET
        created_at = max(created_at, excluded.created_at), withdrawn_at = excluded.withdrawn_at`),
    withdrawal: p("SELECT created_at FROM withdrawals WHERE owner_id = ? AND id = ?"),
    deleteWithdrawal: p("DELETE FROM withdrawals WHERE owner_id = ? AND id = ?"),
    withdrawalsSince: p(
      "SELECT id, created_at FROM withdrawals WHERE owner_id = ? AND withdrawn_at >= ?",
    ),
    pruneWithdrawals: p("DELETE FROM withdrawals WHERE withdrawn_at < ?"),
    unshareAll: p("DELETE FROM announcements WHERE owner_id = ?"),
    removeSession: p("DELETE FROM announcements WHERE session_id = ?"),

    // Full listings (tests, tools) and the lean records LISTINGS replies need.
    full: prepareQueries(db, LISTING_COLUMNS),
    records: prepareQueries(db, RECORD_COLUMNS),
  };
}

type Queries = ReturnType<typeof prepareQueries>;

/** The visible-listing queries, selecting `columns`. */
function prepareQueries(db: DatabaseSync, columns: string) {
  const p = (sql: string): StatementSync => db.prepare(sql);
  return {
    // Newest first, not bm25: see IndexStore.search. The seq order makes pages stable.
    search: p(`
      SELECT ${columns}
      FROM announcements_fts f
      JOIN announcements a ON a.seq = f.rowid ${LISTING_JOINS}
      WHERE announcements_fts MATCH :query AND ${VISIBLE}
      ORDER BY f.rowid DESC
      LIMIT :limit OFFSET :offset`),
    listVisible: p(`
      SELECT ${columns} FROM announcements a ${LISTING_JOINS}
      WHERE ${VISIBLE}
      ORDER BY a.seq DESC LIMIT :limit OFFSET :offset`),
    listMine: p(`
      SELECT ${columns} FROM announcements a ${LISTING_JOINS}
      WHERE a.owner_id = :viewer
      ORDER BY a.seq DESC LIMIT :limit OFFSET :offset`),
    byId: p(`
      SELECT ${columns} FROM announcements a ${LISTING_JOINS}
      WHERE a.id = :id AND ${VISIBLE}`),
    byName: p(`
      SELECT ${columns} FROM announcements a ${LISTING_JOINS}
      WHERE a.name_key = :nameKey AND ${VISIBLE}
      ORDER BY s.online DESC, a.seq DESC LIMIT :limit`),
  };
}

interface CheckedAnnouncement {
  a: Announcement;
  nameKey: string;
  keywords: string[];
  recipients: string[];
}

/** Checks every field against its limit; SfsError BAD_MESSAGE names the first that fails. */
function checkAnnouncement(a: Announcement): CheckedAnnouncement {
  const bad = (reason: string): never => {
    throw new SfsError("BAD_MESSAGE", `Invalid announcement: ${reason}`);
  };
  if (!HEX_ID_RE.test(a.id)) bad("file id must be 8 to 64 bytes of lower-case hex");
  if (!Number.isSafeInteger(a.ownerId)) bad("owner id is not an integer");
  checkSessionId(a.sessionId);
  if (!isAnnouncedName(a.name)) bad(`name must be 1 to ${MAX_NAME_BYTES} bytes of safe text`);
  if (!Number.isSafeInteger(a.size) || a.size < 0) bad("size must be a non-negative integer");
  if (!SHA256_RE.test(a.sha256)) bad("sha256 must be 64 lower-case hex digits");
  if (a.keywords.length > MAX_KEYWORDS) bad(`more than ${MAX_KEYWORDS} keywords`);
  const keywords = new Set<string>();
  for (const keyword of a.keywords) {
    // Display-safe text has no newline, the separator of stored keywords.
    if (!isKeyword(keyword)) bad(`keyword must be 1 to ${MAX_KEYWORD_BYTES} bytes of safe text`);
    keywords.add(keyword);
  }
  if (a.recipients.length > MAX_RECIPIENTS) bad(`more than ${MAX_RECIPIENTS} recipients`);
  const recipients = new Set<string>();
  for (const recipient of a.recipients) {
    recipients.add(canonicalUsername(recipient) ?? bad("recipient is not a valid username"));
  }
  if (!isPeerAddress(a.address)) bad("address must be HOST:PORT");
  if (!Number.isSafeInteger(a.createdAt) || a.createdAt < 0) bad("bad creation time");
  if (a.announcement.length === 0 || a.announcement.length > MAX_ANNOUNCEMENT_BYTES) {
    bad(`signed bytes must be 1 to ${MAX_ANNOUNCEMENT_BYTES} bytes`);
  }
  if (a.signature.length === 0 || a.signature.length > MAX_SIGNATURE_SET_BYTES) {
    bad(`signature must be 1 to ${MAX_SIGNATURE_SET_BYTES} bytes`);
  }
  return {
    a,
    nameKey: a.name.normalize("NFC").toLowerCase(),
    keywords: [...keywords],
    recipients: [...recipients],
  };
}

function checkSessionId(sessionId: string): void {
  if (sessionId.length === 0 || sessionId.length > MAX_SESSION_ID_LENGTH) {
    throw new SfsError("BAD_MESSAGE", `Session id must be 1 to ${MAX_SESSION_ID_LENGTH} long`);
  }
}

function checkAddress(address: string): void {
  if (!isPeerAddress(address)) {
    throw new SfsError("BAD_MESSAGE", `Invalid peer address "${address.slice(0, 64)}"`);
  }
}

function page(options: PageOptions): { limit: number; offset: number } {
  const limit = options.limit ?? DEFAULT_PAGE_SIZE;
  const offset = options.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LISTINGS) {
    throw new SfsError("BAD_MESSAGE", `Page size must be 1 to ${MAX_LISTINGS}`);
  }
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_LIST_OFFSET) {
    throw new SfsError("BAD_MESSAGE", `Offset must be 0 to ${MAX_LIST_OFFSET}`);
  }
  return { limit, offset };
}

type Row = Record<string, SQLOutputValue>;

function toUser(row: Row): User {
  return {
    id: int(row.id),
    username: text(row.username),
    passwordHash: text(row.password_hash),
    identity: blob(row.identity),
    fingerprint: text(row.fingerprint),
    createdAt: int(row.created_at),
    keysUpdatedAt: int(row.keys_updated_at),
  };
}

function toListing(row: Row): Listing {
  const keywords = text(row.keywords);
  return {
    id: text(row.id),
    name: text(row.name),
    size: int(row.size),
    sha256: text(row.sha256),
    owner: text(row.owner),
    ownerFingerprint: text(row.owner_fingerprint),
    ownerIdentity: blob(row.owner_identity),
    online: int(row.online) === 1,
    lastSeen: int(row.last_seen),
    keywords: keywords === "" ? [] : keywords.split(KEYWORD_SEPARATOR),
    createdAt: int(row.created_at),
    address: text(row.address),
    announcement: blob(row.announcement),
    signature: blob(row.signature),
  };
}

// Column readers: STRICT tables guarantee the types, so a mismatch means a schema bug.
function int(value: unknown): number {
  if (typeof value === "number") return value;
  throw new SfsError("INTERNAL", "Index column is not an integer");
}

function text(value: unknown): string {
  if (typeof value === "string") return value;
  throw new SfsError("INTERNAL", "Index column is not text");
}

function blob(value: unknown): Bytes {
  // node:sqlite copies each BLOB into a fresh, non-shared ArrayBuffer.
  if (value instanceof Uint8Array && value.buffer instanceof ArrayBuffer) return value as Bytes;
  throw new SfsError("INTERNAL", "Index column is not a blob");
}
