/**
 * Connecting to the index's PostgreSQL database through the `postgres` driver (porsager's
 * postgres.js; README "Running several index servers" says why this one): the URL, where the
 * password comes from, the column types, and the migrations under an advisory lock.
 *
 * The password is taken from the URL, else `PGPASSWORD`, else the libpq password file
 * (`PGPASSFILE` or `~/.pgpass`, ignored when others can read it, as libpq does). It is never put
 * in a log line or an error message: {@linkcode redactUrl} is what may be shown.
 */
import postgres from "postgres";
import { join } from "node:path";
import { SfsError } from "../../../errors.ts";
import { PG_MIGRATIONS, PG_SCHEMA_VERSION } from "./schema.ts";

/** The driver's connection pool. */
export type Sql = postgres.Sql;
/** A transaction of the pool: runs tagged queries like it. */
export type TxSql = postgres.TransactionSql;

/** Options of {@linkcode connectPg}. */
export interface ConnectOptions {
  /** Connections in the pool. @default {10} */
  maxConnections?: number;
  /** Environment to read PGPASSWORD, PGPASSFILE and HOME from. @default {Deno.env} */
  env?: (name: string) => string | undefined;
}

/** Whether `location` names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(location);
}

/** `url` with its password replaced by `***`, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://…";
  }
}

/**
 * Opens a pool on `url` and applies the missing migrations. Throws SfsError USAGE for a URL
 * without a user or database, VERSION_MISMATCH for a database made by a newer sfs, IO when the
 * database cannot be reached.
 */
export async function connectPg(url: string, options: ConnectOptions = {}): Promise<Sql> {
  const env = options.env ?? ((name) => Deno.env.get(name));
  const parsed = parseUrl(url);
  const pass = parsed.password !== "" ? undefined : env("PGPASSWORD") ??
    await fromPassFile(parsed, env);
  const sql = postgres(url, {
    max: options.maxConnections ?? 10,
    ...(pass === undefined ? {} : { pass }),
    // bigint columns hold ms timestamps, ids and counts, all far below 2^53.
    types: {
      bigint: {
        to: 20,
        from: [20],
        parse: (value: string) => Number(value),
        serialize: (value: number) => String(value),
      },
    },
    // Notices (e.g. "relation already exists") are not the operator's concern.
    onnotice: () => {},
    connection: { application_name: "sfs-server" },
  });
  try {
    await migrate(sql);
    return sql;
  } catch (err) {
    await sql.end({ timeout: 1 }).catch(() => {});
    if (err instanceof SfsError) throw err;
    throw pgError(err, `Cannot open index database ${redactUrl(url)}`);
  }
}

/** Turns a driver or database failure into SfsError IO, keeping the cause for --debug. */
export function pgError(err: unknown, context = "Index database error"): SfsError {
  if (err instanceof SfsError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new SfsError("IO", `${context}: ${detail}`, { cause: err });
}

// An arbitrary constant: the advisory lock every sfs server takes to migrate.
const MIGRATION_LOCK = 0x5f5_1d3e;

/**
 * Applies the missing migrations in one transaction, holding an advisory lock so that servers
 * starting together migrate once: the first takes the lock and migrates, the others wait for
 * it, then find the version current and apply nothing. DDL is transactional in PostgreSQL, so a
 * crash mid-upgrade leaves the previous version intact.
 */
async function migrate(sql: Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx`CREATE TABLE IF NOT EXISTS sfs_schema (version integer NOT NULL)`;
    const rows = await tx<{ version: number }[]>`SELECT version FROM sfs_schema`;
    const current = rows[0]?.version ?? 0;
    if (current > PG_SCHEMA_VERSION) {
      throw new SfsError(
        "VERSION_MISMATCH",
        `Index database has schema version ${current}; this sfs knows up to ${PG_SCHEMA_VERSION}`,
        { hint: "Upgrade sfs to open this database" },
      );
    }
    if (current === PG_SCHEMA_VERSION) return;
    for (let v = current; v < PG_SCHEMA_VERSION; v++) await tx.unsafe(PG_MIGRATIONS[v]);
    if (rows.length === 0) await tx`INSERT INTO sfs_schema (version) VALUES (${PG_SCHEMA_VERSION})`;
    else await tx`UPDATE sfs_schema SET version = ${PG_SCHEMA_VERSION}`;
  });
}

interface UrlParts {
  host: string;
  port: string;
  database: string;
  user: string;
  password: string;
}

function parseUrl(url: string): UrlParts {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SfsError("USAGE", "The database URL is not a valid postgres:// URL", {
      hint: "Use postgres://USER@HOST:PORT/DATABASE",
    });
  }
  const parts = {
    host: decodeURIComponent(parsed.hostname).replace(/^\[|\]$/g, ""),
    port: parsed.port || "5432",
    database: decodeURIComponent(parsed.pathname.slice(1)),
    user: decodeURIComponent(parsed.username),
    password: parsed.password,
  };
  if (parts.user === "" || parts.database === "" || parts.host === "") {
    throw new SfsError("USAGE", "The database URL needs a user, a host and a database", {
      hint: "Use postgres://USER@HOST:PORT/DATABASE",
    });
  }
  return parts;
}

/**
 * The password for `parts` from the libpq password file: lines `host:port:database:user:password`
 * where `*` matches anything and `\` escapes `:` and `\`; the first matching line wins.
 */
async function fromPassFile(
  parts: UrlParts,
  env: (name: string) => string | undefined,
): Promise<string | undefined> {
  const home = env("HOME");
  const path = env("PGPASSFILE") ?? (home === undefined ? undefined : join(home, ".pgpass"));
  if (path === undefined) return undefined;
  let text: string;
  try {
    const info = await Deno.stat(path);
    // libpq ignores a password file that others may read; so do we.
    if (Deno.build.os !== "windows" && info.mode !== null && (info.mode & 0o077) !== 0) {
      return undefined;
    }
    text = await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
  return passFileLookup(text, parts);
}

/** The password of the first line of a `.pgpass` text that matches `parts`. */
export function passFileLookup(
  text: string,
  parts: Omit<UrlParts, "password">,
): string | undefined {
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const fields: string[] = [];
    let field = "";
    for (let i = 0; i < line.length; i++) {
      if (line[i] === "\\" && i + 1 < line.length) field += line[++i];
      else if (line[i] === ":" && fields.length < 4) {
        fields.push(field);
        field = "";
      } else field += line[i];
    }
    fields.push(field);
    if (fields.length !== 5) continue;
    const [host, port, database, user, password] = fields;
    const matches = (pattern: string, value: string) => pattern === "*" || pattern === value;
    if (
      (matches(host, parts.host) ||
        (host === "localhost" && ["127.0.0.1", "::1"].includes(parts.host))) &&
      matches(port, parts.port) && matches(database, parts.database) &&
      matches(user, parts.user)
    ) {
      return password;
    }
  }
  return undefined;
}
