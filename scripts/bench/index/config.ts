/**
 * The index benchmark's command line (on the shared parser in ../config.ts) and issue 4's
 * targets, which also set the default paced search rate.
 *
 * @module
 */

import { numberOption, parseOptions, UsageError, wholeOption } from "../config.ts";

/** Printed after a usage error and for `--help`. */
export const USAGE =
  "Usage: deno task bench:index [--clients 64] [--listings 100000] [--seconds 10]\n" +
  "  [--users 16] [--load-workers 2] [--search-rates 3000,1000] [--announce-pool 20000] [--seed 1]\n" +
  "  [--phases search,paced,announce,mixed] [--json-out FILE] [--no-cache]\n" +
  "  [--server-cpu-prof DIR] [--server-flags FLAGS] [--server-log FILE] [--smoke]\n" +
  "  [--pg URL] [--backends sqlite,postgres]";
/** Targets of issue 4. */
export const TARGET = { searchesPerSecond: 3000, announcementsPerSecond: 1000, searchP99Ms: 25 };

/** Phase keys `--phases` accepts, in the order they run. */
export const PHASE_KEYS = ["search", "paced", "announce", "mixed"] as const;
/** One of {@link PHASE_KEYS}. */
export type PhaseKey = typeof PHASE_KEYS[number];

/** Everything a run of the index benchmark is told on its command line. */
export interface IndexConfig {
  clients: number;
  listings: number;
  seconds: number;
  warmupSeconds: number;
  users: number;
  loadWorkers: number;
  /** Paced search phases; the first is the target rate the p99 target is judged at. */
  searchRates: number[];
  announcePool: number;
  seed: number;
  jsonOut: string | undefined;
  cache: boolean;
  serverCpuProf: string | undefined;
  /** Extra `deno run` flags for the server (e.g. `--v8-flags=--trace-gc`), space-separated. */
  serverFlags: string[];
  /** File that receives the server's stdout and stderr. */
  serverLog: string | undefined;
  phases: PhaseKey[];
  smoke: boolean;
  /**
   * Admin URL of a PostgreSQL cluster of the bench's own (scripts/pg_cluster.sh prints one as
   * SFS_TEST_PG_URL, which is the default): the PostgreSQL rows run there.
   */
  pg: string | undefined;
  /** Stores to run the phases on, in order: SQLite, and PostgreSQL when `pg` is set. */
  backends: BenchBackend[];
}

/** A store the benchmark runs a server on. */
export type BenchBackend = "sqlite" | "postgres";

/** Parses the index benchmark's options; smoke runs default to tiny sizes. */
export function parseIndexConfig(args: string[]): IndexConfig {
  const values = parseOptions(args, {
    clients: { type: "string" },
    listings: { type: "string" },
    seconds: { type: "string" },
    users: { type: "string" },
    "load-workers": { type: "string" },
    "search-rates": { type: "string" },
    "announce-pool": { type: "string" },
    seed: { type: "string" },
    "json-out": { type: "string" },
    "no-cache": { type: "boolean", default: false },
    "server-cpu-prof": { type: "string" },
    "server-flags": { type: "string" },
    "server-log": { type: "string" },
    phases: { type: "string" },
    smoke: { type: "boolean", default: false },
    pg: { type: "string" },
    backends: { type: "string" },
  });
  const pg = values.pg ?? (Deno.env.get("SFS_TEST_PG_URL") || undefined);
  const smoke = values.smoke;
  const clients = wholeOption(values.clients, smoke ? 4 : 64, {
    name: "clients",
    min: 1,
    max: 200,
  });
  const seconds = numberOption(values.seconds, smoke ? 1 : 10, {
    name: "seconds",
    min: 0.1,
    max: 3600,
  });
  const whole = (
    key: "listings" | "users" | "load-workers" | "announce-pool" | "seed",
    fallback: number,
    min: number,
    max: number,
  ) => wholeOption(values[key], fallback, { name: key, min, max });
  return {
    clients,
    listings: whole("listings", smoke ? 2_000 : 100_000, 1, 10_000_000),
    seconds,
    warmupSeconds: smoke ? 0.5 : Math.min(3, seconds),
    users: whole("users", Math.min(clients, smoke ? 2 : 16), 1, 200),
    loadWorkers: whole("load-workers", smoke ? 0 : 2, 0, 16),
    searchRates: rates(values["search-rates"], smoke ? [100] : [TARGET.searchesPerSecond, 1000]),
    announcePool: whole("announce-pool", smoke ? 100 : 20_000, 1, 1e7),
    seed: whole("seed", 1, 0, 2 ** 31),
    // A smoke run must not overwrite the committed results unless asked to.
    jsonOut: values["json-out"] ?? (smoke ? undefined : "bench/index-results.json"),
    cache: !values["no-cache"],
    serverCpuProf: values["server-cpu-prof"],
    serverFlags: (values["server-flags"] ?? "").split(/\s+/).filter(Boolean),
    serverLog: values["server-log"],
    phases: parsePhases(values.phases),
    smoke,
    pg,
    backends: parseBackends(values.backends, pg),
  };
}

/** `--search-rates 3000,1000`: paced rates in requests per second. */
function rates(text: string | undefined, fallback: number[]): number[] {
  if (text === undefined) return fallback;
  const values = text.split(",").map(Number);
  if (values.length === 0 || values.some((v) => !Number.isFinite(v) || v <= 0 || v > 1e6)) {
    throw new UsageError(`--search-rates takes rates per second like 3000,1000; not "${text}"`);
  }
  return values;
}

/** `--phases search,announce`: the phases to run, checked against {@link PHASE_KEYS}. */
function parsePhases(text: string | undefined): PhaseKey[] {
  if (text === undefined) return [...PHASE_KEYS];
  const keys = text.split(",").map((key) => key.trim());
  for (const key of keys) {
    if (!(PHASE_KEYS as readonly string[]).includes(key)) {
      throw new UsageError(`--phases takes ${PHASE_KEYS.join(", ")}; not "${key}"`);
    }
  }
  return keys as PhaseKey[];
}

/** `--backends sqlite,postgres`: both when a cluster is known, else SQLite alone. */
function parseBackends(text: string | undefined, pg: string | undefined): BenchBackend[] {
  if (text === undefined) return pg === undefined ? ["sqlite"] : ["sqlite", "postgres"];
  const keys = text.split(",").map((key) => key.trim());
  for (const key of keys) {
    if (key !== "sqlite" && key !== "postgres") {
      throw new UsageError(`--backends takes sqlite, postgres; not "${key}"`);
    }
  }
  if (keys.includes("postgres") && pg === undefined) {
    throw new UsageError("--backends postgres needs --pg URL (or SFS_TEST_PG_URL)");
  }
  return keys as BenchBackend[];
}
