/**
 * The relay's directory in PostgreSQL (docs/PROTOCOL.md §13.7): relay tokens in `relay_tokens`,
 * where every server of the index finds them, and dial requests over LISTEN/NOTIFY to the server
 * holding the sharing connection. Tokens are stored as their SHA-256 and looked up by it: the
 * token is 16 random bytes, so its hash gives nothing away, and the lookup's timing depends on
 * the hash of a guess, not on how much of the real token it matches.
 *
 * A registration counts only while its server beats (`servers.last_seen` within the presence
 * timeout): a server that dies leaves rows nobody pairs with, and the next server to start
 * deletes them (PgStore.expireOrphans).
 */
import { sha256 } from "../../../crypto/bytes.ts";
import type { RelayCandidate, RelayDirectory } from "../relay_directory.ts";
import type { Sql } from "./connect.ts";

/** Registers, or replaces with a new order, the token of one file on one connection. */
export async function registerToken(
  sql: Sql,
  row: { serverId: string; connection: string; userId: number; fileId: string; token: Uint8Array },
): Promise<void> {
  const hash = await sha256(new Uint8Array(row.token));
  await sql`
    INSERT INTO relay_tokens (connection, file_id, server_id, user_id, token_hash)
    VALUES (${row.connection}, ${row.fileId}, ${row.serverId}, ${row.userId}, ${hash})
    ON CONFLICT (connection, file_id) DO UPDATE SET
      token_hash = excluded.token_hash, user_id = excluded.user_id,
      registered = excluded.registered
    WHERE relay_tokens.server_id = excluded.server_id`;
}

/** Forgets a connection's tokens. */
export async function forgetConnection(sql: Sql, connection: string): Promise<void> {
  await sql`DELETE FROM relay_tokens WHERE connection = ${connection}`;
}

/**
 * The most recent registration of `fileId` on a live server (beat at or after `cutoff`), with
 * `token` when one is given.
 */
export async function findRegistration(
  sql: Sql,
  fileId: string,
  token: Uint8Array | undefined,
  cutoff: number,
): Promise<RelayCandidate | undefined> {
  const hash = token === undefined ? undefined : await sha256(new Uint8Array(token));
  const rows = await sql<{ server_id: string; connection: string; user_id: number }[]>`
    SELECT r.server_id, r.connection, r.user_id FROM relay_tokens r
    JOIN servers v ON v.id = r.server_id
    WHERE r.file_id = ${fileId} AND v.last_seen >= ${cutoff}
      ${hash === undefined ? sql`` : sql`AND r.token_hash = ${hash}`}
    ORDER BY r.registered DESC LIMIT 1`;
  const [row] = rows;
  return row === undefined
    ? undefined
    : { server: row.server_id, connection: row.connection, userId: Number(row.user_id) };
}

/**
 * The relay's directory on one database: `run` makes a database call (errors as SfsError),
 * `cutoff` is the oldest beat that still counts, and `send` and `listen` carry dial requests
 * between servers (PgStore.notify and PgStore.listen).
 */
export function relayDirectoryOn(
  run: <T>(fn: (sql: Sql) => Promise<T>) => Promise<T>,
  serverId: string,
  how: Pick<RelayDirectory, "send" | "listen"> & { cutoff: () => number },
): RelayDirectory {
  return {
    serverId,
    register: (connection, userId, fileId, token) =>
      run((sql) => registerToken(sql, { serverId, connection, userId, fileId, token })),
    forget: (connection) => run((sql) => forgetConnection(sql, connection)),
    byToken: (fileId, token) => run((sql) => findRegistration(sql, fileId, token, how.cutoff())),
    latest: (fileId) => run((sql) => findRegistration(sql, fileId, undefined, how.cutoff())),
    send: how.send,
    listen: how.listen,
  };
}
