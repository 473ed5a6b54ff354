/**
 * The store's one query API: the visible listings SEARCH, LIST and RESOLVE answer with, as the
 * records a LISTINGS reply carries (signed bytes, owner identity, presence). Visibility is decided
 * in SQL, so a hidden listing and a missing one look the same.
 */
import type { Bytes } from "../../crypto/bytes.ts";
import { SfsError } from "../../errors.ts";
import { DEFAULT_PAGE_SIZE, MAX_LIST_OFFSET, MAX_LISTINGS } from "../protocol/limits.ts";
import { toFtsQuery } from "./fts_query.ts";
import { IdentityCache } from "./identity_cache.ts";
import type { SQLOutputValue, StatementSync } from "node:sqlite";
import { blob, int, type SqlRunner, text } from "./sql.ts";
import { RecordColumn as C, SEARCH_RANK_WINDOW, type Statements } from "./statements.ts";

/**
 * What a LISTINGS reply carries of one visible announcement: the signed bytes, the owner's
 * identity to check them with, and presence.
 */
export interface ListingRecord {
  /** File id (hex). */
  id: string;
  /** Owner's identity fingerprint. */
  ownerFingerprint: string;
  /**
   * Owner's canonical public identity bytes, to verify `signature`. One array is shared by every
   * record of the same identity: read it, never modify it.
   */
  ownerIdentity: Bytes;
  /** Whether the session serving the file is online. */
  online: boolean;
  /** Last time the serving session was heard from (ms since the epoch). */
  lastSeen: number;
  /** The signed announcement bytes. */
  announcement: Bytes;
  /** Signature set over `announcement` (§5 layout). */
  signature: Bytes;
}

/** Who is asking and which page; an absent viewer sees public files only. */
export interface PageOptions {
  /** Viewer's user id (the server knows it after login); undefined for anonymous. */
  viewer?: number;
  /** Rows per page, 1 to {@linkcode MAX_LISTINGS}. @default {50} */
  limit?: number;
  /** Rows to skip, 0 to {@linkcode MAX_LIST_OFFSET}. @default {0} */
  offset?: number;
}

/** Options of {@linkcode ListingQueries.list}. */
export interface ListOptions extends PageOptions {
  /** Only the viewer's own announcements (none for an anonymous viewer). @default {false} */
  mine?: boolean;
}

/** The listing queries over one connection's statements. */
export class ListingQueries {
  readonly #sql: Statements;
  readonly #runner: SqlRunner;
  readonly #identities = new IdentityCache();

  constructor(sql: Statements, runner: SqlRunner) {
    this.#sql = sql;
    this.#runner = runner;
  }

  /**
   * Full-text search over names and keywords (see {@linkcode toFtsQuery}), limited to what the
   * viewer may see: the newest {@linkcode SEARCH_RANK_WINDOW} matches best match first (bm25;
   * equal scores newest first), then older matches newest first. Never throws for odd query
   * text: a query without letters or digits has no results.
   */
  search(terms: string, options: PageOptions = {}): ListingRecord[] {
    const { limit, offset } = page(options);
    const query = toFtsQuery(terms);
    if (query === undefined) return [];
    const viewer = options.viewer ?? null;
    const sql = this.#sql.queries;
    return this.#runner.guard(() => {
      const ranked = rowsOf(sql.search, { query, viewer, limit, offset });
      // A full page, or a window that held every match: nothing older to add.
      if (ranked.length === limit) return this.#toRecords(ranked);
      if (ranked.length > 0 && int(ranked[0][C.MATCHED]) < SEARCH_RANK_WINDOW) {
        return this.#toRecords(ranked);
      }
      const window = sql.searchWindow.get({ query, viewer });
      if (window === undefined || int(window.matched) < SEARCH_RANK_WINDOW) {
        return this.#toRecords(ranked);
      }
      // The page continues past the window's visible rows into the older matches.
      const older = rowsOf(sql.searchOlder, {
        query,
        viewer,
        before: int(window.oldest),
        limit: limit - ranked.length,
        offset: Math.max(0, offset - int(window.visible)),
      });
      return this.#toRecords([...ranked, ...older]);
    });
  }

  /** Visible announcements, newest first; with `mine`, only the viewer's own. */
  list(options: ListOptions = {}): ListingRecord[] {
    const { limit, offset } = page(options);
    const viewer = options.viewer ?? null;
    if (options.mine && viewer === null) return [];
    const statement = options.mine ? this.#sql.queries.listMine : this.#sql.queries.listVisible;
    return this.#records(statement, { viewer, limit, offset });
  }

  /** The announcement `id` if the viewer may see it; hidden and missing look the same. */
  get(id: string, viewer?: number): ListingRecord | undefined {
    return this.#records(this.#sql.queries.byId, { id, viewer: viewer ?? null })[0];
  }

  /** Visible announcements named exactly `name` ignoring case, online and newest first. */
  findByName(name: string, viewer?: number): ListingRecord[] {
    const nameKey = name.normalize("NFC").toLowerCase();
    return this.#records(this.#sql.queries.byName, {
      nameKey,
      viewer: viewer ?? null,
      limit: DEFAULT_PAGE_SIZE,
    });
  }

  /** Runs one of the record queries into records. */
  #records(statement: StatementSync, params: Record<string, string | number | null>) {
    return this.#runner.guard(() => this.#toRecords(rowsOf(statement, params)));
  }

  #toRecords(rows: SQLOutputValue[][]): ListingRecord[] {
    const records = new Array<ListingRecord>(rows.length);
    for (let i = 0; i < rows.length; i++) records[i] = this.#toRecord(rows[i]);
    return records;
  }

  /**
   * A row to a {@linkcode ListingRecord}. The row names the owner's fingerprint; the identity
   * comes from the cache, or from the users table when it still has that fingerprint.
   */
  #toRecord(row: SQLOutputValue[]): ListingRecord {
    let fingerprint = text(row[C.OWNER_FINGERPRINT]);
    let identity = this.#identities.get(fingerprint);
    if (identity === undefined) {
      const user = this.#sql.userIdentity.get(int(row[C.OWNER_ID]));
      if (user === undefined) throw new SfsError("INTERNAL", "Listing without an owner");
      // Identity and fingerprint are read together, so the record and the cache never pair an
      // identity with another one's fingerprint (another process may change keys in between).
      identity = blob(user.identity);
      fingerprint = text(user.fingerprint);
      this.#identities.set(fingerprint, identity);
    }
    return {
      id: text(row[C.ID]),
      ownerFingerprint: fingerprint,
      ownerIdentity: identity,
      online: int(row[C.ONLINE]) === 1,
      lastSeen: int(row[C.LAST_SEEN]),
      announcement: blob(row[C.ANNOUNCEMENT]),
      signature: blob(row[C.SIGNATURE]),
    };
  }
}

/** The rows of a record query (they return arrays, see RecordColumn). */
function rowsOf(
  statement: StatementSync,
  params: Record<string, string | number | null>,
): SQLOutputValue[][] {
  return statement.all(params) as unknown as SQLOutputValue[][];
}

/** The page a request asks for; SfsError BAD_MESSAGE for one out of bounds. */
export function page(options: PageOptions): { limit: number; offset: number } {
  const limit = options.limit ?? DEFAULT_PAGE_SIZE;
  const offset = options.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LISTINGS) {
    throw new SfsError("BAD_MESSAGE", `Page size must be 1 to ${MAX_LISTINGS}`);
  }
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_LIST_OFFSET) {
    throw new SfsError("BAD_MESSAGE", `Offset must be 0 to ${MAX_LIST_OFFSET}`);
  }
  return { limit, offset };
}
