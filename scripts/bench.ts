/**
 * Side-by-side benchmark of a direct-mode sfs transfer against OpenSSH `scp` on loopback, plus
 * the crypto limit of this runtime, peak RSS of both sfs processes and small-file latency
 * (issue 4, docs/PERFORMANCE.md).
 *
 * Usage: `deno task bench [--size 1GiB] [--runs 3] [--warmup 1] [--json-out bench/results.json]`
 * and `deno task bench:smoke` (4 MiB, one run each, no timing judgement; for CI).
 *
 * Progress goes to stderr, the Markdown table to stdout. Every run's copy is checked against the
 * source's SHA-256: a benchmark that moved the wrong bytes fails instead of reporting a speed.
 *
 * @module
 */

import { join } from "node:path";
import { AeadKey } from "../src/crypto/aead.ts";
import { createSha256 } from "../src/crypto/sha256.ts";
import { DEFAULT_CHUNK_SIZE, openChunk, sealChunk } from "../src/crypto/stream.ts";
import { describeChoice, installAeadBackend } from "../src/native/libcrypto.ts";
import { parseOptions, parseSize, wholeOption } from "./bench/config.ts";
import { findExecutable, tryCommand } from "./bench/commands.ts";
import { formatSize, megabytesPerSecond } from "./bench/format.ts";
import { loadBeforeStart, machineInfo } from "./bench/machine.ts";
import { type Cleanup, makeLog, runBenchmark, writeResults } from "./bench/run.ts";
import { detectRss, type RssMode } from "./bench/transfer/gnu_time.ts";
import {
  type CryptoRates,
  LATENCY_SIZE,
  renderReport,
  type RunRecord,
  SCP_CIPHER,
  summarize,
  targets,
  type TransferMachine,
} from "./bench/transfer/report.ts";
import { Resources } from "./bench/transfer/resources.ts";
import { type AloneResults, measureAlone, renderAlone } from "./bench/transfer/alone.ts";
import { type LargeRun, largeTarget, measureLarge, renderLarge } from "./bench/transfer/large.ts";
import { alternate, type Bench, makeIdentity, makeSource } from "./bench/transfer/runs.ts";
import { startRelayIndex } from "./bench/transfer/relay.ts";
import { startSshd } from "./bench/transfer/sshd.ts";
import { folderRows, renderFolders } from "./bench/folders.ts";

const USAGE = "Usage: deno task bench [--size 1GiB] [--runs 3] [--warmup 1] [--json-out FILE] " +
  "[--smoke] [--folders-only] [--alone-only]";
/** The issue asks for at least this many counted runs of each tool. */
const MIN_RUNS = 3;
/** Chunks the parallel crypto loop keeps in flight, like the sfs pipeline does. */
const CRYPTO_IN_FLIGHT = 4;
const log = makeLog("bench");

interface Config {
  size: number;
  runs: number;
  warmup: number;
  jsonOut: string | undefined;
  smoke: boolean;
  cryptoBytes: number;
  /** Only the folder rows (scripts/bench/folders.ts). */
  foldersOnly: boolean;
  /** Only each side alone and the ceilings (scripts/bench/transfer/alone.ts). */
  aloneOnly: boolean;
}

/**
 * AES-256-GCM seal/open at the sfs chunk size (one and several in flight) and SHA-256, on the
 * AES-GCM backend an sfs process of this machine chooses (SFS_CRYPTO as for sfs itself).
 */
async function measureCrypto(totalBytes: number): Promise<CryptoRates> {
  const chunkSize = DEFAULT_CHUNK_SIZE;
  const count = Math.max(1, Math.round(totalBytes / chunkSize));
  const bytes = count * chunkSize;
  const chosen = installAeadBackend(Deno.env.get("SFS_CRYPTO"));
  using key = await AeadKey.import(crypto.getRandomValues(new Uint8Array(32)));
  const plaintext = new Uint8Array(chunkSize);
  for (let off = 0; off < chunkSize; off += 65536) {
    crypto.getRandomValues(plaintext.subarray(off, Math.min(chunkSize, off + 65536)));
  }
  const sealed = await sealChunk(key, 0, false, plaintext);
  const seal = (i: number) => sealChunk(key, i, false, plaintext);
  const open = () => openChunk(key, 0, false, sealed);
  const timed = async (inFlight: number, step: (i: number) => Promise<unknown>) => {
    for (let i = 0; i < 4; i++) await step(i); // let V8 and the thread pool settle
    const started = performance.now();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      pending.push(step(i));
      if (pending.length >= inFlight) await pending.shift();
    }
    await Promise.all(pending);
    return megabytesPerSecond(bytes, (performance.now() - started) / 1000);
  };
  const sealMBps = await timed(1, seal);
  const openMBps = await timed(1, open);
  const sealParallelMBps = await timed(CRYPTO_IN_FLIGHT, seal);
  const openParallelMBps = await timed(CRYPTO_IN_FLIGHT, open);
  // The hasher a receiver uses for a large file (OpenSSL's where it loads), on this thread.
  const hasher = await createSha256();
  const started = performance.now();
  for (let i = 0; i < count; i++) hasher.update(plaintext);
  await hasher.digest();
  const sha256MBps = megabytesPerSecond(bytes, (performance.now() - started) / 1000);
  return {
    backend: describeChoice(chosen()),
    chunkSize,
    bytes,
    sealMBps,
    openMBps,
    sealParallelMBps,
    openParallelMBps,
    inFlight: CRYPTO_IN_FLIGHT,
    sha256MBps,
  };
}

/** The shared machine facts plus the OpenSSH version the scp row used. */
async function transferMachine(loadAverage: number): Promise<TransferMachine> {
  const ssh = await findExecutable("ssh");
  const openssh = ssh ? (await tryCommand([ssh, "-V"]))?.split("\n")[0] : undefined;
  return { ...await machineInfo(loadAverage), openssh: openssh ?? "not installed" };
}

/** The transfer benchmark's options, on the shared benchmark parser. */
function parseConfig(args: string[]): Config {
  const values = parseOptions(args, {
    size: { type: "string" },
    runs: { type: "string" },
    warmup: { type: "string" },
    "json-out": { type: "string" },
    smoke: { type: "boolean", default: false },
    "folders-only": { type: "boolean", default: false },
    "alone-only": { type: "boolean", default: false },
  });
  const smoke = values.smoke;
  return {
    size: parseSize(values.size ?? (smoke ? "4MiB" : "1GiB")),
    runs: wholeOption(values.runs, smoke ? 1 : MIN_RUNS, { name: "runs", min: 1 }),
    warmup: wholeOption(values.warmup, smoke ? 0 : 1, { name: "warmup", min: 0 }),
    // A smoke run must not overwrite the committed results unless asked to.
    jsonOut: values["json-out"] ?? (smoke ? undefined : "bench/results.json"),
    smoke,
    cryptoBytes: smoke ? 8 * 1024 ** 2 : 512 * 1024 ** 2,
    foldersOnly: values["folders-only"],
    aloneOnly: values["alone-only"],
  };
}

async function bench(config: Config, cleanup: Cleanup): Promise<number> {
  if (config.runs < MIN_RUNS && !config.smoke) {
    log(`warning: ${config.runs} counted run(s); issue 4 asks for at least ${MIN_RUNS}`);
  }
  const load = loadBeforeStart(log);
  const res = new Resources();
  cleanup.push(() => res.release());
  const root = await res.tempDir("sfs-bench-");
  const b: Bench = {
    res,
    root,
    senderHome: join(root, "home-sender"),
    receiverHome: join(root, "home-receiver"),
    rss: { kind: "none", reason: "not detected yet" },
    log,
  };
  log(`making two identities and a ${formatSize(config.size)} random file in ${root}…`);
  const [big, small] = await Promise.all([
    makeSource(join(root, "source", `random-${config.size}.bin`), config.size),
    makeSource(join(root, "source", `random-${LATENCY_SIZE}.bin`), LATENCY_SIZE),
    makeIdentity(res, b.senderHome),
    makeIdentity(res, b.receiverHome),
  ]);
  b.rss = await detectRss(log);
  log(b.rss.kind === "gnu-time" ? "peak RSS via GNU time -v" : `peak RSS: ${b.rss.reason}`);
  if (config.aloneOnly) {
    // The peers seal with the backend sfs would use (measureCrypto installs it otherwise).
    installAeadBackend(Deno.env.get("SFS_CRYPTO"));
    console.log(renderAlone(await measureAlone(b, big, config.runs), config.size));
    return 0;
  }
  const sshd = await startSshd(res, root, log);
  const scpSkipped = typeof sshd === "string" ? sshd : undefined;
  if (scpSkipped) log(`scp row skipped: ${scpSkipped}`);
  const relay = await startRelayIndex(res, root, log);
  if (typeof relay === "string") {
    b.relaySkipped = relay;
    log(`relayed row skipped: ${relay}`);
  } else b.relay = relay;
  const machine = await transferMachine(load);

  if (config.foldersOnly) {
    console.log(
      renderFolders(await folderRows(b, typeof sshd === "string" ? undefined : sshd, big, config)),
    );
    return 0;
  }
  log(`crypto limit over ${formatSize(config.cryptoBytes)}…`);
  const crypto = await measureCrypto(config.cryptoBytes);
  const scp = typeof sshd === "string" ? undefined : sshd;
  const records = [
    ...await alternate(b, scp, big, "transfer", config),
    ...await alternate(b, scp, small, "latency", config),
  ];
  log("each side alone…");
  const alone = await measureAlone(b, big, config.runs);
  log("peak RSS for a file four times as large…");
  const large = await measureLarge(b, big);
  const summary = summarize(records, crypto, config.size);
  console.log(renderReport(machine, config, summary, crypto, scpSkipped, b.relaySkipped));
  console.log(`\n${renderAlone(alone, config.size)}`);
  console.log(`\n${renderLarge(large)}`);
  const folders = await folderRows(b, scp, big, config);
  console.log(renderFolders(folders));

  if (config.jsonOut) {
    const results = transferResults(config, {
      machine,
      rss: b.rss,
      scpSkipped,
      relaySkipped: b.relaySkipped,
      crypto,
      records,
      alone,
      large,
    });
    await writeResults(config.jsonOut, { ...results, folders }, log);
  }
  return 0;
}

/** The results.json document: configuration, every run, the medians and the targets. */
function transferResults(config: Config, facts: {
  machine: TransferMachine;
  rss: RssMode;
  scpSkipped: string | undefined;
  relaySkipped: string | undefined;
  crypto: CryptoRates;
  records: RunRecord[];
  alone: AloneResults;
  large: LargeRun;
}): Record<string, unknown> {
  const { machine, scpSkipped, crypto, records } = facts;
  const summary = summarize(records, crypto, config.size);
  return {
    date: new Date().toISOString(),
    machine,
    config: {
      sizeBytes: config.size,
      latencyBytes: LATENCY_SIZE,
      runs: config.runs,
      warmup: config.warmup,
      smoke: config.smoke,
      scpCipher: SCP_CIPHER,
      rssMethod: facts.rss.kind,
      cryptoBytes: crypto.bytes,
    },
    loadAverageAfter: Deno.loadavg()[0],
    scpSkipped: scpSkipped ?? null,
    relaySkipped: facts.relaySkipped ?? null,
    crypto,
    runs: records,
    medians: summary,
    alone: facts.alone,
    large: facts.large,
    targets: [...targets(summary), largeTarget(facts.large)],
  };
}

if (import.meta.main) {
  Deno.exit(
    await runBenchmark({ name: "bench", usage: USAGE, parse: parseConfig, run: bench }, Deno.args),
  );
}
