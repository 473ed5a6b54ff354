/**
 * The folder rows of the transfer benchmark (issue 11 "Speed", issue 12 "Benchmark rows"): many
 * small files against `scp -r`, one large file inside a folder against the same file shared
 * plainly, time from `sfs send` to the ticket with a cold and a warm hash cache, and peak RSS of
 * both processes for a tree of many files. Every copy is compared with its source file by file.
 *
 * @module
 */

import { basename, join, relative } from "node:path";
import { formatSeconds, formatSize } from "./format.ts";
import { median } from "./stats.ts";
import { SFS_CMD, type SfsEvent } from "../lib/sfs_process.ts";
import { parseTimeVerbose, type ProcessUsage } from "./transfer/gnu_time.ts";
import type { Bench, SourceFile } from "./transfer/runs.ts";
import type { Sshd } from "./transfer/sshd.ts";

/** The hash cache file in SFS_HOME (src/cli/commands/send_tree.ts HASH_CACHE_FILE). */
const HASH_CACHE_FILE = "hash-cache.bin";

/** A generated tree of small files. */
export interface TreeSpec {
  files: number;
  folders: number;
  minBytes: number;
  maxBytes: number;
}

/** The tree sizes of a full run and of the smoke run. */
export function folderSpecs(smoke: boolean): { small: TreeSpec; many: TreeSpec } {
  return smoke
    ? {
      small: { files: 200, folders: 4, minBytes: 1000, maxBytes: 10_000 },
      many: { files: 500, folders: 5, minBytes: 1000, maxBytes: 10_000 },
    }
    : {
      small: { files: 2000, folders: 40, minBytes: 1000, maxBytes: 10_000 },
      many: { files: 10_000, folders: 100, minBytes: 1000, maxBytes: 10_000 },
    };
}

/** A source folder on disk. */
export interface SourceTree {
  path: string;
  files: number;
  bytes: number;
}

/**
 * Writes `spec.files` files of random sizes in `[minBytes, maxBytes]` and random content, spread
 * evenly over `spec.folders` folders under `path`.
 */
export async function makeTree(path: string, spec: TreeSpec): Promise<SourceTree> {
  let bytes = 0;
  for (let f = 0; f < spec.folders; f++) {
    await Deno.mkdir(join(path, `dir-${String(f).padStart(3, "0")}`), { recursive: true });
  }
  const sizes = new Uint32Array(spec.files);
  crypto.getRandomValues(sizes);
  const span = spec.maxBytes - spec.minBytes + 1;
  for (let i = 0; i < spec.files; i++) {
    const size = spec.minBytes + (sizes[i] % span);
    const folder = `dir-${String(i % spec.folders).padStart(3, "0")}`;
    const data = crypto.getRandomValues(new Uint8Array(size));
    await Deno.writeFile(join(path, folder, `file-${String(i).padStart(5, "0")}.bin`), data);
    bytes += size;
  }
  return { path, files: spec.files, bytes };
}

/** A folder holding one hard link to `file` (no second copy of a large file on disk). */
export async function folderAround(file: SourceFile, path: string): Promise<SourceTree> {
  await Deno.mkdir(path, { recursive: true });
  await Deno.link(file.path, join(path, "big.bin"));
  return { path, files: 1, bytes: file.size };
}

/** Every regular file under `root`, as paths relative to it, sorted. */
async function listFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else found.push(relative(root, path));
    }
  };
  await walk(root);
  return found.sort();
}

/** Fails loudly unless `copy` holds exactly the files of `source`, byte for byte. */
async function verifyTree(copy: string, source: SourceTree, tool: string): Promise<void> {
  const [want, got] = await Promise.all([listFiles(source.path), listFiles(copy)]);
  if (want.length !== got.length || want.some((p, i) => p !== got[i])) {
    throw new Error(
      `${tool} delivered ${got.length} files, expected the ${want.length} of the source`,
    );
  }
  for (const path of want) {
    const [a, b] = await Promise.all([
      Deno.readFile(join(source.path, path)),
      Deno.readFile(join(copy, path)),
    ]);
    if (a.length !== b.length || a.some((byte, i) => byte !== b[i])) {
      throw new Error(`${tool} delivered wrong bytes for "${path}"`);
    }
  }
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

/** A generous bound for `bytes` in `files`: a minute plus 5 MB/s plus 10 ms a file. */
function timeoutFor(bytes: number, files: number): number {
  return 60_000 + Math.ceil(bytes / 5e6) * 1000 + files * 10;
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

/** One sfs share and fetch: time to the ticket, transfer time, and what each process used. */
export interface SfsTreeRun {
  ticketSeconds: number;
  seconds: number;
  sender?: ProcessUsage;
  receiver?: ProcessUsage;
}

/**
 * `sfs send PATH --once` (timed from spawn to its ticket), then `sfs get` timed from spawn to
 * exit; the copy is checked against the source (a folder file by file, a file by its SHA-256).
 */
export async function sfsTreeOnce(
  bench: Bench,
  source: SourceTree | SourceFile,
  options: { measure: boolean; coldCache: boolean },
): Promise<SfsTreeRun> {
  const dir = await Deno.makeTempDir({ dir: bench.root, prefix: "run-sfs-tree-" });
  try {
    const outDir = join(dir, "out");
    await Deno.mkdir(outDir);
    if (options.coldCache) {
      await Deno.remove(join(bench.senderHome, HASH_CACHE_FILE)).catch(() => {});
    }
    const isTree = "files" in source;
    const limit = timeoutFor(isTree ? source.bytes : source.size, isTree ? source.files : 1);
    const timed = (file: string) =>
      options.measure && bench.rss.kind === "gnu-time"
        ? [bench.rss.bin, "-v", "-o", join(dir, file)]
        : [];
    const args = ["send", source.path, "--listen", "127.0.0.1:0", "--once", "--json", "--quiet"];
    const sendStarted = performance.now();
    await using sender = bench.res.spawn([...timed("send.time"), ...SFS_CMD, ...args], {
      home: bench.senderHome,
    });
    const ready = await sender.nextEvent((e) => e.event === "ready", limit);
    const ticketSeconds = (performance.now() - sendStarted) / 1000;
    if (typeof ready.ticket !== "string") throw new Error("sfs send printed no ticket");

    const started = performance.now();
    await using receiver = bench.res.spawn(
      [...timed("get.time"), ...SFS_CMD, "get", ready.ticket, "--out", outDir, "--json", "--quiet"],
      { home: bench.receiverHome },
    );
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
    if (typeof done?.path !== "string") throw new Error("sfs get printed no done event");
    if (isTree) {
      if (done.files !== source.files) {
        throw new Error(`sfs get reported ${done.files} files, expected ${source.files}`);
      }
      await verifyTree(done.path, source, "sfs");
    } else if (done.sha256 !== source.sha256) {
      throw new Error(`sfs get reported SHA-256 ${done.sha256}, expected ${source.sha256}`);
    }
    const usage = async (file: string) =>
      timed(file).length === 0
        ? undefined
        : parseTimeVerbose(await Deno.readTextFile(join(dir, file)).catch(() => ""));
    return {
      ticketSeconds,
      seconds,
      sender: await usage("send.time"),
      receiver: await usage("get.time"),
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Time from spawning `sfs send PATH` to its ticket; the sender is stopped right after. */
export async function ticketOnce(
  bench: Bench,
  path: string,
  options: { coldCache: boolean; limitMs: number },
): Promise<number> {
  if (options.coldCache) {
    await Deno.remove(join(bench.senderHome, HASH_CACHE_FILE)).catch(() => {});
  }
  const started = performance.now();
  await using sender = bench.res.spawn(
    [...SFS_CMD, "send", path, "--listen", "127.0.0.1:0", "--json", "--quiet"],
    { home: bench.senderHome },
  );
  const ready = await sender.nextEvent((e) => e.event === "ready", options.limitMs);
  const seconds = (performance.now() - started) / 1000;
  if (typeof ready.ticket !== "string") throw new Error("sfs send printed no ticket");
  sender.kill("SIGINT");
  await within(sender.status, 30_000, "sfs send after Ctrl-C");
  return seconds;
}

/** `scp -r FOLDER 127.0.0.1:DEST/`, timed as the whole process, checked file by file. */
export async function scpTreeOnce(bench: Bench, sshd: Sshd, source: SourceTree): Promise<number> {
  const dir = await Deno.makeTempDir({ dir: bench.root, prefix: "run-scp-tree-" });
  try {
    const dest = join(dir, "dest");
    await Deno.mkdir(dest);
    const started = performance.now();
    await using scp = bench.res.spawn([
      sshd.scp,
      "-r",
      ...sshd.args,
      source.path,
      `127.0.0.1:${dest}/`,
    ]);
    const status = await within(scp.status, timeoutFor(source.bytes, source.files), "scp -r");
    const seconds = (performance.now() - started) / 1000;
    await scp.drained();
    if (!status.success) {
      throw new Error(`scp -r exited with code ${status.code}:\n${scp.stderrText()}`);
    }
    await verifyTree(join(dest, basename(source.path)), source, "scp -r");
    return seconds;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** One row of paired runs: A's and B's seconds per counted pair, and the ratio B / A. */
export interface PairedRow {
  label: string;
  a: string;
  b: string;
  aSeconds: number[];
  bSeconds: number[];
}

/** The folder rows' results. */
export interface FolderResults {
  smallFiles: SourceTree;
  manyFiles: SourceTree;
  bigBytes: number;
  /** sfs tree vs scp -r (b = scp); undefined with the reason when scp is unavailable. */
  small: PairedRow | string;
  /** sfs tree with one big file (a) vs sfs plain file share (b). */
  big: PairedRow;
  /** Seconds to the ticket, cold then warm, per source. */
  ticket: { label: string; cold: number[]; warm: number[] }[];
  /** The many-files transfer under GNU time. */
  many: SfsTreeRun;
}

/** Runs every folder row: `warmup` then `runs` alternating pairs for the two compared rows. */
export async function folderRows(
  bench: Bench,
  sshd: Sshd | undefined,
  big: SourceFile,
  config: { smoke: boolean; runs: number; warmup: number },
): Promise<FolderResults> {
  const specs = folderSpecs(config.smoke);
  const sources = join(bench.root, "trees");
  bench.log(`folders: making ${specs.small.files} and ${specs.many.files} small files…`);
  const smallFiles = await makeTree(join(sources, "small"), specs.small);
  const manyFiles = await makeTree(join(sources, "many"), specs.many);
  const bigTree = await folderAround(big, join(sources, "bigtree"));
  const rounds = [
    ...Array.from({ length: config.warmup }, () => true),
    ...Array.from({ length: config.runs }, () => false),
  ];

  const pairs = async (
    label: string,
    a: () => Promise<number>,
    b: () => Promise<number>,
  ): Promise<{ aSeconds: number[]; bSeconds: number[] }> => {
    const aSeconds: number[] = [];
    const bSeconds: number[] = [];
    for (const [i, warmup] of rounds.entries()) {
      const sa = await a();
      const sb = await b();
      bench.log(
        `folders: ${label} ${warmup ? "warm-up" : `pair ${i - config.warmup + 1}`}: ` +
          `${formatSeconds(sa)} / ${formatSeconds(sb)} (load ${Deno.loadavg()[0].toFixed(2)})`,
      );
      if (!warmup) aSeconds.push(sa), bSeconds.push(sb);
    }
    return { aSeconds, bSeconds };
  };
  const sfsTree = (source: SourceTree | SourceFile) => async () =>
    (await sfsTreeOnce(bench, source, { measure: false, coldCache: false })).seconds;

  const smallLabel = `${specs.small.files} files of 1–10 KB in ${specs.small.folders} folders`;
  const small = sshd === undefined ? "scp unavailable" : {
    label: smallLabel,
    a: "sfs send DIR / get",
    b: "scp -r",
    ...await pairs(smallLabel, sfsTree(smallFiles), () => scpTreeOnce(bench, sshd, smallFiles)),
  };
  const bigLabel = `${formatSize(big.size)} inside a folder vs plain file`;
  const bigRow = {
    label: bigLabel,
    a: "sfs folder",
    b: "sfs file",
    ...await pairs(bigLabel, sfsTree(bigTree), sfsTree(big)),
  };

  const ticket = [];
  for (
    const [label, path, bytes, files] of [
      [`${formatSize(big.size)} file in a folder`, bigTree.path, big.size, 1],
      [`${specs.many.files} small files`, manyFiles.path, manyFiles.bytes, manyFiles.files],
    ] as const
  ) {
    const limitMs = timeoutFor(bytes, files);
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < Math.max(1, config.runs); i++) {
      cold.push(await ticketOnce(bench, path, { coldCache: true, limitMs }));
      warm.push(await ticketOnce(bench, path, { coldCache: false, limitMs }));
    }
    bench.log(
      `folders: ticket ${label}: cold ${cold.map(formatSeconds)}, warm ${warm.map(formatSeconds)}`,
    );
    ticket.push({ label, cold, warm });
  }

  bench.log(`folders: ${specs.many.files} files under GNU time…`);
  const many = await sfsTreeOnce(bench, manyFiles, { measure: true, coldCache: false });
  return { smallFiles, manyFiles, bigBytes: big.size, small, big: bigRow, ticket, many };
}

function ratios(row: PairedRow): string {
  return row.aSeconds.map((a, i) => `${(row.bSeconds[i] / a).toFixed(2)}×`).join(", ");
}

/** The folder rows as a Markdown table (ratios above 1 mean the first tool is faster). */
export function renderFolders(r: FolderResults): string {
  const lines = [
    "",
    "### Folders (issue 11)",
    "",
    "| Measurement | sfs | other | other time / sfs time (each pair) |",
    "| --- | --- | --- | --- |",
  ];
  const paired = (row: PairedRow) =>
    `| ${row.label}, median: ${row.a} vs ${row.b} | ${formatSeconds(median(row.aSeconds))} | ` +
    `${formatSeconds(median(row.bSeconds))} | ` +
    `${(median(row.bSeconds) / median(row.aSeconds)).toFixed(2)}× (${ratios(row)}) |`;
  lines.push(
    typeof r.small === "string"
      ? `| many small files vs scp -r | skipped: ${r.small} | | |`
      : paired(r.small),
  );
  lines.push(paired(r.big));
  for (const t of r.ticket) {
    lines.push(
      `| time to ticket, ${t.label}: cold / warm hash cache | ${formatSeconds(median(t.cold))} / ` +
        `${formatSeconds(median(t.warm))} | | |`,
    );
  }
  const rss = (
    u: ProcessUsage | undefined,
  ) => (u ? `${Math.round(u.peakRssKiB / 1024)} MiB` : "unmeasured");
  const cpu = (u: ProcessUsage | undefined) => (u ? `${u.cpuSeconds.toFixed(2)} s` : "–");
  lines.push(
    `| ${r.manyFiles.files} files (${
      formatSize(r.manyFiles.bytes)
    }): transfer time, peak RSS send / get, ` +
      `CPU send / get | ${formatSeconds(r.many.seconds)}, ${rss(r.many.sender)} / ${
        rss(r.many.receiver)
      }, ` +
      `${cpu(r.many.sender)} / ${cpu(r.many.receiver)} | | |`,
  );
  return lines.join("\n");
}
