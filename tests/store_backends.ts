/**
 * The two index store backends for tests: SQLite in a temp folder, and PostgreSQL in a fresh
 * database on the cluster `SFS_TEST_PG_URL` names (scripts/pg_cluster.sh starts one; .ci/run
 * does so before the tests). Without that variable the PostgreSQL cases are skipped, and the
 * reason is printed once.
 */
import postgres from "postgres";
import type { IndexStore } from "../src/index/server/store.ts";
import { SqliteStore } from "../src/index/server/store_sqlite.ts";
import { PgStore } from "../src/index/server/pg/store.ts";

/** The admin URL of the test cluster, if one runs. */
export const PG_URL: string | undefined = Deno.env.get("SFS_TEST_PG_URL") || undefined;

let skipNoted = false;
/** True when PostgreSQL tests must skip; prints why, once per test file. */
export function pgMissing(): boolean {
  if (PG_URL !== undefined) return false;
  if (!skipNoted) {
    skipNoted = true;
    console.log(
      "note: skipping PostgreSQL tests: SFS_TEST_PG_URL is not set (start a cluster with " +
        "scripts/pg_cluster.sh start)",
    );
  }
  return true;
}

/** A fresh, empty database on the test cluster, dropped (connections and all) on dispose. */
export async function freshDatabase(): Promise<{ url: string } & AsyncDisposable> {
  if (PG_URL === undefined) throw new Error("SFS_TEST_PG_URL is not set");
  const name = `sfs_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    [Symbol.asyncDispose]: async () => {
      const admin = postgres(PG_URL!, { max: 1, onnotice: () => {} });
      try {
        await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** Options both backends take. */
export interface BackendOptions {
  now?: () => number;
  failedLoginRetentionMs?: number;
  /** PostgreSQL only: how long a session counts as online without a heartbeat. */
  presenceTimeoutMs?: number;
}

/** One place a store lives: open it (again), check it, remove it. */
export interface StoreLocation extends AsyncDisposable {
  /** Opens a store on this location (the same data each time). */
  open(options?: BackendOptions): Promise<IndexStore>;
  /** The backend's own consistency check, "ok" when all is well. */
  integrityCheck(store: IndexStore): Promise<string>;
}

/** A store backend the tests run against. */
export interface Backend {
  readonly name: "sqlite" | "postgres";
  /** Skip this backend's cases (prints the reason). */
  readonly ignore: () => boolean;
  /** A new, empty location. */
  create(): Promise<StoreLocation>;
}

/** SQLite in a temp folder. */
export const SQLITE: Backend = {
  name: "sqlite",
  ignore: () => false,
  async create() {
    const dir = await Deno.makeTempDir({ prefix: "sfs-store-test-" });
    const path = `${dir}/index.db`;
    return {
      open: (options = {}) => Promise.resolve(SqliteStore.open(path, options)),
      integrityCheck: (store) => (store as SqliteStore).integrityCheck(),
      [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
    };
  },
};

/** PostgreSQL in a fresh database of the test cluster. */
export const POSTGRES: Backend = {
  name: "postgres",
  ignore: pgMissing,
  async create() {
    const db = await freshDatabase();
    return {
      // No liveness timer: tests drive the clock by hand.
      open: (options = {}) => PgStore.connect(db.url, { serverBeatMs: 0, ...options }),
      // PostgreSQL keeps its own indexes consistent; there is nothing like FTS5's check.
      integrityCheck: () => Promise.resolve("ok"),
      [Symbol.asyncDispose]: () => db[Symbol.asyncDispose](),
    };
  },
};

/** Both backends, SQLite first. */
export const BACKENDS: readonly Backend[] = [SQLITE, POSTGRES];

/** Registers `fn` once per backend, named `name [backend]`. */
export function storeTest(
  name: string,
  fn: (backend: Backend, t: Deno.TestContext) => Promise<void>,
): void {
  for (const backend of BACKENDS) {
    Deno.test({
      name: `${name} [${backend.name}]`,
      ignore: backend.ignore(),
      fn: (t) => fn(backend, t),
    });
  }
}
