/**
 * Opening the index database: file permissions, connection pragmas, WAL, migrations. The schema
 * itself is in schema.ts.
 */
import { DatabaseSync } from "node:sqlite";
import { SfsError } from "../../errors.ts";
import { CONNECTION_PRAGMAS, MIGRATIONS } from "./schema.ts";
import { int } from "./sql.ts";

/** Schema version this code creates and expects (`PRAGMA user_version`). */
export const SCHEMA_VERSION: number = MIGRATIONS.length;

/**
 * Opens (creating if needed) the database at `path`, sets the connection pragmas and applies
 * missing migrations. Throws SfsError VERSION_MISMATCH for a database made by a newer sfs, IO
 * when it cannot be opened or cannot use WAL.
 */
export function openDatabase(path: string, busyTimeoutMs: number): DatabaseSync {
  let db: DatabaseSync;
  try {
    if (path !== ":memory:") keepPrivate(path);
    db = new DatabaseSync(path);
  } catch (err) {
    throw new SfsError("IO", `Cannot open index database "${path}"`, { cause: err });
  }
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`);
    for (const pragma of CONNECTION_PRAGMAS) db.exec(pragma);
    // journal_mode silently stays as it was where WAL is impossible (some network file
    // systems); refuse then rather than run with other durability and locking than designed.
    const mode = db.prepare("PRAGMA journal_mode").get()?.journal_mode;
    if (mode !== "wal" && path !== ":memory:") {
      throw new SfsError("IO", `Index database "${path}" cannot use WAL mode (got ${mode})`);
    }
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof SfsError) throw err;
    throw new SfsError("IO", `Cannot open index database "${path}"`, { cause: err });
  }
}

/**
 * Makes the database file owner-only before SQLite opens it: it holds password hashes. A new
 * file is created with mode 0600; SQLite gives the `-wal` and `-shm` files it creates the
 * database file's mode. Files an older sfs left readable by others are narrowed to 0600.
 */
function keepPrivate(path: string): void {
  try {
    Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 }).close();
  } catch {
    // Not ours to create (a read-only folder, say): SQLite reports the real problem.
    return;
  }
  if (Deno.build.os === "windows") return;
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      const mode = Deno.statSync(file).mode;
      if (mode !== null && (mode & 0o077) !== 0) Deno.chmodSync(file, mode & 0o700);
    } catch {
      // Not there (no WAL yet), or not ours to change.
    }
  }
}

/** Applies the missing migrations in one transaction. */
function migrate(db: DatabaseSync): void {
  const version = () => int(db.prepare("PRAGMA user_version").get()?.user_version ?? 0);
  if (version() === MIGRATIONS.length) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    // Read again under the write lock: another process may have migrated in the meantime.
    const current = version();
    if (current > MIGRATIONS.length) {
      throw new SfsError(
        "VERSION_MISMATCH",
        `Index database has schema version ${current}; this sfs knows up to ${MIGRATIONS.length}`,
        { hint: "Upgrade sfs to open this database" },
      );
    }
    for (let v = current; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]);
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
    db.exec("COMMIT");
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
}
