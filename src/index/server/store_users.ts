/**
 * Accounts and attempt counts: the users table, and the timestamped attempts (failed logins,
 * registrations) the throttle counts per key.
 */
import type { Bytes } from "../../crypto/bytes.ts";
import { SfsError } from "../../errors.ts";
import { canonicalUsername, validateUsername } from "../protocol/usernames.ts";
import { blob, int, type Row, type SqlRunner, text } from "./sql.ts";
import type { Statements } from "./statements.ts";

const FAILED_LOGIN_PRUNE_EVERY = 1000;

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
  /** Username; must pass `validateUsername`. */
  username: string;
  /** `scrypt$…` encoding from `hashPassword`. */
  passwordHash: string;
  /** Canonical public identity bytes. */
  identity: Uint8Array;
  /** Fingerprint of `identity`. */
  fingerprint: string;
}

/** Accounts and attempts over one connection's statements. */
export class UserTable {
  readonly #sql: Statements;
  readonly #runner: SqlRunner;
  readonly #now: () => number;
  readonly #failedRetentionMs: number;
  #failedSincePrune = 0;

  constructor(sql: Statements, runner: SqlRunner, now: () => number, failedRetentionMs: number) {
    this.#sql = sql;
    this.#runner = runner;
    this.#now = now;
    this.#failedRetentionMs = failedRetentionMs;
  }

  /**
   * Creates an account and returns its id; SfsError EXISTS when the name is taken in any case,
   * USAGE (§12.3's code) for an invalid name.
   */
  createUser(user: NewUser): number {
    const key = validateUsername(user.username);
    const now = this.#now();
    const row = this.#runner.guard(() =>
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
    const row = this.#runner.guard(() => this.#sql.userByKey.get(key));
    return row === undefined ? undefined : toUser(row);
  }

  /** Looks an account up by id. */
  getUserById(userId: number): User | undefined {
    const row = this.#runner.guard(() => this.#sql.userById.get(userId));
    return row === undefined ? undefined : toUser(row);
  }

  /** Replaces an account's identity; SfsError NOT_FOUND for an unknown user. */
  updateUserKeys(userId: number, identity: Uint8Array, fingerprint: string): void {
    const result = this.#runner.guard(() =>
      this.#sql.updateKeys.run(identity, fingerprint, this.#now(), userId)
    );
    if (result.changes === 0) throw new SfsError("NOT_FOUND", `No user with id ${userId}`);
  }

  /** Replaces an account's password hash (e.g. after a rehash); SfsError NOT_FOUND if unknown. */
  updatePasswordHash(userId: number, passwordHash: string): void {
    const result = this.#runner.guard(() => this.#sql.updatePassword.run(passwordHash, userId));
    if (result.changes === 0) throw new SfsError("NOT_FOUND", `No user with id ${userId}`);
  }

  // Attempts (failed logins, registrations): timestamped events counted per key

  /**
   * Records one attempt under `key` (e.g. "login:alice@192.0.2.1", "register:192.0.2.1"). The
   * table is still named failed_logins, from when it counted nothing else.
   */
  recordAttempt(key: string): void {
    this.#runner.transaction(() => this.#insertAttempt(key));
  }

  /**
   * Records one attempt under `key` unless `max` were recorded at or after `sinceMs`; true when
   * recorded. One transaction, so the count cannot change between reading and inserting.
   */
  recordAttemptWithin(key: string, sinceMs: number, max: number): boolean {
    return this.#runner.transaction(() => {
      if (int(this.#sql.countFailed.get(key, sinceMs)?.n ?? 0) >= max) return false;
      this.#insertAttempt(key);
      return true;
    });
  }

  #insertAttempt(key: string): void {
    const now = this.#now();
    const cutoff = now - this.#failedRetentionMs;
    this.#sql.insertFailed.run(key, now);
    this.#sql.pruneFailedKey.run(key, cutoff);
    // Keys that never fail again are swept now and then, so the table stays bounded by the
    // failure rate times the retention window.
    if (++this.#failedSincePrune >= FAILED_LOGIN_PRUNE_EVERY) {
      this.#failedSincePrune = 0;
      this.#sql.pruneFailedAll.run(cutoff);
    }
  }

  /** Attempts under `key` at or after `sinceMs` (ms since the epoch). */
  attemptsSince(key: string, sinceMs: number): number {
    return int(this.#runner.guard(() => this.#sql.countFailed.get(key, sinceMs))?.n ?? 0);
  }

  /** Forgets the attempts under `key` (after a successful login). */
  clearAttempts(key: string): void {
    this.#runner.guard(() => this.#sql.clearFailed.run(key));
  }
}

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
