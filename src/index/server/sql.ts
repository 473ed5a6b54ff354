/**
 * What every part of the store shares over one `node:sqlite` connection: typed column readers,
 * and running a statement or a write transaction with SQLite's failures turned into SfsError.
 */
import type { DatabaseSync, SQLOutputValue, StatementSync } from "node:sqlite";
import type { Bytes } from "../../crypto/bytes.ts";
import { SfsError } from "../../errors.ts";

/** One result row. */
export type Row = Record<string, SQLOutputValue>;

/** Runs statements on one connection; see {@link SqlRunner.transaction}. */
export class SqlRunner {
  readonly #begin: StatementSync;
  readonly #commit: StatementSync;
  readonly #rollback: StatementSync;
  #inTransaction = false;

  constructor(db: DatabaseSync) {
    this.#begin = db.prepare("BEGIN IMMEDIATE");
    this.#commit = db.prepare("COMMIT");
    this.#rollback = db.prepare("ROLLBACK");
  }

  /** Runs `fn` in a write transaction; BEGIN IMMEDIATE takes the write lock up front. */
  transaction<T>(fn: () => T): T {
    if (this.#inTransaction) throw new SfsError("INTERNAL", "Nested index transaction");
    return this.guard(() => {
      this.#begin.run();
      this.#inTransaction = true;
      try {
        const result = fn();
        this.#commit.run();
        return result;
      } catch (err) {
        try {
          this.#rollback.run();
        } catch {
          // SQLite already rolled back (e.g. after SQLITE_FULL); the first error is the one to
          // report.
        }
        throw err;
      } finally {
        this.#inTransaction = false;
      }
    });
  }

  /** Runs `fn`, turning SQLite failures (disk full, busy, corruption) into SfsError IO. */
  guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof SfsError) throw err;
      const detail = err instanceof Error ? err.message : String(err);
      throw new SfsError("IO", `Index database error: ${detail}`, { cause: err });
    }
  }
}

// Column readers: STRICT tables guarantee the types, so a mismatch means a schema bug.

/** An INTEGER column. */
export function int(value: unknown): number {
  if (typeof value === "number") return value;
  throw new SfsError("INTERNAL", "Index column is not an integer");
}

/** A TEXT column. */
export function text(value: unknown): string {
  if (typeof value === "string") return value;
  throw new SfsError("INTERNAL", "Index column is not text");
}

/** A BLOB column. */
export function blob(value: unknown): Bytes {
  // node:sqlite copies each BLOB into a fresh, non-shared ArrayBuffer.
  if (value instanceof Uint8Array && value.buffer instanceof ArrayBuffer) return value as Bytes;
  throw new SfsError("INTERNAL", "Index column is not a blob");
}
