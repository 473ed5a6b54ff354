/**
 * Index server benchmark (issue 4): a real `sfs server` process over a database pre-filled with
 * signed listings, driven by N concurrent authenticated clients doing searches, then
 * announcements, then a mix. Reports requests/s and latency percentiles per phase, errors, the
 * server's CPU and peak RSS, and the machine.
 *
 * Usage: `deno task bench:index [--clients 64] [--listings 100000] [--seconds 10]
 * [--json-out bench/index-results.json] [--pg URL]`, and `deno task bench:index:smoke` (4 clients, 2,000
 * listings, 1 s phases; for CI, no timing judgement). Progress goes to stderr, the Markdown
 * report to stdout. The exit status is 1 when any request failed.
 *
 * Signing is the slow part of the set-up (RSA-PSS-3072 takes ≈ 4 ms per signature here), so the
 * signed corpus and the identities are cached in the OS temp folder (`sfs-bench-index-cache`) and
 * reused by later runs with the same parameters (`--no-cache` re-signs). The database itself is
 * new on every run.
 *
 * With `--pg URL` (default: `SFS_TEST_PG_URL`, as scripts/pg_cluster.sh prints it) the same
 * phases then run against a server on PostgreSQL, in a copy of a pre-filled template database
 * (bench/index/pg.ts), and the report adds the database's CPU per request.
 *
 * @module
 */

import type { WireListing } from "../src/wire/index_messages.ts";
import { type Cleanup, makeLog, runBenchmark, writeResults } from "./bench/run.ts";
import { loadBeforeStart, type Machine, machineInfo } from "./bench/machine.ts";
import { memory } from "./bench/proc.ts";
import { latencyStats } from "./bench/stats.ts";
import {
  type BenchBackend,
  type IndexConfig,
  parseIndexConfig,
  USAGE,
} from "./bench/index/config.ts";
import { buildCorpus, type Corpus } from "./bench/index/corpus.ts";
import { cacheDir, loadCorpus, saveCorpus } from "./bench/index/corpus_cache.ts";
import { type Load, startLoad } from "./bench/index/load.ts";
import { type PhaseReport, phases, runPhase, verifyReplies } from "./bench/index/phases.ts";
import { pgRunDatabase } from "./bench/index/pg.ts";
import { type Prefill, prefill } from "./bench/index/prefill.ts";
import {
  judge,
  mib,
  ms,
  renderOtherStore,
  renderReport,
  type ReportExtra,
  resultsJson,
} from "./bench/index/report.ts";
import { redactUrl } from "../src/index/server/pg/connect.ts";
import { type Server, startServer } from "./bench/index/server.ts";

const log = makeLog("bench:index");

async function bench(config: IndexConfig, cleanup: Cleanup): Promise<number> {
  loadBeforeStart(log);
  const corpus = await signedCorpus(config);
  const runs: StoreRun[] = [];
  for (const backend of config.backends) {
    runs.push(await runStore(config, corpus, backend, cleanup));
  }
  const [first, ...others] = runs;

  const targets = judge(config, first.reports);
  const report = [renderReport(config, first.machine, first.reports, targets, first.extra)];
  for (const other of others) {
    report.push(renderOtherStore(config, other.reports, other.extra, other.machine.cores));
  }
  console.log(report.join("\n\n"));
  const failures = runs.flatMap((run) =>
    failuresOf(run.reports, run.serverLog.errors, run.status, run.replies)
      .map((failure) => runs.length > 1 ? `${run.extra.store}: ${failure}` : failure)
  );
  if (config.jsonOut) {
    const { machine, extra, reports, serverLog } = first;
    const facts = {
      machine,
      corpus,
      filled: extra.prefill,
      connect: extra.connect,
      reports,
      serverMemory: extra.memory,
      serverLog,
      verified: extra.verified,
      otherStores: others.map((o) => ({
        store: o.extra.store,
        reports: o.reports,
        prefill: o.extra.prefill,
      })),
    };
    const results = resultsJson(config, { ...facts, targets, failures });
    await writeResults(config.jsonOut, results, log);
  }
  for (const failure of failures) log(`FAILED: ${failure}`);
  return failures.length === 0 ? 0 : 1;
}

/** What one store's run measured. */
interface StoreRun {
  machine: Machine;
  reports: PhaseReport[];
  replies: WireListing[][];
  extra: ReportExtra;
  serverLog: { lines: number; errors: string[] };
  status: Deno.CommandStatus;
}

/** Fills a database of `backend`, starts a server on it and runs every phase against it. */
async function runStore(
  config: IndexConfig,
  corpus: Corpus,
  backend: BenchBackend,
  cleanup: Cleanup,
): Promise<StoreRun> {
  const dir = await Deno.makeTempDir({ prefix: "sfs-bench-index-" });
  cleanup.push(() => Deno.remove(dir, { recursive: true }).catch(() => {}));
  const { db, store, filled, dbCpu } = await database(config, corpus, backend, dir, cleanup);

  const server = await startServer(config, dir, corpus, db);
  cleanup.push(() => server.kill());
  log(`server pid ${server.pid} on 127.0.0.1:${server.port} (${store})`);
  // The load average as it was in the original script: after the set-up, before the phases.
  const machine = await machineInfo(Deno.loadavg()[0]);

  log(`connecting ${config.clients} clients…`);
  const load = await startLoad(config, server, corpus);
  cleanup.push(() => load.close());
  const connect = latencyStats(load.connect);
  const { reports, replies } = await runPhases(config, load, server, dbCpu);
  const serverMemory = await memory(server.pid);
  load.close();
  const verified = await verifyReplies(replies, corpus);
  const serverLog = server.logLines();
  const status = await server.stop();
  if (config.serverCpuProf) log(`server CPU profile written to ${config.serverCpuProf}`);
  const extra = { store, memory: serverMemory, connect, corpus, prefill: filled, verified };
  return { machine, reports, replies, extra, serverLog, status };
}

/** The pre-filled database of one run: a SQLite file in `dir`, or a PostgreSQL copy. */
async function database(
  config: IndexConfig,
  corpus: Corpus,
  backend: BenchBackend,
  dir: string,
  cleanup: Cleanup,
): Promise<{ db: string; store: string; filled: Prefill; dbCpu?: () => Promise<number> }> {
  if (backend === "postgres") {
    const pg = await pgRunDatabase(config.pg!, config, corpus, { log });
    cleanup.push(() => pg.drop());
    const filled = { dbPath: redactUrl(pg.url), seconds: pg.prefillSeconds, dbBytes: pg.dbBytes };
    log(`PostgreSQL ${pg.version} database ready in ${filled.seconds.toFixed(1)} s`);
    return { db: pg.url, store: `PostgreSQL ${pg.version}`, filled, dbCpu: pg.cpuSeconds };
  }
  log(`pre-filling ${config.listings.toLocaleString("en-US")} listings into ${dir}…`);
  const filled = await prefill(config, corpus, dir);
  log(`pre-filled in ${filled.seconds.toFixed(1)} s (${mib(filled.dbBytes)})`);
  return { db: filled.dbPath, store: "SQLite", filled };
}

/** The signed corpus from the cache, or signed now (and cached). */
async function signedCorpus(config: IndexConfig): Promise<Corpus> {
  const cached = config.cache ? await loadCorpus(config) : undefined;
  if (cached) {
    log(`signed corpus loaded from ${cacheDir(config)}`);
    return cached;
  }
  const corpus = await buildCorpus(config, log);
  log(`signed in ${corpus.seconds.toFixed(1)} s`);
  if (config.cache) await saveCorpus(config, corpus);
  return corpus;
}

/** Runs every phase, logging each; keeps the counted ones and their sampled replies. */
async function runPhases(
  config: IndexConfig,
  load: Load,
  server: Server,
  dbCpu: (() => Promise<number>) | undefined,
): Promise<{ reports: PhaseReport[]; replies: WireListing[][] }> {
  const reports: PhaseReport[] = [];
  const replies: WireListing[][] = [];
  for (const spec of phases(config)) {
    if (spec.seconds <= 0) continue;
    log(`phase ${spec.name} (${spec.seconds} s)…`);
    const { report, replies: sampled } = await runPhase(load, server, spec, dbCpu);
    const k = report.search ?? report.announce;
    log(
      `  ${Math.round((report.search?.perSecond ?? 0) + (report.announce?.perSecond ?? 0))}/s, ` +
        `p99 ${ms(k?.latencyMs.p99 ?? NaN)} ms, errors ${report.errors}` +
        (report.sendLagMs ? `, send lag p99 ${ms(report.sendLagMs.p99)} ms` : ""),
    );
    if (report.firstError) log(`  first error: ${report.firstError}`);
    if (spec.counted) {
      reports.push(report);
      replies.push(...sampled);
    }
  }
  return { reports, replies };
}

/** Why the run failed, if it did: failed requests, server errors, a bad exit, no listings. */
function failuresOf(
  reports: PhaseReport[],
  serverErrors: string[],
  status: Deno.CommandStatus,
  replies: WireListing[][],
): string[] {
  const errors = reports.reduce((n, r) => n + r.errors, 0);
  const failures: string[] = [];
  if (errors > 0) failures.push(`${errors} failed request(s)`);
  if (serverErrors.length > 0) {
    failures.push(`server logged errors: ${serverErrors.join("; ")}`);
  }
  // Windows has no SIGTERM to catch: the server is terminated there, not shut down.
  if (!status.success && Deno.build.os !== "windows") {
    failures.push(`the server exited with status ${status.code}`);
  }
  if (replies.length === 0) failures.push("no search returned any listing");
  return failures;
}

if (import.meta.main) {
  const entry = {
    name: "bench:index",
    usage: USAGE,
    parse: parseIndexConfig,
    run: bench,
    stackTraces: true,
  };
  Deno.exit(await runBenchmark(entry, Deno.args));
}
