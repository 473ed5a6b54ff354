/**
 * The index benchmark's verdict and report: issue 4's targets judged against the counted phases,
 * the Markdown report printed on stdout, and the results.json document.
 *
 * @module
 */

import { markdownTable } from "../format.ts";
import type { Machine } from "../machine.ts";
import type { Memory } from "../proc.ts";
import type { LatencyStats } from "../stats.ts";
import { type IndexConfig, TARGET } from "./config.ts";
import type { Corpus } from "./corpus.ts";
import { type KindReport, pacedName, type PhaseReport } from "./phases.ts";
import type { Prefill } from "./prefill.ts";
import {
  LISTINGS_PER_WORD,
  makeVocabulary,
  PRIVATE_SHARE,
  QUERY_MIX,
  SEARCH_LIMIT,
  TAGS,
} from "./workload.ts";

/** One of issue 4's targets, judged; `met` is null in a smoke run. */
export interface TargetResult {
  name: string;
  goal: string;
  value: string;
  met: boolean | null;
}

/** Judges the counted phases against issue 4's targets. */
export function judge(config: IndexConfig, reports: PhaseReport[]): TargetResult[] {
  const find = (name: string) => reports.find((r) => r.name === name);
  const search = find("search")?.search;
  const targetRate = config.searchRates[0];
  const paced = find(pacedName(targetRate))?.search;
  const announce = find("announce")?.announce;
  // A smoke run is too small and short to say anything about speed.
  const met = (ok: boolean) => config.smoke ? null : ok;
  const rate = (k: KindReport | undefined) =>
    k === undefined ? "—" : `${Math.round(k.perSecond)}/s`;
  return [
    {
      name: `searches/s, ${config.clients} clients (closed loop)`,
      goal: `≥ ${TARGET.searchesPerSecond}`,
      value: rate(search),
      met: met((search?.perSecond ?? 0) >= TARGET.searchesPerSecond),
    },
    {
      name: `announcements/s, ${config.clients} clients (closed loop)`,
      goal: `≥ ${TARGET.announcementsPerSecond}`,
      value: rate(announce),
      met: met((announce?.perSecond ?? 0) >= TARGET.announcementsPerSecond),
    },
    {
      name: `p99 search latency at ${targetRate}/s over ${config.listings} listings`,
      goal: `≤ ${TARGET.searchP99Ms} ms`,
      value: paced === undefined ? "—" : `${paced.latencyMs.p99.toFixed(1)} ms`,
      met: met(
        paced !== undefined && paced.perSecond >= 0.97 * targetRate &&
          paced.latencyMs.p99 <= TARGET.searchP99Ms,
      ),
    },
    {
      name: `p99 search latency, ${config.clients} clients (closed loop)`,
      goal: `≤ ${TARGET.searchP99Ms} ms`,
      value: search === undefined ? "—" : `${search.latencyMs.p99.toFixed(1)} ms`,
      met: met(search !== undefined && search.latencyMs.p99 <= TARGET.searchP99Ms),
    },
  ];
}

/** Milliseconds for the table: two decimals below 10, one above. */
export function ms(value: number): string {
  return Number.isNaN(value) ? "—" : value < 10 ? value.toFixed(2) : value.toFixed(1);
}

/** Bytes as whole MiB. */
export function mib(bytes: number): string {
  return Number.isNaN(bytes) ? "—" : `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
}

/** What the report says beyond the phases and targets. */
export interface ReportExtra {
  /** Which store the server ran on: "SQLite", "PostgreSQL 15.14". */
  store: string;
  memory: Memory;
  connect: LatencyStats;
  corpus: Corpus;
  prefill: Prefill;
  verified: number;
}

/** The printed Markdown report: heading, method, the phase table, the targets and the set-up. */
export function renderReport(
  config: IndexConfig,
  machine: Machine,
  reports: PhaseReport[],
  targets: TargetResult[],
  extra: ReportExtra,
): string {
  const search = reports.find((r) => r.name === "search");
  const announce = reports.find((r) => r.name === "announce");
  return [
    `## Index server benchmark${config.smoke ? " (smoke)" : ""}`,
    "",
    `${machine.cpu}, ${machine.cores} cores, ${mib(machine.memoryBytes)} RAM, ${machine.os}, ` +
    `${machine.deno}; load average ${machine.loadAverage.toFixed(2)} at start, ` +
    `${Deno.loadavg()[0].toFixed(2)} at the end. ` +
    `sfs ${machine.sfsCommit?.slice(0, 12) ?? "unknown"}${
      machine.sfsSourceModified ? " (modified)" : ""
    }.`,
    "",
    `Store: ${extra.store}. ${config.clients} clients (${config.users} users, AUTH), ${
      config.loadWorkers === 0
        ? "in the bench's main thread"
        : `in ${config.loadWorkers} worker threads`
    }; ${config.listings.toLocaleString("en-US")} listings; ${config.seconds} s per phase. ` +
    `Searches ask for ${SEARCH_LIMIT} per page (the \`sfs search\` default) and returned ` +
    `${search?.meanListingsPerSearch?.toFixed(1) ?? "—"} listings on average.`,
    "",
    phaseTable(reports),
    "",
    targetTable(targets),
    "",
    ceiling(search, machine.cores),
    "",
    `Server peak RSS ${mib(extra.memory.peak)} (at the end ${mib(extra.memory.anon)} anonymous, ` +
    `${mib(extra.memory.file)} file-backed: the deno executable and the memory-mapped database, ` +
    `which the kernel can drop at will). Connect + handshake + AUTH of ${config.clients} clients at once: ` +
    `p50 ${ms(extra.connect.p50)} ms, max ${ms(extra.connect.max)} ms. ` +
    `Announce phase: ${announce?.freshAnnouncements ?? 0} new listings, ` +
    `${announce?.replacedAnnouncements ?? 0} re-announcements. ${extra.verified} listings of ` +
    `sampled replies verified against their owners' keys.`,
    "",
    `Set-up: corpus ${extra.corpus.fromCache ? "loaded from cache" : "signed"} in ` +
    `${extra.corpus.seconds.toFixed(1)} s; database pre-filled in ${
      extra.prefill.seconds.toFixed(1)
    } s ` +
    `(${mib(extra.prefill.dbBytes)}).`,
  ].join("\n");
}

/**
 * What the closed-loop search phase's CPU per request allows on this machine, whatever else ran
 * on it: the server is one JavaScript thread (SQLite runs on it), so it serves at most one core's
 * worth; the clients share the same cores.
 */
export function ceiling(search: PhaseReport | undefined, cores: number): string {
  if (search === undefined) return "";
  const server = search.serverCpuMsPerRequest;
  const clients = search.benchCpuMsPerRequest;
  const db = Number.isFinite(search.dbCpuMsPerRequest) ? search.dbCpuMsPerRequest : 0;
  if (!(server > 0)) return "";
  const oneCore = 1000 / server;
  const shared = (1000 * cores) / (server + clients + db);
  return `Ceiling from CPU per search: the server (one thread) at ${
    ms(server)
  } ms serves at most ` +
    `${Math.round(oneCore).toLocaleString("en-US")}/s on one core; with the clients' ` +
    `${ms(clients)} ms${db > 0 ? ` and the database's ${ms(db)} ms` : ""} on the same ${cores} ` +
    `cores, at most ${Math.round(Math.min(oneCore, shared)).toLocaleString("en-US")}/s.`;
}

/** One row per phase and request kind (a mixed phase has two). */
export function phaseTable(reports: PhaseReport[]): string {
  const withDb = reports.some((r) => Number.isFinite(r.dbCpuMsPerRequest));
  const rows: string[][] = [];
  for (const r of reports) {
    for (const [label, k] of [["search", r.search], ["announce", r.announce]] as const) {
      if (k === undefined) continue;
      rows.push([
        r.kind === "mixed" ? `${r.name}: ${label}` : r.name,
        r.mode,
        k.count.toLocaleString("en-US"),
        Math.round(k.perSecond).toLocaleString("en-US"),
        ms(k.latencyMs.p50),
        ms(k.latencyMs.p90),
        ms(k.latencyMs.p99),
        ms(k.latencyMs.max),
        String(r.errors),
        `${Math.round(r.serverCpuPercent)} %`,
        `${Math.round(r.benchCpuPercent)} %`,
        // Per request of either kind: a mixed phase's two rows share one figure.
        ms(r.serverCpuMsPerRequest),
        ms(r.benchCpuMsPerRequest),
        ...(withDb ? [ms(r.dbCpuMsPerRequest)] : []),
      ]);
    }
  }
  return markdownTable(
    [
      "phase",
      "load",
      "requests",
      "req/s",
      "p50 ms",
      "p90 ms",
      "p99 ms",
      "max ms",
      "errors",
      "server CPU",
      "bench CPU",
      "server CPU ms/req",
      "bench CPU ms/req",
      ...(withDb ? ["database CPU ms/req"] : []),
    ],
    rows,
  );
}

function targetTable(targets: TargetResult[]): string {
  return markdownTable(
    ["target", "goal", "measured", "met"],
    targets.map((
      t,
    ) => [t.name, t.goal, t.value, t.met === null ? "n/a (smoke)" : t.met ? "yes" : "**no**"]),
  );
}

/** Everything results.json holds about a run. */
export interface RunFacts {
  machine: Machine;
  corpus: Corpus;
  filled: Prefill;
  connect: LatencyStats;
  reports: PhaseReport[];
  serverMemory: Memory;
  serverLog: { lines: number };
  verified: number;
  targets: TargetResult[];
  failures: string[];
  /** The phases on the stores after the first (PostgreSQL), with their set-up. */
  otherStores: { store: string; reports: PhaseReport[]; prefill: Prefill }[];
}

/** The results.json document: configuration, workload, set-up, every phase and the verdict. */
export function resultsJson(config: IndexConfig, facts: RunFacts): Record<string, unknown> {
  const { machine, corpus, filled, connect, reports, serverMemory, serverLog, verified } = facts;
  const { targets, failures } = facts;
  return {
    date: new Date().toISOString(),
    machine,
    loadAverageAfter: Deno.loadavg()[0],
    config: {
      clients: config.clients,
      users: config.users,
      listings: config.listings,
      secondsPerPhase: config.seconds,
      warmupSeconds: config.warmupSeconds,
      loadWorkers: config.loadWorkers,
      searchRates: config.searchRates,
      announcePool: config.announcePool,
      seed: config.seed,
      smoke: config.smoke,
      searchLimit: SEARCH_LIMIT,
    },
    distribution: {
      names: "WORD-WORD-N.EXT: two made-up three-syllable words drawn uniformly, N in 1–999, " +
        "one of 16 extensions",
      vocabularyWords: makeVocabulary(config.seed, config.listings).words.length,
      listingsPerWord: LISTINGS_PER_WORD,
      keywords: `1–3 of ${TAGS.length} topic tags, uniform`,
      privateShare: PRIVATE_SHARE,
      queryMix: QUERY_MIX,
    },
    setup: {
      corpusFromCache: corpus.fromCache,
      corpusSeconds: corpus.seconds,
      prefillSeconds: filled.seconds,
      databaseBytes: filled.dbBytes,
    },
    connectMs: connect,
    phases: reports,
    otherStores: facts.otherStores,
    serverMemoryBytes: serverMemory,
    serverLogLines: serverLog.lines,
    verifiedListings: verified,
    targets,
    failures,
  };
}

/** The phase table of a store after the first (PostgreSQL beside SQLite), with its set-up. */
export function renderOtherStore(
  config: IndexConfig,
  reports: PhaseReport[],
  extra: ReportExtra,
  cores: number,
): string {
  return [
    `### ${extra.store}, the same clients and phases`,
    "",
    phaseTable(reports),
    "",
    ceiling(reports.find((r) => r.name === "search"), cores),
    "",
    `Server peak RSS ${mib(extra.memory.peak)}. Connect + handshake + AUTH of ${config.clients} ` +
    `clients at once: p50 ${ms(extra.connect.p50)} ms. ${extra.verified} listings of sampled ` +
    `replies verified. Database ${mib(extra.prefill.dbBytes)}, ready in ` +
    `${extra.prefill.seconds.toFixed(1)} s. Database CPU: the cluster's processes (/proc), ` +
    `which on this machine share the same cores.`,
  ].join("\n");
}
