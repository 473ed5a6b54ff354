/**
 * The listing queries in PostgreSQL, with the rules of ../store_queries.ts: visibility decided in
 * SQL (a hidden listing and a missing one look the same), newest first (search: best match first
 * among the newest matches), owner identities from a cache by fingerprint.
 *
 * Presence is computed when read: a session counts as online only while its last heartbeat is
 * younger than the presence timeout, so a server that died (SIGKILL, power loss) cannot leave
 * its peers shown online to the other servers for longer than that, even before a sweep marks
 * them offline.
 */
import { SfsError } from "../../../errors.ts";
import { DEFAULT_PAGE_SIZE } from "../../protocol/limits.ts";
import { IdentityCache } from "../identity_cache.ts";
import { type ListingRecord, type ListOptions, page, type PageOptions } from "../store_queries.ts";
import type { Sql } from "./connect.ts";
import { SEARCH_RANK_WINDOW } from "../statements.ts";
import { toTsQuery } from "./fts.ts";

interface RecordRow {
  id: string;
  announcement: Uint8Array;
  signature: Uint8Array;
  owner_id: number;
  owner_fingerprint: string;
  online: boolean;
  last_seen: number;
}

/** What a search's rank window held: matches, those the viewer sees, the oldest seq. */
interface WindowStats {
  matched: number;
  visible: number;
  oldest: number;
}

/** The listing queries over one pool. */
export class PgQueries {
  readonly #sql: Sql;
  readonly #identities = new IdentityCache();
  readonly #onlineSince: () => number;

  /** `onlineSince()` is the oldest heartbeat time that still counts as online. */
  constructor(sql: Sql, onlineSince: () => number) {
    this.#sql = sql;
    this.#onlineSince = onlineSince;
  }

  /**
   * Full-text search (pg/fts.ts), limited to what the viewer may see, in SQLite's order
   * (../store_queries.ts): the newest {@linkcode SEARCH_RANK_WINDOW} matches best match first
   * (`ts_rank` divided by the count of distinct words, normalization 8; equal scores newest
   * first), then older matches newest first. docs/PROTOCOL.md §12.4 says where `ts_rank` and
   * bm25 order differently.
   */
  async search(terms: string, options: PageOptions = {}): Promise<ListingRecord[]> {
    const { limit, offset } = page(options);
    const query = toTsQuery(terms);
    if (query === undefined) return [];
    const sql = this.#sql;
    const visible = this.#visible(options.viewer);
    // The window holds the newest matches, visible or not, as in SQLite: which rows get ranked
    // never depends on who asks. ts_rank runs on the window's rows only, after its LIMIT, and
    // the wide record columns are read for the page's rows alone. Each row also says how many
    // matches the window holds, how many of them the viewer sees, and the oldest. `seq + 0`
    // keeps the planner off the primary key for the window: the driver's prepared statement
    // soon runs a generic plan, which cannot tell a rare term from a common one and would walk
    // the whole table down the key for a term in a handful of listings (100 ms at 100,000
    // listings, against 3 ms through the GIN index for a term in 2 % of them).
    const window = sql`
      q AS (SELECT ${query}::tsquery AS q),
      newest AS (
        SELECT a.seq, a.search FROM announcements a, q WHERE a.search @@ q.q
        ORDER BY a.seq + 0 DESC LIMIT ${SEARCH_RANK_WINDOW}
      ),
      win AS (SELECT n.seq, ts_rank(n.search, q.q, 8) AS score FROM newest n, q),
      hit AS (
        SELECT win.seq, win.score FROM win JOIN announcements a ON a.seq = win.seq
        WHERE ${visible}
      ),
      stats AS (
        SELECT (SELECT count(*) FROM win) AS matched, (SELECT count(*) FROM hit) AS visible,
          (SELECT min(seq) FROM win) AS oldest
      )`;
    const ranked = await sql<(RecordRow & WindowStats)[]>`
      WITH ${window}
      SELECT ${this.#columns()}, stats.* FROM hit JOIN announcements a ON a.seq = hit.seq
        ${this.#joins()}, stats
      ORDER BY hit.score DESC, hit.seq DESC LIMIT ${limit} OFFSET ${offset}`;
    // A full page, or a window that held every match: nothing older to add.
    if (ranked.length === limit) return await this.#records(Promise.resolve(ranked));
    const [stats] = ranked.length > 0
      ? ranked
      : await sql<WindowStats[]>`WITH ${window} SELECT * FROM stats`;
    if (stats === undefined || stats.matched < SEARCH_RANK_WINDOW) {
      return await this.#records(Promise.resolve(ranked));
    }
    // The page continues past the window's visible rows into the older matches, read with a
    // known bound, so the planner can walk the primary key down from it.
    const older = await sql<RecordRow[]>`
      SELECT ${this.#columns()} FROM announcements a ${this.#joins()}
      WHERE a.search @@ ${query}::tsquery AND a.seq < ${stats.oldest} AND ${visible}
      ORDER BY a.seq DESC
      LIMIT ${limit - ranked.length} OFFSET ${Math.max(0, offset - stats.visible)}`;
    return await this.#records(Promise.resolve([...ranked, ...older]));
  }

  /** Visible announcements, newest first; with `mine`, only the viewer's own. */
  async list(options: ListOptions = {}): Promise<ListingRecord[]> {
    const { limit, offset } = page(options);
    if (options.mine && options.viewer === undefined) return [];
    const sql = this.#sql;
    const where = options.mine
      ? sql`a.owner_id = ${options.viewer!}`
      : this.#visible(options.viewer);
    return await this.#records(sql<RecordRow[]>`
      SELECT ${this.#columns()} FROM announcements a ${this.#joins()}
      WHERE ${where}
      ORDER BY a.seq DESC LIMIT ${limit} OFFSET ${offset}`);
  }

  /** The announcement `id` if the viewer may see it. */
  async get(id: string, viewer?: number): Promise<ListingRecord | undefined> {
    const sql = this.#sql;
    const [record] = await this.#records(sql<RecordRow[]>`
      SELECT ${this.#columns()} FROM announcements a ${this.#joins()}
      WHERE a.id = ${id} AND ${this.#visible(viewer)}`);
    return record;
  }

  /** Visible announcements named exactly `name` ignoring case, online and newest first. */
  async findByName(name: string, viewer?: number): Promise<ListingRecord[]> {
    const nameKey = name.normalize("NFC").toLowerCase();
    const sql = this.#sql;
    return await this.#records(sql<RecordRow[]>`
      SELECT ${this.#columns()} FROM announcements a ${this.#joins()}
      WHERE a.name_key = ${nameKey} AND ${this.#visible(viewer)}
      ORDER BY online DESC, a.seq DESC LIMIT ${DEFAULT_PAGE_SIZE}`);
  }

  // The identity is left out: it comes from the cache by fingerprint (see #records).
  #columns() {
    const sql = this.#sql;
    return sql`
      a.id, a.announcement, a.signature, a.owner_id, u.fingerprint AS owner_fingerprint,
      (s.online AND s.last_seen >= ${this.#onlineSince()}) AS online, s.last_seen`;
  }

  #joins() {
    const sql = this.#sql;
    return sql`JOIN users u ON u.id = a.owner_id JOIN sessions s ON s.id = a.session_id`;
  }

  /** Public, the viewer's own, or addressed to the viewer; an anonymous viewer sees public only. */
  #visible(viewer: number | undefined) {
    const sql = this.#sql;
    if (viewer === undefined) return sql`a.public`;
    return sql`(a.public OR a.owner_id = ${viewer} OR EXISTS (
      SELECT 1 FROM recipients r
      WHERE r.seq = a.seq AND r.username_key = (SELECT username_key FROM users WHERE id = ${viewer})
    ))`;
  }

  /**
   * Rows to records. Identities missing from the cache are read in one query, identity and
   * fingerprint together, so a record never pairs an identity with another one's fingerprint
   * (another server may change keys in between).
   */
  async #records(query: Promise<RecordRow[]>): Promise<ListingRecord[]> {
    const rows = await query;
    const missing = [
      ...new Set(
        rows.filter((r) => this.#identities.get(r.owner_fingerprint) === undefined)
          .map((r) => r.owner_id),
      ),
    ];
    const fresh = new Map<number, { fingerprint: string; identity: Uint8Array }>();
    if (missing.length > 0) {
      const sql = this.#sql;
      const users = await sql<{ id: number; fingerprint: string; identity: Uint8Array }[]>`
        SELECT id, fingerprint, identity FROM users WHERE id = ANY(${missing}::bigint[])`;
      for (const user of users) {
        fresh.set(user.id, user);
        this.#identities.set(user.fingerprint, copy(user.identity));
      }
    }
    return rows.map((row) => {
      let fingerprint = row.owner_fingerprint;
      let identity = this.#identities.get(fingerprint);
      if (identity === undefined) {
        const user = fresh.get(row.owner_id);
        if (user === undefined) throw new SfsError("INTERNAL", "Listing without an owner");
        fingerprint = user.fingerprint;
        identity = this.#identities.get(fingerprint) ?? copy(user.identity);
      }
      return {
        id: row.id,
        ownerFingerprint: fingerprint,
        ownerIdentity: identity,
        online: row.online,
        lastSeen: row.last_seen,
        announcement: copy(row.announcement),
        signature: copy(row.signature),
      };
    });
  }
}

/**
 * The driver's bytea values are Node Buffers, often views into a shared pool: copied into
 * arrays of their own, the `Bytes` the encoders and WebCrypto take.
 */
export function copy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}
