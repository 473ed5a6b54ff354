/**
 * Writing listings in PostgreSQL: announcements with their recipients, withdrawals, and the
 * removal of a session's or an owner's listings, with the rules of ../store_listings.ts.
 *
 * Several servers write at once, so every write that checks before it writes (the owner's
 * fingerprint, the quota, a withdrawal) first locks the owner's `users` row (`FOR NO KEY
 * UPDATE`): announcements, withdrawals and key changes of one owner then run one after another
 * whichever server they reach, and a count cannot change between its check and the insert.
 */
import { SfsError } from "../../../errors.ts";
import {
  announcedByAnother,
  type Announcement,
  checkAnnouncement,
  checkAnnouncer,
  type CheckedAnnouncement,
  checkRoomFor,
  checkSignedAfter,
  KEYWORD_SEPARATOR,
  type Withdrawal,
} from "../store_listings.ts";
import { toTsVector } from "./fts.ts";
import type { Sql, TxSql as Tx } from "./connect.ts";

/** Stores or replaces announcements in one transaction: all or none (see store.ts). */
export async function announceMany(
  sql: Sql,
  announcements: readonly Announcement[],
  now: number,
): Promise<void> {
  // Validated before BEGIN, so locks are held only for the writes.
  const rows = announcements.map(checkAnnouncement);
  await sql.begin(async (tx) => {
    const owners = await lockOwners(tx, rows.map((row) => row.a.ownerId));
    const sessions = new Map<string, number | undefined>();
    for (const row of rows) {
      const a = row.a;
      if (!sessions.has(a.sessionId)) {
        const [s] = await tx<{ user_id: number }[]>`
          SELECT user_id FROM sessions WHERE id = ${a.sessionId}`;
        sessions.set(a.sessionId, s?.user_id);
      }
      checkAnnouncer(a, sessions.get(a.sessionId), owners.get(a.ownerId));
      await checkWithdrawn(tx, a);
      if (a.maxOwnerListings !== undefined) await checkQuota(tx, a, a.maxOwnerListings);
      await upsert(tx, row, now);
    }
  });
}

/** Withdraws one of the owner's files and remembers it; false when the owner has no such file. */
export async function unshare(sql: Sql, ownerId: number, id: string, now: number) {
  return await sql.begin(async (tx) => {
    await lockOwner(tx, ownerId).catch(() => undefined);
    const [row] = await tx<{ created_at: number }[]>`
      DELETE FROM announcements WHERE owner_id = ${ownerId} AND id = ${id} RETURNING created_at`;
    if (row === undefined) return false;
    await tx`
      INSERT INTO withdrawals (owner_id, id, created_at, withdrawn_at)
      VALUES (${ownerId}, ${id}, ${row.created_at}, ${now})
      ON CONFLICT (owner_id, id) DO UPDATE SET
        created_at = greatest(withdrawals.created_at, excluded.created_at),
        withdrawn_at = excluded.withdrawn_at`;
    return true;
  });
}

/** Forgets withdrawals made before `cutoff`. */
export async function pruneWithdrawals(sql: Sql, cutoff: number): Promise<number> {
  const result = await sql`DELETE FROM withdrawals WHERE withdrawn_at < ${cutoff}`;
  return result.count;
}

/** Withdraws every announcement of `ownerId`. */
export async function unshareAll(sql: Sql, ownerId: number): Promise<number> {
  const result = await sql`DELETE FROM announcements WHERE owner_id = ${ownerId}`;
  return result.count;
}

/** Withdraws every announcement of `sessionId`. */
export async function removeSessionAnnouncements(sql: Sql, sessionId: string): Promise<number> {
  const result = await sql`DELETE FROM announcements WHERE session_id = ${sessionId}`;
  return result.count;
}

/** The owner's withdrawals made at or after `sinceMs`. */
export async function withdrawalsSince(
  sql: Sql,
  ownerId: number,
  sinceMs: number,
): Promise<Withdrawal[]> {
  const rows = await sql<{ id: string; created_at: number }[]>`
    SELECT id, created_at FROM withdrawals WHERE owner_id = ${ownerId} AND withdrawn_at >= ${sinceMs}`;
  return rows.map((row) => ({ id: row.id, createdAt: row.created_at }));
}

/**
 * Locks the owner's row for this transaction and returns its fingerprint; NOT_FOUND for an
 * unknown owner.
 */
/**
 * Locks every owner of a batch before anything else, in id order, and returns their registered
 * fingerprints. Group commit starts a batch while the last may still be in its transaction, so
 * two batches can name the same owners; locked in arrival order, each could hold one the other
 * waits for, and PostgreSQL would abort one after deadlock_timeout (a second's stall, then every
 * row of the batch stored again alone). In one order, the later batch just waits. An owner
 * missing from the result has no account: checkAnnouncer refuses its rows.
 */
async function lockOwners(tx: Tx, ownerIds: number[]): Promise<Map<number, string>> {
  const ids = [...new Set(ownerIds)];
  // The rows are locked as the sorted scan returns them, so in id order.
  const users = await tx<{ id: number; fingerprint: string }[]>`
    SELECT id, fingerprint FROM users WHERE id = ANY(${ids}::bigint[])
    ORDER BY id FOR NO KEY UPDATE`;
  return new Map(users.map((user) => [user.id, user.fingerprint]));
}

async function lockOwner(tx: Tx, ownerId: number): Promise<string> {
  const [user] = await tx<{ fingerprint: string }[]>`
    SELECT fingerprint FROM users WHERE id = ${ownerId} FOR NO KEY UPDATE`;
  if (user === undefined) throw new SfsError("NOT_FOUND", `No user with id ${ownerId}`);
  return user.fingerprint;
}

async function upsert(
  tx: Tx,
  { a, keywords, recipients, nameKey }: CheckedAnnouncement,
  now: number,
) {
  const [row] = await tx<{ seq: number }[]>`
    INSERT INTO announcements (id, owner_id, session_id, name, name_key, size, sha256, keywords,
      public, address, created_at, updated_at, announcement, signature, search)
    VALUES (${a.id}, ${a.ownerId}, ${a.sessionId}, ${a.name}, ${nameKey}, ${a.size}, ${a.sha256},
      ${keywords.join(KEYWORD_SEPARATOR)}, ${recipients.length === 0}, ${a.address},
      ${a.createdAt}, ${now}, ${a.announcement}, ${a.signature},
      ${toTsVector(a.name, keywords)}::tsvector)
    ON CONFLICT (id) DO UPDATE SET
      session_id = excluded.session_id, name = excluded.name, name_key = excluded.name_key,
      size = excluded.size, sha256 = excluded.sha256, keywords = excluded.keywords,
      public = excluded.public, address = excluded.address, created_at = excluded.created_at,
      updated_at = excluded.updated_at, announcement = excluded.announcement,
      signature = excluded.signature, search = excluded.search
    WHERE announcements.owner_id = excluded.owner_id
    RETURNING seq`;
  if (row === undefined) throw announcedByAnother(a);
  await tx`DELETE FROM recipients WHERE seq = ${row.seq}`;
  if (recipients.length > 0) {
    await tx`
      INSERT INTO recipients (username_key, seq)
      SELECT key, ${row.seq} FROM unnest(${recipients}::text[]) AS key`;
  }
}

/**
 * Refuses (WITHDRAWN) an announcement signed no later than one of the same id its owner
 * withdrew; a newer one is a new share, and the withdrawal is forgotten.
 */
async function checkWithdrawn(tx: Tx, a: Announcement): Promise<void> {
  const [row] = await tx<{ created_at: number }[]>`
    SELECT created_at FROM withdrawals WHERE owner_id = ${a.ownerId} AND id = ${a.id}`;
  if (row === undefined) return;
  checkSignedAfter(a, row.created_at);
  await tx`DELETE FROM withdrawals WHERE owner_id = ${a.ownerId} AND id = ${a.id}`;
}

/** Refuses (QUOTA_EXCEEDED) a new file id of an owner who has `max` listings already. */
async function checkQuota(tx: Tx, a: Announcement, max: number): Promise<void> {
  const [known] = await tx`SELECT 1 FROM announcements WHERE id = ${a.id}`;
  if (known !== undefined) return;
  const [{ n }] = await tx<{ n: number }[]>`
    SELECT count(*) AS n FROM announcements WHERE owner_id = ${a.ownerId}`;
  checkRoomFor(n, max);
}
