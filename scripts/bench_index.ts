/**
 * Index server benchmark (issue 4): a real `sfs server` process over a database pre-filled with
 * signed listings, driven by N concurrent authenticated clients doing searches, then
 * announcements, then a mix. Reports requests/s and latency percentiles per phase, errors, the
 * server's CPU and peak RSS, and the machine.
 *
 * Usage: `deno task bench:index [--clients 64] [--listings 100000] [--seconds 10]
 * [--json-out bench/index-results.json]`, and `deno task bench:index:smoke` (4 clients, 2,000
 * listings, 1 s phases; for CI, no timing judgement). Progress goes to stderr, the Markdown
 * report to stdout. The exit status is 1 when any request failed.
 *
 * Signing is the slow part of the set-up (RSA-PSS-3072 takes ≈ 4 ms per signature here), so the
 * signed corpus and the identities are cached in the OS temp folder (`sfs-bench-index-cache`) and
 * reused by later runs with the same parameters (`--no-cache` re-signs). The database itself is
 * new on every run.
 *
 * @module
 */

import type { WireListing } from "../src/wire/index_messages.ts";
import { type Cleanup, makeLog, runBenchmark, writeResults } from "./bench/run.ts";
import { loadBeforeStart, machineInfo } from "./bench/machine.ts";
import { memory } from "./bench/proc.ts";
import { latencyStats } from "./bench/stats.ts";
import { type IndexConfig, parseIndexConfig, USAGE } from "./bench/index/config.ts";
import { buildCorpus, type Corpus } from "./bench/index/corpus.ts";
import { cacheDir, loadCorpus, saveCorpus } from "./bench/index/corpus_cache.ts";
import { type Load, startLoad } from "./bench/index/load.ts";
import { type PhaseReport, phases, runPhase, verifyReplies } from "./bench/index/phases.ts";
import { prefill } from "./bench/index/prefill.ts";
import { judge, mib, ms, renderReport, resultsJson } from "./bench/index/report.ts";
import { type Server, startServer } from "./bench/index/server.ts";

const log = makeLog("bench:index");

async function bench(config: IndexConfig, cleanup: Cleanup): Promise<number> {
  loadBeforeStart(log);
  const dir = await Deno.makeTempDir({ prefix: "sfs-bench-index-" });
  cleanup.push(() => Deno.remove(dir, { recursive: true }).catch(() => {}));
  const corpus = await signedCorpus(config);
  log(`pre-filling ${config.listings.toLocaleString("en-US")} listings into ${dir}…`);
  const filled = await prefill(config, corpus, dir);
  log(`pre-filled in ${filled.seconds.toFixed(1)} s (${mib(filled.dbBytes)})`);

  const server = await startServer(config, dir, corpus);
  cleanup.push(() => server.kill());
  log(`server pid ${server.pid} on 127.0.0.1:${server.port}`);
  // The load average as it was in the original script: after the set-up, before the phases.
  const machine = await machineInfo(Deno.loadavg()[0]);

  log(`connecting ${config.clients} clients…`);
  const load = await startLoad(config, server, corpus);
  cleanup.push(() => load.close());
  const connect = latencyStats(load.connect);
  const { reports, replies } = await runPhases(config, load, server);
  const serverMemory = await memory(server.pid);
  load.close();
  const verified = await verifyReplies(replies, corpus);
  const serverLog = server.logLines();
  const status = await server.stop();
  if (config.serverCpuProf) log(`server CPU profile written to ${config.serverCpuProf}`);

  const targets = judge(config, reports);
  const extra = { memory: serverMemory, connect, corpus, prefill: filled, verified };
  console.log(renderReport(config, machine, reports, targets, extra));
  const failures = failuresOf(reports, serverLog.errors, status, replies);
  if (config.jsonOut) {
    const facts = { machine, corpus, filled, connect, reports, serverMemory, serverLog, verified };
    const results = resultsJson(config, { ...facts, targets, failures });
    await writeResults(config.jsonOut, results, log);
  }
  for (const failure of failures) log(`FAILED: ${failure}`);
  return failures.length === 0 ? 0 : 1;
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
): Promise<{ reports: PhaseReport[]; replies: WireListing[][] }> {
  const reports: PhaseReport[] = [];
  const replies: WireListing[][] = [];
  for (const spec of phases(config)) {
    if (spec.seconds <= 0) continue;
    log(`phase ${spec.name} (${spec.seconds} s)…`);
    const { report, replies: sampled } = await runPhase(load, server, spec);
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
