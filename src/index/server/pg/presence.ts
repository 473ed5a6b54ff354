/**
 * Sessions, server liveness and cross-server messages in PostgreSQL (store.ts is the facade).
 *
 * - Presence: every server process has a random id and a row in `servers` that it beats every
 *   few seconds; each session names the server holding its connection. A session shows online
 *   while its last heartbeat is younger than the presence timeout, whichever server reads it.
 *   A server starting marks offline only the sessions of servers that stopped beating.
 * - Cross-server requests: {@linkcode notify} and {@linkcode listen} carry short messages
 *   between server processes over LISTEN/NOTIFY, addressed by server id (see
 *   {@linkcode sessionServer}); the relay's directory (relay.ts) is built on them.
 */
import { SfsError } from "../../../errors.ts";
import { checkAddress, checkSessionId } from "../store_listings.ts";
import type { Sql } from "./connect.ts";

/** Longest payload of one cross-server message (PostgreSQL's NOTIFY limit is 8000 bytes). */
export const MAX_NOTIFY_BYTES = 7_900;
const NOTIFY_CHANNEL_PREFIX = "sfs_server_";

/** Marks the session online at `address`, held by `serverId`: NOT_FOUND, EXISTS as store.ts. */
export async function setOnline(
  sql: Sql,
  session: { userId: number; sessionId: string; address: string; serverId: string; now: number },
): Promise<void> {
  const { userId, sessionId, address, serverId, now } = session;
  checkSessionId(sessionId);
  checkAddress(address);
  await sql.begin(async (tx) => {
    const [user] = await tx`SELECT 1 FROM users WHERE id = ${userId}`;
    if (user === undefined) throw new SfsError("NOT_FOUND", `No user with id ${userId}`);
    // The WHERE on DO UPDATE keeps a session id from being taken over by another user.
    const [row] = await tx`
      INSERT INTO sessions (id, user_id, server_id, address, online, started_at, last_seen)
      VALUES (${sessionId}, ${userId}, ${serverId}, ${address}, true, ${now}, ${now})
      ON CONFLICT (id) DO UPDATE SET
        address = excluded.address, server_id = excluded.server_id, online = true,
        last_seen = excluded.last_seen
      WHERE sessions.user_id = excluded.user_id
      RETURNING 1`;
    if (row === undefined) throw new SfsError("EXISTS", "Session id belongs to another user");
  });
}

/** Notes that the session is alive; false if unknown. */
export async function heartbeat(sql: Sql, sessionId: string, now: number): Promise<boolean> {
  const result = await sql`
    UPDATE sessions SET last_seen = ${now}, online = true WHERE id = ${sessionId}`;
  return result.count > 0;
}

/** Marks the session offline; false if unknown. */
export async function setOffline(sql: Sql, sessionId: string, now: number): Promise<boolean> {
  const result = await sql`
    UPDATE sessions SET online = false, last_seen = ${now} WHERE id = ${sessionId}`;
  return result.count > 0;
}

/** Marks offline every session, of any server, not heard from since `cutoff`. */
export async function expireStale(sql: Sql, cutoff: number): Promise<number> {
  const result =
    await sql`UPDATE sessions SET online = false WHERE online AND last_seen < ${cutoff}`;
  return result.count;
}

/** Deletes sessions offline and unheard of since `cutoff`, with their announcements. */
export async function pruneOfflineSessions(sql: Sql, cutoff: number): Promise<number> {
  const result = await sql`DELETE FROM sessions WHERE NOT online AND last_seen < ${cutoff}`;
  return result.count;
}

/**
 * Marks offline the online sessions of servers that are gone (no row, or a beat older than
 * `cutoff`), and forgets those servers' rows. Sessions of running servers stay.
 */
export function expireOrphans(sql: Sql, serverId: string, cutoff: number): Promise<number> {
  return sql.begin(async (tx) => {
    await tx`DELETE FROM servers WHERE last_seen < ${cutoff} AND id <> ${serverId}`;
    await tx`
      DELETE FROM relay_tokens r
      WHERE NOT EXISTS (SELECT 1 FROM servers v WHERE v.id = r.server_id)`;
    const result = await tx`
      UPDATE sessions s SET online = false
      WHERE s.online AND NOT EXISTS (SELECT 1 FROM servers v WHERE v.id = s.server_id)`;
    return result.count;
  });
}

/** Beats the server's row (creating it on the first beat). */
export async function beat(sql: Sql, serverId: string, now: number): Promise<void> {
  await sql`
    INSERT INTO servers (id, started_at, last_seen) VALUES (${serverId}, ${now}, ${now})
    ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen`;
}

/** Removes a stopping server's row and its relay tokens (its sessions are already offline). */
export async function removeServer(sql: Sql, serverId: string): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`DELETE FROM relay_tokens WHERE server_id = ${serverId}`;
    await tx`DELETE FROM servers WHERE id = ${serverId}`;
  });
}

/**
 * The server holding `sessionId`'s connection, while that server is alive (its beat at or after
 * `cutoff`, the presence timeout ago) and the session online; undefined otherwise.
 */
export async function sessionServer(
  sql: Sql,
  sessionId: string,
  cutoff: number,
): Promise<string | undefined> {
  const [row] = await sql<{ server_id: string }[]>`
    SELECT s.server_id FROM sessions s JOIN servers v ON v.id = s.server_id
    WHERE s.id = ${sessionId} AND s.online AND s.last_seen >= ${cutoff}
      AND v.last_seen >= ${cutoff}`;
  return row?.server_id;
}

/**
 * The server holding the connection of the session that serves file `id`, while that server
 * and session are alive (see {@linkcode sessionServer}); undefined otherwise. Visibility is
 * not checked here: ask only for a listing the viewer was shown.
 */
export async function listingServer(
  sql: Sql,
  id: string,
  cutoff: number,
): Promise<string | undefined> {
  const [row] = await sql<{ server_id: string }[]>`
    SELECT s.server_id FROM announcements a
    JOIN sessions s ON s.id = a.session_id JOIN servers v ON v.id = s.server_id
    WHERE a.id = ${id} AND s.online AND s.last_seen >= ${cutoff} AND v.last_seen >= ${cutoff}`;
  return row?.server_id;
}

/**
 * Sends `payload` to the server process `serverId` (NOTIFY on its channel). Delivery is at most
 * once and only to a server listening now; the payload is text the receiver must validate like
 * any request (at most {@linkcode MAX_NOTIFY_BYTES} UTF-8 bytes, else BAD_MESSAGE).
 */
export async function notify(sql: Sql, serverId: string, payload: string): Promise<void> {
  if (new TextEncoder().encode(payload).length > MAX_NOTIFY_BYTES) {
    throw new SfsError("BAD_MESSAGE", `Server message longer than ${MAX_NOTIFY_BYTES} bytes`);
  }
  await sql`SELECT pg_notify(${channelOf(serverId)}, ${payload})`;
}

/**
 * LISTENs on server `serverId`'s channel; resolves to the function that stops listening, once
 * the LISTEN is active. The driver re-listens after a lost connection (messages sent meanwhile
 * are lost: senders must time out and retry).
 */
export async function listen(
  sql: Sql,
  serverId: string,
  onMessage: (payload: string) => void,
): Promise<() => Promise<void>> {
  const { unlisten } = await sql.listen(channelOf(serverId), onMessage);
  return unlisten;
}

/** The NOTIFY channel of a server: a fixed prefix and the id's letters, digits and dashes. */
function channelOf(serverId: string): string {
  if (!/^[0-9a-zA-Z-]{1,40}$/.test(serverId)) {
    throw new SfsError("BAD_MESSAGE", "Invalid server id");
  }
  return NOTIFY_CHANNEL_PREFIX + serverId.toLowerCase();
}
