/**
 * The PostgreSQL database of an index benchmark run (`--pg URL`): a fresh database copied from
 * a pre-filled template, and the CPU time of the cluster's processes.
 *
 * Pre-filling 100,000 listings through PgStore takes minutes, so it is done once per corpus
 * (seed, users, listings) and schema version into a template database, `sfs_bench_…`, which
 * stays on the cluster; each run then gets its own copy (`CREATE DATABASE … TEMPLATE`, a file
 * copy) and drops it at the end. A template is renamed to its final name only once it is
 * complete, so an interrupted pre-fill is never used.
 *
 * Database CPU is read from /proc: the postmaster's own time and that of the children it reaped
 * (cutime, cstime), plus the user and system time of every live child (the backends serving the
 * server's pool, the WAL writer, the checkpointer). The cluster must be the bench's own (as
 * scripts/pg_cluster.sh makes one), or other work on it is counted too.
 *
 * @module
 */

import postgres from "postgres";
import { PgStore } from "../../../src/index/server/pg/store.ts";
import { PG_SCHEMA_VERSION } from "../../../src/index/server/pg/schema.ts";
import { readProc } from "../proc.ts";
import type { IndexConfig } from "./config.ts";
import type { Corpus } from "./corpus.ts";
import { fillStore } from "./prefill.ts";

/** A database for one run, on the cluster `--pg` names. */
export interface PgRunDatabase {
  /** URL of the run's database, for `sfs server --db`. */
  url: string;
  /** PostgreSQL's version, e.g. "15.14". */
  version: string;
  /** Seconds spent pre-filling the template now (0 when it existed). */
  prefillSeconds: number;
  /** Size of the run's database in bytes. */
  dbBytes: number;
  /** CPU seconds (user + system) of the cluster's processes so far; NaN when unknown. */
  cpuSeconds(): Promise<number>;
  /** Drops the run's database (the template stays). */
  drop(): Promise<void>;
}

/** Options of {@link pgRunDatabase}. */
export interface PgRunOptions {
  log: (line: string) => void;
}

/** Copies (pre-filling first when needed) the template of `config`'s corpus for one run. */
export async function pgRunDatabase(
  adminUrl: string,
  config: IndexConfig,
  corpus: Corpus,
  options: PgRunOptions,
): Promise<PgRunDatabase> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const template =
      `sfs_bench_m${PG_SCHEMA_VERSION}_s${config.seed}_u${config.users}_n${config.listings}`;
    const started = performance.now();
    if (!await exists(admin, template)) {
      options.log(`pre-filling PostgreSQL template ${template} (once per corpus)…`);
      await buildTemplate(admin, adminUrl, template, config, corpus);
    }
    const prefillSeconds = (performance.now() - started) / 1000;
    const name = `sfs_bench_run_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${template}`);
    const [{ size }] = await admin<{ size: number }[]>`SELECT pg_database_size(${name}) AS size`;
    const [{ server_version: version }] = await admin<{ server_version: string }[]>`
      SHOW server_version`;
    const [{ data_directory: dataDir }] = await admin<{ data_directory: string }[]>`
      SHOW data_directory`;
    const postmaster = await postmasterPid(dataDir);
    return {
      url: withDatabase(adminUrl, name),
      version: version.split(" ")[0],
      prefillSeconds,
      dbBytes: Number(size),
      cpuSeconds: () => clusterCpuSeconds(postmaster),
      drop: async () => {
        const again = postgres(adminUrl, { max: 1, onnotice: () => {} });
        try {
          await again.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        } finally {
          await again.end();
        }
      },
    };
  } finally {
    await admin.end();
  }
}

async function exists(admin: postgres.Sql, name: string): Promise<boolean> {
  const rows = await admin`SELECT 1 FROM pg_database WHERE datname = ${name}`;
  return rows.length > 0;
}

/** Pre-fills a new database through PgStore, then gives it the template's name. */
async function buildTemplate(
  admin: postgres.Sql,
  adminUrl: string,
  template: string,
  config: IndexConfig,
  corpus: Corpus,
): Promise<void> {
  const building = `${template}_building`;
  await admin.unsafe(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE ${building}`);
  const store = await PgStore.connect(withDatabase(adminUrl, building), { serverBeatMs: 0 });
  try {
    await fillStore(store, config, corpus);
  } finally {
    await store.close();
  }
  // Statistics and a visibility map, as a long-running index would have them: the copies
  // inherit both, so the planner knows from the first query how rare a search term is.
  const filled = postgres(withDatabase(adminUrl, building), { max: 1, onnotice: () => {} });
  try {
    await filled.unsafe("VACUUM ANALYZE");
  } finally {
    await filled.end();
  }
  await admin.unsafe(`ALTER DATABASE ${building} RENAME TO ${template}`);
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** The postmaster's pid: the first line of `postmaster.pid` in the data directory. */
async function postmasterPid(dataDir: string): Promise<number | undefined> {
  try {
    const text = await Deno.readTextFile(`${dataDir}/postmaster.pid`);
    const pid = Number(text.split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The cluster's CPU seconds: see the module docs. */
async function clusterCpuSeconds(postmaster: number | undefined): Promise<number> {
  if (postmaster === undefined) return NaN;
  const own = statTicks(await readProc(`/proc/${postmaster}/stat`), true);
  const children = (await readProc(`/proc/${postmaster}/task/${postmaster}/children`))
    .trim().split(/\s+/).filter(Boolean);
  const theirs = await Promise.all(
    children.map(async (pid) => statTicks(await readProc(`/proc/${pid}/stat`), false)),
  );
  // A child that exited between the two reads counts as 0 here and in cutime a moment later.
  return (own + theirs.reduce((a, b) => a + (Number.isNaN(b) ? 0 : b), 0)) / 100;
}

/** utime + stime (and, with `reaped`, cutime + cstime) of a /proc stat line, in ticks. */
function statTicks(stat: string, reaped: boolean): number {
  if (stat === "") return NaN;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  return fields[11] + fields[12] + (reaped ? fields[13] + fields[14] : 0);
}
