/**
 * The timed runs of the transfer benchmark: one `sfs send` + `sfs get` pair, one scp copy, and
 * the alternating warm-up and counted rounds of both; every copy is checked byte for byte.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { formatRate, formatSeconds } from "../format.ts";
import type { Log } from "../run.ts";
import { randomFile, sha256File } from "../../lib/files.ts";
import { SFS_CMD, type SfsEvent, type SfsOptions, type SfsProcess } from "../../lib/sfs_process.ts";
import { parseTimeVerbose, type ProcessUsage, type RssMode } from "./gnu_time.ts";
import type { RunRecord, Test, Tool } from "./report.ts";
import type { Resources } from "./resources.ts";
import type { RelayIndex } from "./relay.ts";
import type { Sshd } from "./sshd.ts";
import { parseTicket } from "../../../src/peer/ticket.ts";

/** The time of one run and, when measured, what each sfs process used. */
export interface Measured {
  seconds: number;
  sender?: ProcessUsage;
  receiver?: ProcessUsage;
}

/** A file to copy, with the hash every copy must match. */
export interface SourceFile {
  path: string;
  size: number;
  sha256: string;
}

/** Resolves to `promise`'s value, or rejects after `ms` saying what took too long. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A generous bound for moving or hashing `bytes`: a minute plus 5 MB/s. */
function timeoutFor(bytes: number): number {
  return 60_000 + Math.ceil(bytes / 5e6) * 1000;
}

/** Runs `sfs keygen` for a fresh home, with an unencrypted identity. */
export async function makeIdentity(res: Resources, home: string): Promise<void> {
  await using proc = res.spawn([...SFS_CMD, "keygen", "--json", "--quiet"], {
    home,
    env: { SFS_PASSPHRASE: "" },
  });
  const status = await within(proc.status, 60_000, "sfs keygen");
  await proc.drained();
  if (!status.success) throw new Error(`sfs keygen failed:\n${proc.stderrText()}`);
}

/** Writes `size` random bytes to `path` and hashes them. */
export async function makeSource(path: string, size: number): Promise<SourceFile> {
  await Deno.mkdir(dirname(path), { recursive: true });
  await randomFile(path, size);
  return { path, size, sha256: await sha256File(path) };
}

/** Fails loudly unless `path` holds exactly the source's bytes. */
async function verifyCopy(path: string, source: SourceFile, tool: Tool): Promise<void> {
  const info = await Deno.stat(path).catch(() => undefined);
  if (!info?.isFile) throw new Error(`${tool} left no file at "${path}"`);
  const sha256 = await sha256File(path);
  if (info.size !== source.size || sha256 !== source.sha256) {
    throw new Error(
      `${tool} delivered the wrong bytes: ${info.size} bytes with SHA-256 ${sha256}, ` +
        `expected ${source.size} bytes with SHA-256 ${source.sha256}`,
    );
  }
}

/** The last stdout JSON line whose `event` is `name`. */
function lastEvent(stdout: string, name: string): SfsEvent | undefined {
  for (const line of stdout.trim().split("\n").reverse()) {
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value === "object" && value !== null && (value as SfsEvent).event === name) {
        return value as SfsEvent;
      }
    } catch {
      // Not a JSON line.
    }
  }
  return undefined;
}

/** The context every run needs. */
export interface Bench {
  res: Resources;
  root: string;
  senderHome: string;
  receiverHome: string;
  rss: RssMode;
  log: Log;
  /** The relay of the relayed row; undefined once it is skipped. */
  relay?: RelayIndex;
  /** Why the relayed row was skipped, if it was. */
  relaySkipped?: string;
}

/** How an sfs run connects: directly, or through the relay of an index (issue 10). */
type SfsRoute = { kind: "direct" } | { kind: "relay"; index: RelayIndex };

/** Starts sfs, under GNU time when measuring; `usage()` reads what time reported after exit. */
function spawnMeasured(
  bench: Bench,
  args: readonly string[],
  options: SfsOptions & { timeFile: string; measure: boolean },
): { proc: SfsProcess; usage: () => Promise<ProcessUsage | undefined> } {
  const timeBin = options.measure && bench.rss.kind === "gnu-time" ? bench.rss.bin : undefined;
  const prefix = timeBin ? [timeBin, "-v", "-o", options.timeFile] : [];
  const proc = bench.res.spawn([...prefix, ...SFS_CMD, ...args], options);
  return {
    proc,
    usage: async () => {
      if (!timeBin) return undefined;
      return parseTimeVerbose(await Deno.readTextFile(options.timeFile).catch(() => ""));
    },
  };
}

/**
 * One sfs transfer: sender listening first, then `sfs get` timed from spawn to exit. Through the
 * relay, a string says why the row cannot run (the ticket names no relay).
 */
async function sfsOnce(
  bench: Bench,
  source: SourceFile,
  measure: boolean,
  route: SfsRoute = { kind: "direct" },
): Promise<Measured | string> {
  const dir = await Deno.makeTempDir({ dir: bench.root, prefix: "run-sfs-" });
  try {
    const outDir = join(dir, "out");
    await Deno.mkdir(outDir);
    const limit = timeoutFor(source.size);
    const relayed = route.kind === "relay";
    const send = spawnMeasured(
      bench,
      [
        "send",
        source.path,
        "--listen",
        "127.0.0.1:0",
        "--once",
        "--json",
        "--quiet",
        ...(relayed ? ["--server", route.index.server] : []),
      ],
      {
        home: relayed ? route.index.senderHome : bench.senderHome,
        timeFile: join(dir, "send.time"),
        measure,
      },
    );
    await using sender = send.proc;
    const ready = await sender.nextEvent((e) => e.event === "ready", limit);
    if (typeof ready.ticket !== "string") throw new Error("sfs send printed no ticket");
    if (relayed && parseTicket(ready.ticket).relay === undefined) {
      return "the sender's ticket names no relay (this build has no relay wired in)";
    }

    const started = performance.now();
    const get = spawnMeasured(
      bench,
      ["get", ready.ticket, "--out", outDir, "--json", "--quiet", relayed ? "--relay" : "--direct"],
      { home: bench.receiverHome, timeFile: join(dir, "get.time"), measure },
    );
    await using receiver = get.proc;
    const status = await within(receiver.status, limit, "sfs get");
    const seconds = (performance.now() - started) / 1000;
    await receiver.drained();
    if (!status.success) {
      throw new Error(`sfs get exited with code ${status.code}:\n${receiver.stderrText()}`);
    }
    const sent = await within(sender.status, 30_000, "sfs send --once (after the transfer)");
    await sender.drained();
    if (!sent.success) {
      throw new Error(`sfs send exited with code ${sent.code}:\n${sender.stderrText()}`);
    }
    const done = lastEvent(receiver.stdoutText(), "done");
    if (done?.sha256 !== source.sha256) {
      throw new Error(`sfs get reported SHA-256 ${done?.sha256}, expected ${source.sha256}`);
    }
    if (done.route !== route.kind) {
      throw new Error(`sfs get took route ${done.route}, expected ${route.kind}`);
    }
    const path = typeof done.path === "string" ? done.path : join(outDir, basename(source.path));
    await verifyCopy(path, source, "sfs");
    return { seconds, sender: await send.usage(), receiver: await get.usage() };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** One scp copy to the throw-away sshd, timed as the whole scp process. */
async function scpOnce(bench: Bench, sshd: Sshd, source: SourceFile): Promise<Measured> {
  const dir = await Deno.makeTempDir({ dir: bench.root, prefix: "run-scp-" });
  try {
    const dest = join(dir, "dest");
    await Deno.mkdir(dest);
    const started = performance.now();
    await using scp = bench.res.spawn([
      sshd.scp,
      ...sshd.args,
      source.path,
      `127.0.0.1:${dest}/`,
    ]);
    const status = await within(scp.status, timeoutFor(source.size), "scp");
    const seconds = (performance.now() - started) / 1000;
    await scp.drained();
    if (!status.success) {
      throw new Error(`scp exited with code ${status.code}:\n${scp.stderrText()}`);
    }
    await verifyCopy(join(dest, basename(source.path)), source, "scp");
    return { seconds };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** One sfs transfer of `source` under GNU time (where it exists): time, CPU and peak RSS. */
export async function measuredSfsRun(bench: Bench, source: SourceFile): Promise<Measured> {
  const run = await sfsOnce(bench, source, true);
  if (typeof run === "string") throw new Error(`sfs run impossible: ${run}`);
  return run;
}

/**
 * Warm-up pairs, then counted pairs, alternating sfs and scp; every second counted pair runs scp
 * first. The order is counterbalanced because a run's predecessor can matter here: right after an
 * scp copy, sfs's page-cache writes have cost up to three times the kernel time they cost right
 * after an sfs copy (some hours, not others), while scp's time does not depend on what ran before
 * it (docs/PERFORMANCE.md, session 7). Each record says which tool ran first in its pair.
 */
export async function alternate(
  bench: Bench,
  sshd: Sshd | undefined,
  source: SourceFile,
  test: Test,
  config: { warmup: number; runs: number },
): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  const rounds = [
    ...Array.from({ length: config.warmup }, (_, i) => ({ warmup: true, pair: i + 1 })),
    ...Array.from({ length: config.runs }, (_, i) => ({ warmup: false, pair: i + 1 })),
  ];
  const rate = (seconds: number) =>
    test === "transfer" ? ` (${formatRate(source.size, seconds)})` : "";
  for (const { warmup, pair } of rounds) {
    const label = `${test} ${warmup ? "warm-up" : "run"} ${pair}`;
    const scpFirst = sshd !== undefined && !warmup && pair % 2 === 0;
    const record = (tool: Tool, seconds: number, usage?: Measured) =>
      records.push({
        test,
        tool,
        warmup,
        pair,
        scpFirst,
        bytes: source.size,
        seconds,
        sha256Verified: true,
        sender: usage?.sender,
        receiver: usage?.receiver,
      });
    const runScp = async (server: Sshd) => {
      const scp = await scpOnce(bench, server, source);
      record("scp", scp.seconds);
      bench.log(`${label}: scp ${formatSeconds(scp.seconds)}${rate(scp.seconds)}`);
    };
    if (sshd && scpFirst) await runScp(sshd);
    const sfs = await sfsOnce(bench, source, test === "transfer");
    if (typeof sfs === "string") throw new Error(`sfs run impossible: ${sfs}`);
    record("sfs", sfs.seconds, sfs);
    const usage = (u: ProcessUsage) =>
      `${Math.round(u.peakRssKiB / 1024)} MiB, ${u.cpuSeconds.toFixed(2)} s CPU`;
    const rss = sfs.sender && sfs.receiver
      ? `; send ${usage(sfs.sender)}; get ${usage(sfs.receiver)}`
      : "";
    bench.log(`${label}: sfs ${formatSeconds(sfs.seconds)}${rate(sfs.seconds)}${rss}`);
    if (test === "transfer" && bench.relay !== undefined) {
      // The same file, right after the direct run: the relayed row's ratio compares like with like.
      const relayed = await sfsOnce(bench, source, false, { kind: "relay", index: bench.relay });
      if (typeof relayed === "string") {
        bench.relay = undefined;
        bench.relaySkipped = relayed;
        bench.log(`relayed row skipped: ${relayed}`);
      } else {
        record("sfs-relay", relayed.seconds);
        bench.log(
          `${label}: sfs relayed ${formatSeconds(relayed.seconds)}${rate(relayed.seconds)}`,
        );
      }
    }
    if (sshd && !scpFirst) await runScp(sshd);
  }
  return records;
}
