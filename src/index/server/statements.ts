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

// What a LISTINGS reply needs, in this order (the record queries return arrays: see
// RecordColumn). The identity is left out: it comes from a cache by fingerprint
// (store_queries.ts).
const RECORD_COLUMNS = `
  a.id, a.announcement, a.signature, a.owner_id, u.fingerprint, s.online, s.last_seen`;

/** Positions of RECORD_COLUMNS in a record row. */
export const RecordColumn = {
  ID: 0,
  ANNOUNCEMENT: 1,
  SIGNATURE: 2,
  OWNER_ID: 3,
  OWNER_FINGERPRINT: 4,
  ONLINE: 5,
  LAST_SEEN: 6,
  /** Search only: how many matches the rank window holds. */
  MATCHED: 7,
} as const;

const LISTING_JOINS = `
  JOIN users u ON u.id = a.owner_id
  JOIN sessions s ON s.id = a.session_id`;

// Public, the viewer's own, or addressed to the viewer. The username subquery does not depend
// on the row, so SQLite evaluates it once per statement; a NULL viewer matches neither branch.
// The EXISTS is one primary-key probe, made only for a row that is neither public nor the
// viewer's (≈ 10 % in the benchmark); materialising the viewer's recipient rows once per query
// instead (`a.seq IN (SELECT …)`) measured slower, as a user may be addressed hundreds of times.
const VISIBLE = `
  (a.public = 1 OR a.owner_id = :viewer OR EXISTS (
    SELECT 1 FROM recipients r
    WHERE r.seq = a.seq AND r.username_key = (SELECT username_key FROM users WHERE id = :viewer)
  ))`;

/**
 * How many matches a SEARCH ranks: the newest this many matching listings (visible or not);
 * older matches follow them newest first. bm25 must score every row it ranks (≈ 0.9 µs each
 * here), so ranking all of a word in 2 % of 100,000 listings would cost ≈ 2 ms per search.
 * Measured over 100,000 listings, a one-keyword search (2,000 matches) took 0.39 ms newest
 * first, and ranking the newest 100, 200, 500 or 1,000 took 0.53, 0.63, 1.06 or 1.78 ms.
 */
export const SEARCH_RANK_WINDOW = 200;

// The newest SEARCH_RANK_WINDOW matches of :query.
const RANK_WINDOW = `
  SELECT rowid AS seq, rank FROM announcements_fts
  WHERE announcements_fts MATCH :query
  ORDER BY rowid DESC LIMIT ${SEARCH_RANK_WINDOW}`;

function queries(p: Prepare) {
  // Rows as arrays: no property names to set per row (measured ≈ 15–20 % of a query's time).
  // The method is in node:sqlite since Node 24 and in Deno 2, not yet in Deno's type file.
  const q: Prepare = (sql) => {
    const statement = p(sql) as StatementSync & { setReturnArrays(enabled: boolean): void };
    statement.setReturnArrays(true);
    return statement;
  };
  return {
    // Best match first (bm25; ties newest first, which also keeps pages stable) among the
    // rank window. The window is ranked over the FTS index alone; then rows are read in rank
    // order, checked for visibility and joined only until the page is full. The LIMIT on
    // `hit` keeps SQLite from dropping its ORDER BY, and the outer ORDER BY is satisfied by
    // that order (no second sort). Each row also says how many matches the window holds.
    search: q(`
      SELECT ${RECORD_COLUMNS}, hit.matched
      FROM (
        SELECT seq, rank, count(*) OVER () AS matched FROM (${RANK_WINDOW})
        ORDER BY rank, seq DESC LIMIT ${SEARCH_RANK_WINDOW}
      ) hit
      JOIN announcements a ON a.seq = hit.seq ${LISTING_JOINS}
      WHERE ${VISIBLE}
      ORDER BY hit.rank, hit.seq DESC
      LIMIT :limit OFFSET :offset`),
    // For a page that runs past the ranked matches: how many the window holds, how many of
    // them the viewer sees, and the oldest one.
    searchWindow: p(`
      SELECT count(*) AS matched, coalesce(sum(${VISIBLE}), 0) AS visible,
        min(hit.seq) AS oldest
      FROM (${RANK_WINDOW}) hit JOIN announcements a ON a.seq = hit.seq`),
    // The matches older than the window, newest first.
    searchOlder: q(`
      SELECT ${RECORD_COLUMNS}
      FROM announcements_fts f
      JOIN announcements a ON a.seq = f.rowid ${LISTING_JOINS}
      WHERE announcements_fts MATCH :query AND f.rowid < :before AND ${VISIBLE}
      ORDER BY f.rowid DESC
      LIMIT :limit OFFSET :offset`),
    listVisible: q(`
      SELECT ${RECORD_COLUMNS} FROM announcements a ${LISTING_JOINS}
      WHERE ${VISIBLE}
      ORDER BY a.seq DESC LIMIT :limit OFFSET :offset`),
    listMine: q(`
      SELECT ${RECORD_COLUMNS} FROM announcements a ${LISTING_JOINS}
      WHERE a.owner_id = :viewer
      ORDER BY a.seq DESC LIMIT :limit OFFSET :offset`),
    byId: q(`
      SELECT ${RECORD_COLUMNS} FROM announcements a ${LISTING_JOINS}
      WHERE a.id = :id AND ${VISIBLE}`),
    byName: q(`
      SELECT ${RECORD_COLUMNS} FROM announcements a ${LISTING_JOINS}
      WHERE a.name_key = :nameKey AND ${VISIBLE}
      ORDER BY s.online DESC, a.seq DESC LIMIT :limit`),
  };
}
