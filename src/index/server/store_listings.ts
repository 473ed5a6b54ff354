/**
 * Writing listings: announcements (stored or replaced by id, with their recipients), withdrawals
 * and the removal of a session's or an owner's listings. Every write is one transaction.
 *
 * The store treats announcement bytes and signatures as opaque: the handlers verify them with
 * protocol/announcement.ts and hand over the parsed fields, which are checked here once more with
 * the same rules (so a store used directly, by a tool or a test, holds no row the protocol would
 * refuse) and in the store's own format (hex ids).
 */
import { SfsError } from "../../errors.ts";
import { isAnnouncedName, isKeyword, isPeerAddress } from "../protocol/announcement.ts";
import {
  MAX_ANNOUNCEMENT_BYTES,
  MAX_KEYWORD_BYTES,
  MAX_KEYWORDS,
  MAX_NAME_BYTES,
  MAX_RECIPIENTS,
  MAX_SIGNATURE_SET_BYTES,
} from "../protocol/limits.ts";
import { canonicalUsername } from "../protocol/usernames.ts";
import { int, type SqlRunner, text } from "./sql.ts";
import type { Statements } from "./statements.ts";

/** Longest session id. */
export const MAX_SESSION_ID_LENGTH = 128;
const HEX_ID_RE = /^(?:[0-9a-f]{2}){8,64}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;
/** Joins an announcement's keywords in the stored text (keywords have no control characters). */
export const KEYWORD_SEPARATOR = "\n";

/** A signed announcement with the parsed fields the store needs. */
export interface Announcement {
  /** File id, lower-case hex (8 to 64 bytes). */
  id: string;
  /** Owner's user id. */
  ownerId: number;
  /** Sharing session the file is served from; it must belong to the owner. */
  sessionId: string;
  /** File name, at most {@linkcode MAX_NAME_BYTES} UTF-8 bytes; see `isAnnouncedName`. */
  name: string;
  /** File size in bytes. */
  size: number;
  /** SHA-256 of the file, lower-case hex. */
  sha256: string;
  /** Search keywords, at most {@linkcode MAX_KEYWORDS}. */
  keywords: readonly string[];
  /** Usernames allowed to see the file (any case); empty means public. */
  recipients: readonly string[];
  /** Where the owner serves it, "host:port". */
  address: string;
  /** Creation time the owner signed (ms since the epoch). */
  createdAt: number;
  /** The signed announcement, opaque to the store. */
  announcement: Uint8Array;
  /** Signature set over `announcement`, opaque to the store. */
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

/** A file id its owner withdrew, as {@linkcode ListingWrites.withdrawalsSince} returns it. */
export interface Withdrawal {
  /** File id (hex). */
  id: string;
  /** Signed creation time of the withdrawn announcement. */
  createdAt: number;
}

/** An announcement that passed {@linkcode checkAnnouncement}, with its derived fields. */
export interface CheckedAnnouncement {
  a: Announcement;
  nameKey: string;
  keywords: string[];
  recipients: string[];
}

/** The listing writes over one connection's statements. */
export class ListingWrites {
  readonly #sql: Statements;
  readonly #runner: SqlRunner;
  readonly #now: () => number;

  constructor(sql: Statements, runner: SqlRunner, now: () => number) {
    this.#sql = sql;
    this.#runner = runner;
    this.#now = now;
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
    this.#runner.transaction(() => {
      const owners = new OwnerChecks(this.#sql);
      for (const row of rows) {
        owners.check(row.a);
        this.#checkWithdrawn(row.a);
        if (row.a.maxOwnerListings !== undefined) this.#checkQuota(row.a, row.a.maxOwnerListings);
        this.#upsert(row, now);
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
    return this.#runner.transaction(() => {
      const row = this.#sql.announcementCreatedAt.get(ownerId, id);
      if (row === undefined) return false;
      this.#sql.unshare.run(ownerId, id);
      this.#sql.upsertWithdrawal.run(ownerId, id, int(row.created_at), now);
      return true;
    });
  }

  /** The owner's withdrawals made at or after `sinceMs` (ms since the epoch). */
  withdrawalsSince(ownerId: number, sinceMs: number): Withdrawal[] {
    const rows = this.#runner.guard(() => this.#sql.withdrawalsSince.all(ownerId, sinceMs));
    return rows.map((row) => ({ id: text(row.id), createdAt: int(row.created_at) }));
  }

  /** Forgets withdrawals older than `olderThanMs`; returns how many. */
  pruneWithdrawals(olderThanMs: number): number {
    const cutoff = this.#now() - olderThanMs;
    return Number(this.#runner.guard(() => this.#sql.pruneWithdrawals.run(cutoff)).changes);
  }

  /** Withdraws every announcement of `ownerId` (after a key change); returns how many. */
  unshareAll(ownerId: number): number {
    return Number(this.#runner.transaction(() => this.#sql.unshareAll.run(ownerId)).changes);
  }

  /** Withdraws every announcement of `sessionId`; returns how many. */
  removeSessionAnnouncements(sessionId: string): number {
    return Number(this.#runner.transaction(() => this.#sql.removeSession.run(sessionId)).changes);
  }

  #upsert({ a, keywords, recipients, nameKey }: CheckedAnnouncement, now: number): void {
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
    if (row === undefined) throw announcedByAnother(a);
    const seq = int(row.seq);
    this.#sql.deleteRecipients.run(seq);
    for (const key of recipients) this.#sql.insertRecipient.run(key, seq);
  }

  /**
   * Refuses (WITHDRAWN) an announcement signed no later than one of the same id its owner
   * withdrew; a newer one is a new share, and the withdrawal is forgotten.
   */
  #checkWithdrawn(a: Announcement): void {
    const row = this.#sql.withdrawal.get(a.ownerId, a.id);
    if (row === undefined) return;
    checkSignedAfter(a, int(row.created_at));
    this.#sql.deleteWithdrawal.run(a.ownerId, a.id);
  }

  /** Refuses (QUOTA_EXCEEDED) a new file id of an owner who has `max` listings already. */
  #checkQuota(a: Announcement, max: number): void {
    if (this.#sql.announcementOwner.get(a.id) !== undefined) return;
    checkRoomFor(int(this.#sql.countOwnerListings.get(a.ownerId)?.n ?? 0), max);
  }
}

/**
 * The per-transaction checks of who announces: the session must be the owner's, and the
 * fingerprint the signature was verified with must still be the registered one. Each session
 * and owner is read once per transaction.
 */
class OwnerChecks {
  readonly #sql: Statements;
  readonly #sessionOwners = new Map<string, number | undefined>();
  readonly #fingerprints = new Map<number, string | undefined>();

  constructor(sql: Statements) {
    this.#sql = sql;
  }

  check(a: Announcement): void {
    if (!this.#sessionOwners.has(a.sessionId)) {
      const owner = this.#sql.sessionOwner.get(a.sessionId);
      this.#sessionOwners.set(a.sessionId, owner === undefined ? undefined : int(owner.user_id));
    }
    if (a.ownerFingerprint !== undefined && !this.#fingerprints.has(a.ownerId)) {
      const user = this.#sql.userFingerprint.get(a.ownerId);
      this.#fingerprints.set(a.ownerId, user === undefined ? undefined : text(user.fingerprint));
    }
    checkAnnouncer(a, this.#sessionOwners.get(a.sessionId), this.#fingerprints.get(a.ownerId));
  }
}

/*
 * The refusals of an announcement that need the database, decided here on what each store
 * looked up, so that both stores answer with one code, message and hint.
 */

/**
 * Refuses (NOT_FOUND) a session not held by the owner (`sessionOwner`: its holder), and
 * (AUTH_FAILED) a verified fingerprint that is no longer the owner's `registered` one.
 */
export function checkAnnouncer(
  a: Announcement,
  sessionOwner: number | undefined,
  registered: string | undefined,
): void {
  if (sessionOwner !== a.ownerId) {
    throw new SfsError("NOT_FOUND", `Owner ${a.ownerId} has no session "${a.sessionId}"`);
  }
  if (a.ownerFingerprint !== undefined && registered !== a.ownerFingerprint) {
    throw new SfsError("AUTH_FAILED", "The account's keys changed; authenticate again");
  }
}

/** The refusal (EXISTS) of a file id another user announced. */
export function announcedByAnother(a: Announcement): SfsError {
  return new SfsError("EXISTS", `File id ${a.id} is announced by another user`);
}

/** Refuses (WITHDRAWN) `a` unless it was signed after its owner withdrew it at `withdrawnAt`. */
export function checkSignedAfter(a: Announcement, withdrawnAt: number): void {
  if (a.createdAt <= withdrawnAt) {
    throw new SfsError("WITHDRAWN", `File ${a.id} was unshared by its owner`, {
      hint: "An announcement signed after the withdrawal shares it anew",
    });
  }
}

/** Refuses (QUOTA_EXCEEDED) a new file id of an owner who has `count` of at most `max`. */
export function checkRoomFor(count: number, max: number): void {
  if (count >= max) {
    throw new SfsError("QUOTA_EXCEEDED", `Owner has ${count} listings, the most this index keeps`, {
      hint: "Withdraw listings no longer shared before announcing new ones",
    });
  }
}

/** Checks every field against its limit; SfsError BAD_MESSAGE names the first that fails. */
export function checkAnnouncement(a: Announcement): CheckedAnnouncement {
  const bad = (reason: string): never => {
    throw new SfsError("BAD_MESSAGE", `Invalid announcement: ${reason}`);
  };
  if (!HEX_ID_RE.test(a.id)) bad("file id must be 8 to 64 bytes of lower-case hex");
  if (!Number.isSafeInteger(a.ownerId)) bad("owner id is not an integer");
  checkSessionId(a.sessionId);
  if (!isAnnouncedName(a.name)) {
    bad(`name must be 1 to ${MAX_NAME_BYTES} bytes without control characters`);
  }
  if (!Number.isSafeInteger(a.size) || a.size < 0) bad("size must be a non-negative integer");
  if (!SHA256_RE.test(a.sha256)) bad("sha256 must be 64 lower-case hex digits");
  if (a.keywords.length > MAX_KEYWORDS) bad(`more than ${MAX_KEYWORDS} keywords`);
  // A keyword has no control character, so no newline, the separator of stored keywords.
  if (!a.keywords.every(isKeyword)) {
    bad(`keyword must be 1 to ${MAX_KEYWORD_BYTES} bytes without control characters`);
  }
  if (a.recipients.length > MAX_RECIPIENTS) bad(`more than ${MAX_RECIPIENTS} recipients`);
  const recipients = a.recipients.map((r) =>
    canonicalUsername(r) ?? bad("recipient is not a valid username")
  );
  if (!isPeerAddress(a.address)) bad("address must be host:port");
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
    keywords: [...new Set(a.keywords)],
    recipients: [...new Set(recipients)],
  };
}

/** Throws SfsError BAD_MESSAGE for a session id that is empty or too long. */
export function checkSessionId(sessionId: string): void {
  if (sessionId.length === 0 || sessionId.length > MAX_SESSION_ID_LENGTH) {
    throw new SfsError("BAD_MESSAGE", `Session id must be 1 to ${MAX_SESSION_ID_LENGTH} long`);
  }
}

/** Throws SfsError BAD_MESSAGE for an address that is not `HOST:PORT` (§10). */
export function checkAddress(address: string): void {
  if (!isPeerAddress(address)) {
    throw new SfsError("BAD_MESSAGE", `Invalid peer address "${address.slice(0, 64)}"`);
  }
}
