/**
 * Every SQL statement of the store, prepared once per connection and grouped by concern. The
 * store's methods only bind values and read rows.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";

type Prepare = (sql: string) => StatementSync;

/** The prepared statements of one connection. */
export type Statements = ReturnType<typeof prepareStatements>;

/** Prepares every statement on `db`. */
export function prepareStatements(db: DatabaseSync) {
  const p: Prepare = (sql) => db.prepare(sql);
  return {
    ...maintenance(p),
    ...users(p),
    ...attempts(p),
    ...sessions(p),
    ...listings(p),
    ...withdrawals(p),
    /** The visible-listing queries LISTINGS replies are made of. */
    queries: queries(p),
  };
}

function maintenance(p: Prepare) {
  return {
    integrity: p("PRAGMA integrity_check"),
    userVersion: p("PRAGMA user_version"),
    ftsIntegrity: p(
      "INSERT INTO announcements_fts (announcements_fts) VALUES ('integrity-check')",
    ),
  };
}

const USER_COLUMNS =
  "id, username, password_hash, identity, fingerprint, created_at, keys_updated_at";

function users(p: Prepare) {
  return {
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
  };
}

function attempts(p: Prepare) {
  return {
    insertFailed: p("INSERT INTO failed_logins (key, at) VALUES (?, ?)"),
    pruneFailedKey: p("DELETE FROM failed_logins WHERE key = ? AND at < ?"),
    pruneFailedAll: p("DELETE FROM failed_logins WHERE at < ?"),
    countFailed: p("SELECT count(*) AS n FROM failed_logins WHERE key = ? AND at >= ?"),
    clearFailed: p("DELETE FROM failed_logins WHERE key = ?"),
  };
}

function sessions(p: Prepare) {
  return {
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
  };
}

function listings(p: Prepare) {
  return {
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
    unshareAll: p("DELETE FROM announcements WHERE owner_id = ?"),
    removeSession: p("DELETE FROM announcements WHERE session_id = ?"),
  };
}

function withdrawals(p: Prepare) {
  return {
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
  };
}

// What a LISTINGS reply needs. The identity is left out: it comes from a cache by fingerprint
// (see store_queries.ts).
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

function queries(p: Prepare) {
  return {
    // Best match first (bm25; ties newest first, which also keeps pages stable). The page is
    // chosen over the FTS rowids and visibility alone; only its rows are joined for the reply.
    search: p(`
      SELECT ${RECORD_COLUMNS}
      FROM (
        SELECT f.rowid AS seq, f.rank AS rank
        FROM announcements_fts f JOIN announcements a ON a.seq = f.rowid
        WHERE announcements_fts MATCH :query AND ${VISIBLE}
        ORDER BY f.rank, f.rowid DESC
        LIMIT :limit OFFSET :offset
      ) hit
      JOIN announcements a ON a.seq = hit.seq ${LISTING_JOINS}
      ORDER BY hit.rank, hit.seq DESC`),
    listVisible: p(`
      SELECT ${RECORD_COLUMNS} FROM announcements a ${LISTING_JOINS}
      WHERE ${VISIBLE}
      ORDER BY a.seq DESC LIMIT :limit OFFSET :offset`),
    listMine: p(`
      SELECT ${RECORD_COLUMNS} FROM announcements a ${LISTING_JOINS}
      WHERE a.owner_id = :viewer
      ORDER BY a.seq DESC LIMIT :limit OFFSET :offset`),
    byId: p(`
      SELECT ${RECORD_COLUMNS} FROM announcements a ${LISTING_JOINS}
      WHERE a.id = :id AND ${VISIBLE}`),
    byName: p(`
      SELECT ${RECORD_COLUMNS} FROM announcements a ${LISTING_JOINS}
      WHERE a.name_key = :nameKey AND ${VISIBLE}
      ORDER BY s.online DESC, a.seq DESC LIMIT :limit`),
  };
}
