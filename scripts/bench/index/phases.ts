/**
 * The phases of an index benchmark run: which ones, each run on every client with the server's
 * and the bench's CPU measured around it, the groups' numbers added up, and sampled replies
 * verified as a receiver would.
 *
 * @module
 */

import { toHex } from "../../../src/crypto/bytes.ts";
import { verifyListing } from "../../../src/index/protocol/announcement.ts";
import type { WireListing } from "../../../src/wire/index_messages.ts";
import { cpuSeconds, memory } from "../proc.ts";
import { type LatencyStats, latencyStats } from "../stats.ts";
import { type IndexConfig, PHASE_KEYS, type PhaseKey } from "./config.ts";
import type { Corpus } from "./corpus.ts";
import type { Load } from "./load.ts";
import type { PhaseKind, PhasePlan, PhaseResult } from "./load_group.ts";
import type { Server } from "./server.ts";

/** One phase as the bench plans it; uncounted phases (the warm-up) are not reported. */
export interface PhaseSpec {
  name: string;
  kind: PhaseKind;
  seconds: number;
  rate?: number;
  searchShare: number;
  counted: boolean;
}

/** Throughput and latency of one request kind in one phase. */
export interface KindReport {
  count: number;
  perSecond: number;
  latencyMs: LatencyStats;
}

/** What one counted phase measured, as the report and results.json show it. */
export interface PhaseReport {
  name: string;
  kind: PhaseKind;
  mode: string;
  seconds: number;
  search?: KindReport;
  announce?: KindReport;
  /**
   * Paced phases: how late requests left after their scheduled time (ms). Large values mean the
   * previous reply on the connection was late (an overloaded server) or the bench fell behind.
   */
  sendLagMs: LatencyStats | null;
  errors: number;
  firstError: string | null;
  meanListingsPerSearch: number | null;
  emptySearches: number;
  freshAnnouncements: number;
  replacedAnnouncements: number;
  serverCpuPercent: number;
  benchCpuPercent: number;
  /**
   * Server CPU time (user + system, from /proc) per request answered in the phase, in ms: the
   * number that decides how many requests per second the server can serve per core, and one
   * that other work on the machine skews far less than rates and latencies.
   */
  serverCpuMsPerRequest: number;
  /** The same for the bench process (the clients), which shares the machine's cores. */
  benchCpuMsPerRequest: number;
  /** The same for the database's processes (PostgreSQL only; NaN for SQLite, in the server). */
  dbCpuMsPerRequest: number;
  serverRssBytes: number;
}

/** The warm-up, then the phases `--phases` asked for, in {@link PHASE_KEYS} order. */
export function phases(config: IndexConfig): PhaseSpec[] {
  const s = config.seconds;
  const paced = config.searchRates.map((rate): PhaseSpec => ({
    name: pacedName(rate),
    kind: "search",
    seconds: s,
    rate,
    searchShare: 1,
    counted: true,
  }));
  const all: Record<PhaseKey, PhaseSpec[]> = {
    search: [{ name: "search", kind: "search", seconds: s, searchShare: 1, counted: true }],
    paced,
    announce: [{ name: "announce", kind: "announce", seconds: s, searchShare: 0, counted: true }],
    mixed: [{ name: "mixed 3:1", kind: "mixed", seconds: s, searchShare: 0.75, counted: true }],
  };
  const warmup: PhaseSpec = {
    name: "warm-up (search)",
    kind: "search",
    seconds: config.warmupSeconds,
    searchShare: 1,
    counted: false,
  };
  return [
    warmup,
    ...PHASE_KEYS.filter((key) => config.phases.includes(key)).flatMap((key) => all[key]),
  ];
}

/** The name of a paced search phase: `search @ 3,000/s`. */
export function pacedName(rate: number): string {
  return `search @ ${rate.toLocaleString("en-US")}/s`;
}

/**
 * Runs one phase on every client and measures the server's, the bench's and (with `dbCpu`) the
 * database's CPU around it.
 */
export async function runPhase(
  load: Load,
  server: Server,
  spec: PhaseSpec,
  dbCpu: () => Promise<number> = () => Promise.resolve(NaN),
): Promise<{
  report: PhaseReport;
  replies: WireListing[][];
}> {
  const plan: PhasePlan = {
    name: spec.name,
    kind: spec.kind,
    startAt: Date.now() + 100,
    durationMs: spec.seconds * 1000,
    rate: spec.rate,
    searchShare: spec.searchShare,
    keepReplies: 2,
  };
  const [serverCpu0, benchCpu0, dbCpu0] = await Promise.all([
    cpuSeconds(server.pid),
    cpuSeconds(Deno.pid),
    dbCpu(),
  ]);
  const wall0 = Date.now();
  const results = await load.run(plan);
  const wall = (Date.now() - wall0) / 1000;
  const [serverCpu1, benchCpu1, dbCpu1, rss] = await Promise.all([
    cpuSeconds(server.pid),
    cpuSeconds(Deno.pid),
    dbCpu(),
    memory(server.pid),
  ]);
  const report = phaseReport(spec, results);
  // The sampling itself (two `cat`s) is outside the wall time, so these are upper bounds.
  report.serverCpuPercent = (100 * (serverCpu1 - serverCpu0)) / wall;
  report.benchCpuPercent = (100 * (benchCpu1 - benchCpu0)) / wall;
  const requests = (report.search?.count ?? 0) + (report.announce?.count ?? 0);
  report.serverCpuMsPerRequest = (1000 * (serverCpu1 - serverCpu0)) / requests;
  report.benchCpuMsPerRequest = (1000 * (benchCpu1 - benchCpu0)) / requests;
  report.dbCpuMsPerRequest = (1000 * (dbCpu1 - dbCpu0)) / requests;
  report.serverRssBytes = rss.rss;
  return { report, replies: results.flatMap((r) => r.replies) };
}

/** Adds up what every group measured; the CPU and memory fields are left for the caller. */
function phaseReport(spec: PhaseSpec, results: PhaseResult[]): PhaseReport {
  const startedAt = Math.min(...results.map((r) => r.startedAt));
  const endedAt = Math.max(...results.map((r) => r.endedAt));
  const elapsed = Math.max(0.001, (endedAt - startedAt) / 1000);
  const kind = (latencies: number[]): KindReport | undefined =>
    latencies.length === 0 ? undefined : {
      count: latencies.length,
      perSecond: latencies.length / elapsed,
      latencyMs: latencyStats(latencies),
    };
  const search = results.flatMap((r) => r.search);
  const announce = results.flatMap((r) => r.announce);
  const sum = (f: (r: PhaseResult) => number) => results.reduce((n, r) => n + f(r), 0);
  return {
    name: spec.name,
    kind: spec.kind,
    mode: spec.rate === undefined ? "closed loop" : `paced ${spec.rate}/s`,
    seconds: elapsed,
    search: kind(search),
    announce: kind(announce),
    sendLagMs: spec.rate === undefined ? null : latencyStats(results.flatMap((r) => r.sendLag)),
    errors: sum((r) => r.errors),
    firstError: results.find((r) => r.firstError)?.firstError ?? null,
    meanListingsPerSearch: search.length === 0
      ? null
      : sum((r) => r.listingsReturned) / search.length,
    emptySearches: sum((r) => r.emptyReplies),
    freshAnnouncements: sum((r) => r.fresh),
    replacedAnnouncements: sum((r) => r.replaced),
    serverCpuPercent: NaN,
    benchCpuPercent: NaN,
    serverCpuMsPerRequest: NaN,
    benchCpuMsPerRequest: NaN,
    dbCpuMsPerRequest: NaN,
    serverRssBytes: NaN,
  };
}

/** Verifies sampled replies as a receiver would: every listing against its owner's key. */
export async function verifyReplies(replies: WireListing[][], corpus: Corpus): Promise<number> {
  const keys = new Map(corpus.users.map((u) => [toHex(u.identity.public.encoded), u.name]));
  let checked = 0;
  for (const listing of replies.flat()) {
    const verified = await verifyListing(listing);
    if (keys.get(toHex(listing.ownerIdentity)) !== verified.announcement.owner) {
      throw new Error(`Listing of "${verified.announcement.name}" carries another user's key`);
    }
    checked++;
  }
  return checked;
}
