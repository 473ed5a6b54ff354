/**
 * PostgreSQL schema of the index store as migrations, the same way as the SQLite schema
 * (../schema.ts): `MIGRATIONS[i]` moves a database from version `i` to `i + 1`, the version is
 * kept in `sfs_schema`, and never edit a shipped migration: append a new one. migrate.ts applies
 * them in one transaction under an advisory lock, so servers starting together migrate once.
 *
 * Tables mirror the SQLite ones column for column (times are ms since the epoch in `bigint`),
 * with three additions for several servers on one database: `servers` (each running process and
 * its liveness beat), `sessions.server_id` (which process holds the sharing connection) and
 * `relay_tokens` (kept in memory with SQLite).
 */

/** Ordered migrations; `sfs_schema.version` counts how many have been applied. */
export const PG_MIGRATIONS: readonly string[] = [
  // 1: users, attempts, servers, sessions, announcements, recipients, withdrawals.
  `
  CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username text NOT NULL,
    -- Lower-cased NFC form: the UNIQUE constraint makes "Alice" and "alice" one account.
    username_key text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    identity bytea NOT NULL,
    fingerprint text NOT NULL,
    created_at bigint NOT NULL,
    keys_updated_at bigint NOT NULL
  );

  -- Failed logins and registrations, counted per key by the throttle.
  CREATE TABLE attempts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key text NOT NULL,
    at bigint NOT NULL
  );
  CREATE INDEX attempts_key_at ON attempts (key, at);
  CREATE INDEX attempts_at ON attempts (at);

  -- One row per running server process, beaten every few seconds: a row that stops beating is a
  -- server that died, and the sessions it held are orphans.
  CREATE TABLE servers (
    id text PRIMARY KEY,
    started_at bigint NOT NULL,
    last_seen bigint NOT NULL
  );

  CREATE TABLE sessions (
    id text PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The server process holding the sharing connection (not a foreign key: a dead server's row
    -- goes before its sessions are pruned).
    server_id text NOT NULL,
    address text NOT NULL,
    online boolean NOT NULL,
    started_at bigint NOT NULL,
    last_seen bigint NOT NULL
  );
  CREATE INDEX sessions_user ON sessions (user_id);
  CREATE INDEX sessions_server ON sessions (server_id) WHERE online;
  CREATE INDEX sessions_online_seen ON sessions (last_seen) WHERE online;
  CREATE INDEX sessions_offline_seen ON sessions (last_seen) WHERE NOT online;

  CREATE TABLE announcements (
    -- Stays fixed when an announcement is re-announced: the newest-first order.
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id text NOT NULL UNIQUE,
    owner_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    name text NOT NULL,
    -- Lower-cased NFC name for exact, case-insensitive lookup.
    name_key text NOT NULL,
    size bigint NOT NULL CHECK (size >= 0),
    sha256 text NOT NULL,
    -- Keywords joined by newlines; keywords cannot contain control characters.
    keywords text NOT NULL,
    public boolean NOT NULL,
    address text NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    announcement bytea NOT NULL,
    signature bytea NOT NULL,
    -- Name and keyword tokens as pg/fts.ts cuts them (the parser is not used).
    search tsvector NOT NULL
  );
  CREATE INDEX announcements_session ON announcements (session_id);
  CREATE INDEX announcements_owner ON announcements (owner_id, seq);
  CREATE INDEX announcements_name ON announcements (name_key);
  CREATE INDEX announcements_search ON announcements USING gin (search);

  -- Who may see a non-public announcement, by username key (users need not exist yet).
  CREATE TABLE recipients (
    username_key text NOT NULL,
    seq bigint NOT NULL REFERENCES announcements (seq) ON DELETE CASCADE,
    PRIMARY KEY (username_key, seq)
  );
  CREATE INDEX recipients_seq ON recipients (seq);

  -- So a running sender cannot bring back a file its owner unshared.
  CREATE TABLE withdrawals (
    owner_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id text NOT NULL,
    created_at bigint NOT NULL,
    withdrawn_at bigint NOT NULL,
    PRIMARY KEY (owner_id, id)
  );
  CREATE INDEX withdrawals_at ON withdrawals (withdrawn_at);
  `,
  // 2: relay tokens (docs/PROTOCOL.md §13.7), so a RELAY on any server finds the sharer.
  `
  CREATE SEQUENCE relay_tokens_order;
  -- The per-share relay token each sharing connection registered, as its SHA-256 (the token is
  -- as secret as a ticket; a copy of the database must not hand it out). A row lives as long as
  -- its connection on its server (not a foreign key: a dead server's row goes first).
  CREATE TABLE relay_tokens (
    connection text NOT NULL,
    file_id text NOT NULL,
    server_id text NOT NULL,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL,
    -- Registration order, renewed when a token is replaced: the most recent one wins.
    registered bigint NOT NULL DEFAULT nextval('relay_tokens_order'),
    PRIMARY KEY (connection, file_id)
  );
  CREATE INDEX relay_tokens_file ON relay_tokens (file_id, registered);
  CREATE INDEX relay_tokens_server ON relay_tokens (server_id);
  `,
];

/** Schema version this code creates and expects. */
export const PG_SCHEMA_VERSION: number = PG_MIGRATIONS.length;
