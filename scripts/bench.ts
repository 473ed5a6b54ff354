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

import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DEFAULT_CHUNK_SIZE, openChunk, sealChunk } from "../src/crypto/stream.ts";
import { randomFile, sha256File } from "./lib/files.ts";
import {
  SFS_CMD,
  type SfsEvent,
  type SfsOptions,
  type SfsProcess,
  startProcess,
} from "./lib/sfs_process.ts";
import {
  type CryptoRates,
  formatRate,
  formatSeconds,
  formatSize,
  LATENCY_SIZE,
  type Machine,
  megabytesPerSecond,
  parseSize,
  parseTimeVerbose,
  type ProcessUsage,
  renderReport,
  type RunRecord,
  SCP_CIPHER,
  summarize,
  targets,
  type Test,
  type Tool,
} from "./bench_lib.ts";
import { cpuModel, readProc, sourceRevision } from "./bench_host.ts";

const USAGE =
  "Usage: deno task bench [--size 1GiB] [--runs 3] [--warmup 1] [--json-out FILE] [--smoke]";
/** The issue asks for at least this many counted runs of each tool. */
const MIN_RUNS = 3;
/** A 1-minute load average above this is worth a warning: the numbers will be noisy. */
const LOAD_WARNING = 0.5;
/** Chunks the parallel crypto loop keeps in flight, like the sfs pipeline does. */
const CRYPTO_IN_FLIGHT = 4;
const ROOT = fileURLToPath(new URL("../", import.meta.url));

interface Config {
  size: number;
  runs: number;
  warmup: number;
  jsonOut: string | undefined;
  smoke: boolean;
  cryptoBytes: number;
}

interface Measured {
  seconds: number;
  sender?: ProcessUsage;
  receiver?: ProcessUsage;
}

interface SourceFile {
  path: string;
  size: number;
  sha256: string;
}

type RssMode = { kind: "gnu-time"; bin: string } | { kind: "none"; reason: string };

interface Sshd {
  scp: string;
  args: string[];
}

/** Child processes and temp folders of this run, released even when the run fails. */
class Resources {
  readonly #procs = new Set<SfsProcess>();
  readonly #dirs: string[] = [];

  /** Starts a command whose `await using` disposal also kills its descendants. */
  spawn(command: readonly string[], options: SfsOptions = {}): SfsProcess {
    const proc = startProcess(command, options);
    this.#procs.add(proc);
    proc.status.then(() => this.#procs.delete(proc));
    return {
      ...proc,
      async [Symbol.asyncDispose]() {
        // A wrapper such as /usr/bin/time does not pass SIGKILL on to the sfs it runs.
        await killDescendants(proc.pid);
        await proc[Symbol.asyncDispose]();
      },
    };
  }

  /** Creates a temp folder that {@link release} removes. */
  async tempDir(prefix: string): Promise<string> {
    const path = await Deno.makeTempDir({ prefix });
    this.#dirs.push(path);
    return path;
  }

  /** Kills every child still running and removes the temp folders. */
  async release(): Promise<void> {
    for (const proc of this.#procs) {
      await killDescendants(proc.pid);
      proc.kill("SIGKILL");
    }
    await Promise.allSettled([...this.#procs].map((p) => p.status));
    this.#procs.clear();
    for (const dir of this.#dirs.splice(0)) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
}

/** Kills the children (and theirs) of `pid`, found through Linux's /proc; elsewhere a no-op. */
async function killDescendants(pid: number): Promise<void> {
  const found: number[] = [];
  const walk = async (parent: number): Promise<void> => {
    const text = await readProc(`/proc/${parent}/task/${parent}/children`);
    for (const child of text.trim().split(/\s+/).filter(Boolean).map(Number)) {
      found.push(child);
      await walk(child);
    }
  };
  await walk(pid);
  for (const child of found) {
    try {
      Deno.kill(child, "SIGKILL");
    } catch {
      // Exited meanwhile.
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

/** A generous bound for moving or hashing `bytes`: a minute plus 5 MB/s. */
function timeoutFor(bytes: number): number {
  return 60_000 + Math.ceil(bytes / 5e6) * 1000;
}

function log(message: string): void {
  console.error(`bench: ${message}`);
}

async function runCommand(
  command: readonly string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ success: boolean; code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const signal = AbortSignal.timeout(options.timeoutMs ?? 60_000);
  const onAbort = () => child.kill("SIGKILL");
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const { success, code, stdout, stderr } = await child.output();
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { success, code, stdout: text(stdout), stderr: text(stderr) };
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** Runs a command for its output; undefined when it cannot be run at all. */
async function tryCommand(command: readonly string[]): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await runCommand(command, { timeoutMs: 10_000 });
    return (stdout + stderr).trim();
  } catch {
    return undefined;
  }
}

/** Finds an executable on PATH or in the sbin folders (sshd lives there, often off PATH). */
async function findExecutable(name: string): Promise<string | undefined> {
  const path = Deno.env.get("PATH") ?? "";
  const dirs = [...path.split(":"), "/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/lib/openssh"];
  for (const dir of dirs.filter((d) => d.startsWith("/"))) {
    const candidate = join(dir, name);
    try {
      const info = await Deno.stat(candidate);
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** Installs Debian packages when that is possible; returns why not otherwise. */
async function aptInstall(packages: readonly string[]): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return `not Linux (${Deno.build.os})`;
  if (Deno.uid() !== 0) return "not running as root, so cannot install packages";
  const apt = await findExecutable("apt-get");
  if (!apt) return "no apt-get on this system";
  log(`installing ${packages.join(" ")} with apt-get…`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const install = [apt, "install", "-y", "--no-install-recommends", ...packages];
  let result = await runCommand(install, { env, timeoutMs: 300_000 });
  if (!result.success) {
    // A fresh machine may have no package lists yet.
    await runCommand([apt, "update"], { env, timeoutMs: 300_000 });
    result = await runCommand(install, { env, timeoutMs: 300_000 });
  }
  if (!result.success) {
    return `apt-get install ${packages.join(" ")} failed: ${
      result.stderr.trim().split("\n").at(-1)
    }`;
  }
  return undefined;
}

/**
 * Peak RSS comes from GNU `time -v`, which reports the kernel's exact maximum (from wait4) when
 * the process exits; polling /proc instead could miss a short peak.
 */
async function detectRss(): Promise<RssMode> {
  const isGnuTime = async () =>
    (await tryCommand(["/usr/bin/time", "--version"]))?.includes("GNU") ?? false;
  if (await isGnuTime()) return { kind: "gnu-time", bin: "/usr/bin/time" };
  const failure = await aptInstall(["time"]);
  if (failure === undefined && await isGnuTime()) return { kind: "gnu-time", bin: "/usr/bin/time" };
  return { kind: "none", reason: `no GNU /usr/bin/time and ${failure ?? "installing it failed"}` };
}

/** Sets up and starts a throw-away sshd on a free loopback port; a string says why not. */
async function startSshd(res: Resources, root: string): Promise<Sshd | string> {
  if (Deno.build.os === "windows") return "this script does not run sshd on Windows";
  let [sshd, scp, keygen] = await Promise.all(
    ["sshd", "scp", "ssh-keygen"].map(findExecutable),
  );
  if (!sshd || !scp || !keygen) {
    const failure = await aptInstall(["openssh-server", "openssh-client"]);
    if (failure) return `sshd, scp or ssh-keygen is missing and ${failure}`;
    [sshd, scp, keygen] = await Promise.all(["sshd", "scp", "ssh-keygen"].map(findExecutable));
    if (!sshd || !scp || !keygen) return "openssh-server was installed but sshd is still missing";
  }
  const dir = join(root, "ssh");
  await Deno.mkdir(dir, { mode: 0o700 });
  const hostKey = join(dir, "host_ed25519");
  const userKey = join(dir, "user_ed25519");
  for (const key of [hostKey, userKey]) {
    const made = await runCommand([keygen, "-q", "-t", "ed25519", "-N", "", "-f", key]);
    if (!made.success) throw new Error(`ssh-keygen failed: ${made.stderr}`);
  }
  const authorizedKeys = join(dir, "authorized_keys");
  await Deno.copyFile(`${userKey}.pub`, authorizedKeys);
  if (Deno.uid() === 0) {
    // sshd insists on its privilege-separation folder, root-owned and not writable by others.
    await Deno.mkdir("/run/sshd", { recursive: true, mode: 0o755 }).catch(() => {});
  }
  const sftpServer = await findExecutable("sftp-server");
  const port = freeLoopbackPort();
  const config = join(dir, "sshd_config");
  await Deno.writeTextFile(
    config,
    [
      "ListenAddress 127.0.0.1",
      `Port ${port}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "PermitRootLogin prohibit-password",
      "StrictModes no",
      "UsePAM no",
      "PrintMotd no",
      // scp speaks SFTP by default since OpenSSH 9.0, so the server needs the subsystem.
      `Subsystem sftp ${sftpServer ?? "internal-sftp"}`,
      "",
    ].join("\n"),
  );
  const test = await runCommand([sshd, "-t", "-f", config]);
  if (!test.success) return `sshd rejects its config: ${test.stderr.trim()}`;
  const proc = res.spawn([sshd, "-D", "-e", "-f", config]);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      break;
    } catch {
      const exited = await Promise.race([proc.status, delay(50).then(() => undefined)]);
      if (exited) return `sshd exited with code ${exited.code}: ${proc.stderrText().trim()}`;
      if (Date.now() > deadline) return `sshd did not listen on 127.0.0.1:${port} within 10 s`;
    }
  }
  // Options both ssh and scp take; the port flag differs (-p for ssh, -P for scp).
  const common = [
    "-c",
    SCP_CIPHER,
    "-i",
    userKey,
    "-F",
    "/dev/null",
    ...["IdentitiesOnly=yes", "StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null"]
      .flatMap((o) => ["-o", o]),
    ...["BatchMode=yes", "LogLevel=ERROR"].flatMap((o) => ["-o", o]),
  ];
  // One login first: a machine where it cannot work (no shell, no privilege separation user…)
  // skips the row, so a failure during the runs means the benchmark itself is broken.
  const ssh = await findExecutable("ssh");
  if (!ssh) return "ssh is missing";
  const probe = await runCommand([ssh, ...common, "-p", String(port), "127.0.0.1", "true"]);
  if (!probe.success) {
    return `ssh login to the throw-away sshd failed: ${probe.stderr.trim()} ${
      proc.stderrText().trim().split("\n").slice(-3).join(" ")
    }`;
  }
  return { scp, args: ["-q", ...common, "-P", String(port)] };
}

function freeLoopbackPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function makeIdentity(res: Resources, home: string): Promise<void> {
  await using proc = res.spawn([...SFS_CMD, "keygen", "--json", "--quiet"], {
    home,
    env: { SFS_PASSPHRASE: "" },
  });
  const status = await within(proc.status, 60_000, "sfs keygen");
  await proc.drained();
  if (!status.success) throw new Error(`sfs keygen failed:\n${proc.stderrText()}`);
}

async function makeSource(path: string, size: number): Promise<SourceFile> {
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
interface Bench {
  res: Resources;
  root: string;
  senderHome: string;
  receiverHome: string;
  rss: RssMode;
}

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

/** One sfs transfer: sender listening first, then `sfs get` timed from spawn to exit. */
async function sfsOnce(bench: Bench, source: SourceFile, measure: boolean): Promise<Measured> {
  const dir = await Deno.makeTempDir({ dir: bench.root, prefix: "run-sfs-" });
  try {
    const outDir = join(dir, "out");
    await Deno.mkdir(outDir);
    const limit = timeoutFor(source.size);
    const send = spawnMeasured(
      bench,
      ["send", source.path, "--listen", "127.0.0.1:0", "--once", "--json", "--quiet"],
      { home: bench.senderHome, timeFile: join(dir, "send.time"), measure },
    );
    await using sender = send.proc;
    const ready = await sender.nextEvent((e) => e.event === "ready", limit);
    if (typeof ready.ticket !== "string") throw new Error("sfs send printed no ticket");

    const started = performance.now();
    const get = spawnMeasured(
      bench,
      ["get", ready.ticket, "--out", outDir, "--json", "--quiet"],
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

/** Warm-up pairs, then counted pairs, alternating sfs and scp. */
async function alternate(
  bench: Bench,
  sshd: Sshd | undefined,
  source: SourceFile,
  test: Test,
  config: Config,
): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  const rounds = [
    ...Array.from({ length: config.warmup }, (_, i) => ({ warmup: true, pair: i + 1 })),
    ...Array.from({ length: config.runs }, (_, i) => ({ warmup: false, pair: i + 1 })),
  ];
  for (const { warmup, pair } of rounds) {
    const label = `${test} ${warmup ? "warm-up" : "run"} ${pair}`;
    const sfs = await sfsOnce(bench, source, test === "transfer");
    records.push({
      test,
      tool: "sfs",
      warmup,
      pair,
      bytes: source.size,
      seconds: sfs.seconds,
      sha256Verified: true,
      sender: sfs.sender,
      receiver: sfs.receiver,
    });
    const usage = (u: ProcessUsage) =>
      `${Math.round(u.peakRssKiB / 1024)} MiB, ${u.cpuSeconds.toFixed(2)} s CPU`;
    const rss = sfs.sender && sfs.receiver
      ? `; send ${usage(sfs.sender)}; get ${usage(sfs.receiver)}`
      : "";
    const rate = (seconds: number) =>
      test === "transfer" ? ` (${formatRate(source.size, seconds)})` : "";
    log(`${label}: sfs ${formatSeconds(sfs.seconds)}${rate(sfs.seconds)}${rss}`);
    if (sshd) {
      const scp = await scpOnce(bench, sshd, source);
      records.push({
        test,
        tool: "scp",
        warmup,
        pair,
        bytes: source.size,
        seconds: scp.seconds,
        sha256Verified: true,
      });
      log(`${label}: scp ${formatSeconds(scp.seconds)}${rate(scp.seconds)}`);
    }
  }
  return records;
}

/** AES-256-GCM seal/open at the sfs chunk size (one and several in flight) and SHA-256. */
async function measureCrypto(totalBytes: number): Promise<CryptoRates> {
  const chunkSize = DEFAULT_CHUNK_SIZE;
  const count = Math.max(1, Math.round(totalBytes / chunkSize));
  const bytes = count * chunkSize;
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
    "encrypt",
    "decrypt",
  ]);
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
  const hasher = createHash("sha256");
  const started = performance.now();
  for (let i = 0; i < count; i++) hasher.update(plaintext);
  hasher.digest();
  const sha256MBps = megabytesPerSecond(bytes, (performance.now() - started) / 1000);
  return {
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

/** Describes this machine; `loadAverage` is the one seen before the benchmark made any load. */
async function machineInfo(loadAverage: number): Promise<Machine> {
  const cpuinfo = await readProc("/proc/cpuinfo");
  const cpu = cpuModel(cpuinfo) ??
    (Deno.build.os === "darwin"
      ? await tryCommand(["sysctl", "-n", "machdep.cpu.brand_string"])
      : undefined) ??
    "unknown CPU";
  const deno = (await tryCommand([Deno.execPath(), "--version"]))?.split("\n")[0] ?? "unknown";
  const ssh = await findExecutable("ssh");
  const openssh = ssh ? (await tryCommand([ssh, "-V"]))?.split("\n")[0] : undefined;
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    memoryBytes: Deno.systemMemoryInfo().total,
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno,
    openssh: openssh ?? "not installed",
    ...await sourceRevision(ROOT),
    loadAverage,
  };
}

function parseConfig(args: string[]): Config {
  const { values, positionals } = parseArgs({
    args,
    options: {
      size: { type: "string" },
      runs: { type: "string" },
      warmup: { type: "string" },
      "json-out": { type: "string" },
      smoke: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) throw new UsageError("");
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"`);
  const smoke = values.smoke;
  const count = (text: string | undefined, fallback: number, name: string, min: number) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) {
      throw new UsageError(`--${name} must be a whole number ≥ ${min}, not "${text}"`);
    }
    return n;
  };
  return {
    size: parseSize(values.size ?? (smoke ? "4MiB" : "1GiB")),
    runs: count(values.runs, smoke ? 1 : MIN_RUNS, "runs", 1),
    warmup: count(values.warmup, smoke ? 0 : 1, "warmup", 0),
    // A smoke run must not overwrite the committed results unless asked to.
    jsonOut: values["json-out"] ?? (smoke ? undefined : "bench/results.json"),
    smoke,
    cryptoBytes: smoke ? 8 * 1024 ** 2 : 512 * 1024 ** 2,
  };
}

class UsageError extends Error {}

async function bench(config: Config, res: Resources): Promise<void> {
  if (config.runs < MIN_RUNS && !config.smoke) {
    log(`warning: ${config.runs} counted run(s); issue 4 asks for at least ${MIN_RUNS}`);
  }
  const load = Deno.loadavg()[0];
  if (load > LOAD_WARNING) {
    log(`warning: load average ${load.toFixed(2)}; other work on this machine skews the numbers`);
  }
  const root = await res.tempDir("sfs-bench-");
  const b: Bench = {
    res,
    root,
    senderHome: join(root, "home-sender"),
    receiverHome: join(root, "home-receiver"),
    rss: { kind: "none", reason: "not detected yet" },
  };
  log(`making two identities and a ${formatSize(config.size)} random file in ${root}…`);
  const [big, small] = await Promise.all([
    makeSource(join(root, "source", `random-${config.size}.bin`), config.size),
    makeSource(join(root, "source", `random-${LATENCY_SIZE}.bin`), LATENCY_SIZE),
    makeIdentity(res, b.senderHome),
    makeIdentity(res, b.receiverHome),
  ]);
  b.rss = await detectRss();
  log(b.rss.kind === "gnu-time" ? "peak RSS via GNU time -v" : `peak RSS: ${b.rss.reason}`);
  const sshd = await startSshd(res, root);
  const scpSkipped = typeof sshd === "string" ? sshd : undefined;
  if (scpSkipped) log(`scp row skipped: ${scpSkipped}`);
  const machine = await machineInfo(load);

  log(`crypto limit over ${formatSize(config.cryptoBytes)}…`);
  const crypto = await measureCrypto(config.cryptoBytes);
  const scp = typeof sshd === "string" ? undefined : sshd;
  const records = [
    ...await alternate(b, scp, big, "transfer", config),
    ...await alternate(b, scp, small, "latency", config),
  ];
  const summary = summarize(records, crypto, config.size);
  console.log(renderReport(machine, config, summary, crypto, scpSkipped));

  if (config.jsonOut) {
    const results = {
      date: new Date().toISOString(),
      machine,
      config: {
        sizeBytes: config.size,
        latencyBytes: LATENCY_SIZE,
        runs: config.runs,
        warmup: config.warmup,
        smoke: config.smoke,
        scpCipher: SCP_CIPHER,
        rssMethod: b.rss.kind,
        cryptoBytes: crypto.bytes,
      },
      loadAverageAfter: Deno.loadavg()[0],
      scpSkipped: scpSkipped ?? null,
      crypto,
      runs: records,
      medians: summary,
      targets: targets(summary),
    };
    await Deno.mkdir(dirname(config.jsonOut), { recursive: true });
    await Deno.writeTextFile(config.jsonOut, `${JSON.stringify(results, null, 2)}\n`);
    log(`wrote ${config.jsonOut}`);
  }
}

async function main(args: string[]): Promise<number> {
  let config: Config;
  try {
    config = parseConfig(args);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (message) console.error(`bench: error: ${message}`);
    console.error(USAGE);
    return err instanceof UsageError && message === "" ? 0 : 2;
  }
  const res = new Resources();
  // Ctrl-C must not leave sshd, sfs or gigabytes of temp files behind.
  const onSignal = () => {
    log("interrupted; cleaning up");
    res.release().finally(() => Deno.exit(130));
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  try {
    await bench(config, res);
    return 0;
  } catch (err) {
    console.error(`bench: error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await res.release();
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
