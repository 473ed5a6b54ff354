/**
 * Accounts and attempt counts in PostgreSQL, with the rules of ../store_users.ts: the users
 * table, and the timestamped attempts (failed logins, registrations) the throttle counts per key.
 */
import { SfsError } from "../../../errors.ts";
import { canonicalUsername, validateUsername } from "../../protocol/usernames.ts";
import type { NewUser, User } from "../store_users.ts";
import type { Sql, TxSql } from "./connect.ts";
import { copy } from "./queries.ts";

const ATTEMPT_PRUNE_EVERY = 1000;

/** Creates an account: EXISTS when the name is taken in any case, USAGE for a bad name. */
export async function createUser(sql: Sql, user: NewUser, now: number): Promise<number> {
  const key = validateUsername(user.username);
  const [row] = await sql<{ id: number }[]>`
    INSERT INTO users (username, username_key, password_hash, identity, fingerprint,
      created_at, keys_updated_at)
    VALUES (${user.username.normalize("NFC")}, ${key}, ${user.passwordHash},
      ${user.identity}, ${user.fingerprint}, ${now}, ${now})
    ON CONFLICT (username_key) DO NOTHING
    RETURNING id`;
  if (row === undefined) throw new SfsError("EXISTS", `Username "${user.username}" is taken`);
  return row.id;
}

/** An account by username, ignoring case. */
export async function getUser(sql: Sql, username: string): Promise<User | undefined> {
  const key = canonicalUsername(username);
  if (key === undefined) return undefined;
  const [row] = await sql<UserRow[]>`
    SELECT ${sql(USER_COLUMNS)} FROM users WHERE username_key = ${key}`;
  return row === undefined ? undefined : toUser(row);
}

/** An account by id. */
export async function getUserById(sql: Sql, userId: number): Promise<User | undefined> {
  const [row] = await sql<UserRow[]>`SELECT ${sql(USER_COLUMNS)} FROM users WHERE id = ${userId}`;
  return row === undefined ? undefined : toUser(row);
}

/** Replaces an account's identity; NOT_FOUND for an unknown user. */
export async function updateUserKeys(
  sql: Sql,
  userId: number,
  keys: { identity: Uint8Array; fingerprint: string; now: number },
): Promise<void> {
  const result = await sql`UPDATE users SET identity = ${keys.identity},
    fingerprint = ${keys.fingerprint}, keys_updated_at = ${keys.now} WHERE id = ${userId}`;
  if (result.count === 0) throw new SfsError("NOT_FOUND", `No user with id ${userId}`);
}

/** Replaces an account's password hash; NOT_FOUND for an unknown user. */
export async function updatePasswordHash(
  sql: Sql,
  userId: number,
  passwordHash: string,
): Promise<void> {
  const result = await sql`UPDATE users SET password_hash = ${passwordHash} WHERE id = ${userId}`;
  if (result.count === 0) throw new SfsError("NOT_FOUND", `No user with id ${userId}`);
}

/**
 * Attempt counts per key. The only state is a counter that spaces out the sweep of keys that
 * never come back; it is per process, and any server's sweep will do.
 */
export class PgAttempts {
  readonly #now: () => number;
  readonly #retentionMs: number;
  #sincePrune = 0;

  constructor(now: () => number, retentionMs: number) {
    this.#now = now;
    this.#retentionMs = retentionMs;
  }

  /** Records one attempt under `key`, pruning the key's expired ones. */
  record(sql: Sql, key: string): Promise<void> {
    return sql.begin((tx) => this.#insert(tx, key));
  }

  /**
   * Records one attempt unless `max` were recorded since `sinceMs`. A transaction-scoped
   * advisory lock on the key makes count and insert one step across every server.
   */
  recordWithin(sql: Sql, key: string, sinceMs: number, max: number): Promise<boolean> {
    return sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(hashtextextended(${"attempt:" + key}, 0))`;
      const [{ n }] = await tx<{ n: number }[]>`
        SELECT count(*) AS n FROM attempts WHERE key = ${key} AND at >= ${sinceMs}`;
      if (n >= max) return false;
      await this.#insert(tx, key);
      return true;
    });
  }

  /** Attempts under `key` at or after `sinceMs`. */
  async since(sql: Sql, key: string, sinceMs: number): Promise<number> {
    const [{ n }] = await sql<{ n: number }[]>`
      SELECT count(*) AS n FROM attempts WHERE key = ${key} AND at >= ${sinceMs}`;
    return n;
  }

  /** Forgets the attempts under `key`. */
  async clear(sql: Sql, key: string): Promise<void> {
    await sql`DELETE FROM attempts WHERE key = ${key}`;
  }

  async #insert(tx: Sql | TxSql, key: string): Promise<void> {
    const now = this.#now();
    const cutoff = now - this.#retentionMs;
    await tx`INSERT INTO attempts (key, at) VALUES (${key}, ${now})`;
    await tx`DELETE FROM attempts WHERE key = ${key} AND at < ${cutoff}`;
    // Keys that never come back are swept now and then (per process: any server's sweep will do).
    if (++this.#sincePrune >= ATTEMPT_PRUNE_EVERY) {
      this.#sincePrune = 0;
      await tx`DELETE FROM attempts WHERE at < ${cutoff}`;
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
