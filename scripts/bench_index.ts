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

import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { toHex } from "../src/crypto/bytes.ts";
import { ByteReader, ByteWriter } from "../src/crypto/encoding.ts";
import { formatFingerprint, generateIdentity, type Identity } from "../src/crypto/identity.ts";
import { exportIdentity, importIdentity } from "../src/crypto/keystore.ts";
import {
  decodeAnnouncement,
  encodeSignatureSet,
  signAnnouncement,
  verifyAnnouncement,
  verifyListing,
} from "../src/index/announcement.ts";
import { hashPassword } from "../src/index/password.ts";
import { type Announcement, IndexStore } from "../src/index/store.ts";
import { fileIdOf } from "../src/wire/file_id.ts";
import type { WireListing } from "../src/wire/messages.ts";
import { SFS_CMD } from "../tests/harness.ts";
import {
  type ClientSpec,
  type FromWorker,
  type GroupInit,
  type LatencyStats,
  latencyStats,
  listingFields,
  LISTINGS_PER_WORD,
  LoadGroup,
  makeVocabulary,
  type PhaseKind,
  type PhasePlan,
  type PhaseResult,
  type PoolItem,
  PRIVATE_SHARE,
  QUERY_MIX,
  SEARCH_LIMIT,
  TAGS,
  type ToWorker,
} from "./bench_index_lib.ts";
import { markdownTable } from "./bench_lib.ts";
import { cpuModel, readProc, sourceRevision } from "./bench_host.ts";

const USAGE = "Usage: deno task bench:index [--clients 64] [--listings 100000] [--seconds 10]\n" +
  "  [--users 16] [--load-workers 2] [--search-rates 3000,1000] [--announce-pool 20000] [--seed 1]\n" +
  "  [--phases search,paced,announce,mixed] [--json-out FILE] [--no-cache]\n" +
  "  [--server-cpu-prof DIR] [--server-flags FLAGS] [--server-log FILE] [--smoke]";
const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** Targets of issue 4. */
const TARGET = { searchesPerSecond: 3000, announcementsPerSecond: 1000, searchP99Ms: 25 };
/** Bump when the corpus (fields, vocabulary, file layout) changes, so old caches are ignored. */
const CACHE_VERSION = 1;
const CACHE_ROOT = join(tmpdir(), "sfs-bench-index-cache");
/** Signatures in flight while building the corpus (WebCrypto signs on a thread pool). */
const SIGN_CONCURRENCY = 8;
const PREFILL_BATCH = 1000;
/** Listings of the pre-fill re-verified from a cached corpus, as a check on the cache. */
const CACHE_SPOT_CHECKS = 64;
const PASSWORD = "bench password, never used to log in";
const LOAD_WARNING = 0.5;

interface Config {
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
}

class UsageError extends Error {}

function log(message: string): void {
  console.error(`bench:index: ${message}`);
}

// Set-up: identities, signed corpus, database

interface Corpus {
  server: Identity;
  serverText: string;
  users: { name: string; identity: Identity; text: string }[];
  /** Signed announcements: the first `listings` pre-fill the database, the rest are the pool. */
  items: PoolItem[];
  fromCache: boolean;
  seconds: number;
}

function userName(u: number): string {
  return `bench-${String(u).padStart(3, "0")}`;
}

function cacheDir(config: Config): string {
  return join(
    CACHE_ROOT,
    `v${CACHE_VERSION}-seed${config.seed}-u${config.users}-n${config.listings}-p${config.announcePool}`,
  );
}

async function loadCorpus(config: Config): Promise<Corpus | undefined> {
  const dir = cacheDir(config);
  try {
    const started = performance.now();
    const ids = JSON.parse(await Deno.readTextFile(join(dir, "identities.json")));
    const bytes = await Deno.readFile(join(dir, "corpus.bin"));
    const reader = new ByteReader(bytes, "bench corpus");
    const count = reader.u32();
    const items: PoolItem[] = [];
    for (let i = 0; i < count; i++) {
      items.push({
        bytes: reader.bytes16(65535),
        rsa: reader.bytes16(65535),
        ed25519: reader.bytes16(65535),
      });
    }
    reader.end();
    if (count !== config.listings + config.announcePool) return undefined;
    const users = await Promise.all(
      (ids.users as string[]).map(async (text, u) => ({
        name: userName(u),
        identity: await importIdentity(text),
        text,
      })),
    );
    return {
      server: await importIdentity(ids.server),
      serverText: ids.server,
      users,
      items,
      fromCache: true,
      seconds: (performance.now() - started) / 1000,
    };
  } catch {
    return undefined;
  }
}

async function saveCorpus(config: Config, corpus: Corpus): Promise<void> {
  const dir = cacheDir(config);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const writer = new ByteWriter().u32(corpus.items.length);
  for (const item of corpus.items) {
    writer.bytes16(item.bytes).bytes16(item.rsa).bytes16(item.ed25519);
  }
  const ids = { server: corpus.serverText, users: corpus.users.map((u) => u.text) };
  // Temp file then rename: a run interrupted mid-write leaves no half cache behind.
  for (
    const [name, data] of [
      ["identities.json", new TextEncoder().encode(JSON.stringify(ids))],
      ["corpus.bin", writer.finish()],
    ] as const
  ) {
    const temp = join(dir, `${name}.${crypto.randomUUID()}`);
    await Deno.writeFile(temp, data, { mode: 0o600 });
    await Deno.rename(temp, join(dir, name));
  }
}

/** Address user `u` serves its files from (documentation range; nothing connects to it). */
function addressOf(u: number): string {
  return `192.0.2.${(u % 250) + 1}:${7000 + u}`;
}

async function buildCorpus(config: Config): Promise<Corpus> {
  const started = performance.now();
  log(`generating ${config.users} user identities and the server's (RSA-3072 ×2 each)…`);
  const identities = await Promise.all(
    Array.from({ length: config.users + 1 }, () => generateIdentity()),
  );
  const texts = await Promise.all(identities.map((identity) => exportIdentity(identity)));
  const users = identities.slice(1).map((identity, u) => ({
    name: userName(u),
    identity,
    text: texts[u + 1],
  }));
  const total = config.listings + config.announcePool;
  log(`signing ${total.toLocaleString("en-US")} announcements (RSA-PSS + Ed25519)…`);
  const vocab = makeVocabulary(config.seed, config.listings);
  const names = users.map((u) => u.name);
  const items = new Array<PoolItem>(total);
  const now = Date.now();
  let nextIndex = 0;
  let lastReport = performance.now();
  await Promise.all(Array.from({ length: SIGN_CONCURRENCY }, async () => {
    while (nextIndex < total) {
      const i = nextIndex++;
      const u = i % config.users;
      const user = users[u];
      const f = listingFields(vocab, i, { seed: config.seed, users: config.users });
      const fingerprint = user.identity.public.fingerprint;
      const signed = await signAnnouncement(user.identity, {
        fileId: await fileIdOf(fingerprint, f.sha256, f.name),
        owner: user.name,
        ownerFingerprint: fingerprint,
        name: f.name,
        size: f.size,
        sha256: f.sha256,
        keywords: f.keywords,
        recipients: f.recipients.filter((r) => r !== u).map((r) => names[r]).sort(),
        address: addressOf(u),
        // Pre-fill listings were announced over the past weeks, one a minute; the pool is new.
        createdAt: i < config.listings ? now - (config.listings - i) * 60_000 : now,
      });
      items[i] = {
        bytes: signed.bytes,
        rsa: signed.signatures.rsa!,
        ed25519: signed.signatures.ed25519!,
      };
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        const rate = i / ((lastReport - started) / 1000);
        log(`  ${i.toLocaleString("en-US")} signed (${Math.round(rate)}/s)`);
      }
    }
  }));
  return {
    server: identities[0],
    serverText: texts[0],
    users,
    items,
    fromCache: false,
    seconds: (performance.now() - started) / 1000,
  };
}

interface Prefill {
  dbPath: string;
  seconds: number;
  dbBytes: number;
}

/**
 * Registers the users and stores the pre-fill listings straight through IndexStore, the way the
 * server's ANNOUNCE handler stores them: the same fields, signatures and checks.
 */
async function prefill(config: Config, corpus: Corpus, dir: string): Promise<Prefill> {
  const started = performance.now();
  const dbPath = join(dir, "index.db");
  const store = IndexStore.open(dbPath);
  try {
    // One hash for all: the users never log in with a password (they use AUTH).
    const passwordHash = await hashPassword(PASSWORD);
    const userIds = corpus.users.map((u) =>
      store.createUser({
        username: u.name,
        passwordHash,
        identity: u.identity.public.encoded,
        fingerprint: formatFingerprint(u.identity.public.fingerprint),
      })
    );
    userIds.forEach((id, u) => store.setOnline(id, `prefill-${u}`, addressOf(u)));
    let batch: Announcement[] = [];
    for (let i = 0; i < config.listings; i++) {
      const u = i % config.users;
      const item = corpus.items[i];
      // A cached corpus is spot-checked against the registered keys the real path would use.
      if (corpus.fromCache && i % Math.ceil(config.listings / CACHE_SPOT_CHECKS) === 0) {
        await verifyAnnouncement(
          item.bytes,
          { rsa: item.rsa, ed25519: item.ed25519 },
          corpus.users[u].identity.public,
        );
      }
      const a = decodeAnnouncement(item.bytes);
      if (a.owner !== corpus.users[u].name) throw new Error(`Corpus item ${i} has the wrong owner`);
      batch.push({
        id: toHex(a.fileId),
        ownerId: userIds[u],
        sessionId: `prefill-${u}`,
        name: a.name,
        size: a.size,
        sha256: toHex(a.sha256),
        keywords: a.keywords,
        recipients: a.recipients,
        address: a.address,
        createdAt: a.createdAt,
        announcement: item.bytes,
        signature: encodeSignatureSet({ rsa: item.rsa, ed25519: item.ed25519 }),
      });
      if (batch.length === PREFILL_BATCH || i === config.listings - 1) {
        store.announceMany(batch);
        batch = [];
      }
    }
  } finally {
    store.close();
  }
  const dbBytes = (await Deno.stat(dbPath)).size;
  return { dbPath, seconds: (performance.now() - started) / 1000, dbBytes };
}

// The server process

interface Server {
  readonly pid: number;
  readonly port: number;
  readonly fingerprint: string;
  /** JSON log lines after `listening`, and how many were `error` events. */
  readonly logLines: () => { lines: number; errors: string[] };
  stop(): Promise<Deno.CommandStatus>;
  kill(): void;
}

async function startServer(config: Config, dir: string, corpus: Corpus): Promise<Server> {
  await Deno.writeTextFile(join(dir, "server-identity.json"), corpus.serverText, { mode: 0o600 });
  const [deno, run, ...rest] = SFS_CMD;
  const profile = config.serverCpuProf === undefined
    ? []
    : ["--cpu-prof", `--cpu-prof-dir=${config.serverCpuProf}`];
  const logFile = config.serverLog === undefined
    ? undefined
    : await Deno.open(config.serverLog, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  const keep = (text: string) => logFile?.writeSync(encoder.encode(text));
  const child = new Deno.Command(deno, {
    args: [
      run,
      ...profile,
      ...config.serverFlags,
      ...rest,
      "server",
      "--listen",
      "127.0.0.1:0",
      "--db",
      join(dir, "index.db"),
      "--json",
      // Each benchmark user holds thousands of listings, far past the default quota.
      "--max-listings-per-user",
      "100000000",
    ],
    env: { SFS_HOME: join(dir, "home"), NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const stderrDone = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      keep(chunk);
      // Only the tail matters (why it died); keep it bounded.
      stderr = (stderr + chunk).slice(-8192);
    }
  })();
  let lines = 0;
  let started = false;
  const errors: string[] = [];
  const listening = Promise.withResolvers<Record<string, unknown>>();
  // The server logs every event on stdout; reading it promptly keeps its writes from blocking.
  const stdoutDone = (async () => {
    let rest = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        keep(`${line}\n`);
        if (!started) {
          // Lines before "listening" can only be runtime output (V8 traces, say): logged only.
          if (line.startsWith('{"event":"listening"')) {
            started = true;
            listening.resolve(JSON.parse(line));
          }
          continue;
        }
        lines++;
        if (line.includes('"event":"error"') && errors.length < 10) errors.push(line);
      }
    }
    listening.reject(new Error(`The server exited before listening:\n${stderr}`));
  })();
  const timer = setTimeout(
    () => listening.reject(new Error(`The server did not start within 60 s:\n${stderr}`)),
    60_000,
  );
  let event: Record<string, unknown>;
  try {
    event = await listening.promise;
  } catch (err) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
  if (event.event !== "listening") {
    throw new Error(`Unexpected first event ${JSON.stringify(event)}`);
  }
  return {
    pid: child.pid,
    port: Number(event.port),
    fingerprint: String(event.fingerprint),
    logLines: () => ({ lines, errors }),
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      const status = await child.status;
      await Promise.allSettled([stdoutDone, stderrDone]);
      logFile?.close();
      return status;
    },
    kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    },
  };
}

/** User + system CPU seconds of a process so far, or NaN when unknown. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readProc(`/proc/${pid}/stat`);
  // Fields after the parenthesised command name; utime and stime are the 12th and 13th there.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) && stat !== "" ? ticks / 100 : NaN;
}

/** Memory of a process from /proc/PID/status, in bytes (NaN when unknown). */
interface Memory {
  /** Peak resident set ("high water mark"). */
  peak: number;
  rss: number;
  /** Resident anonymous memory: heaps, buffers, SQLite's page cache. */
  anon: number;
  /** Resident file-backed pages: the executable and the memory-mapped database. */
  file: number;
}

async function memory(pid: number): Promise<Memory> {
  const status = await readProc(`/proc/${pid}/status`);
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s*(\\d+) kB`, "m").exec(status);
    return match ? Number(match[1]) * 1024 : NaN;
  };
  return {
    peak: field("VmHWM"),
    rss: field("VmRSS"),
    anon: field("RssAnon"),
    file: field("RssFile"),
  };
}

// Load generation

/** The clients, split over the main thread or some workers. */
interface Load {
  connect: number[];
  run(plan: PhasePlan): Promise<PhaseResult[]>;
  close(): void;
}

function clientSpecs(config: Config, corpus: Corpus): ClientSpec[] {
  const specs: ClientSpec[] = Array.from({ length: config.clients }, (_, c) => {
    const user = corpus.users[c % config.users];
    return { index: c, username: user.name, identityText: user.text, pool: [] };
  });
  // Pool item i belongs to user i % users; each user's items are dealt out to its clients.
  const byUser = Array.from({ length: config.users }, () => [] as ClientSpec[]);
  for (const spec of specs) byUser[spec.index % config.users].push(spec);
  const dealt = new Array<number>(config.users).fill(0);
  for (let i = config.listings; i < corpus.items.length; i++) {
    const u = i % config.users;
    const clients = byUser[u];
    if (clients.length === 0) continue;
    clients[dealt[u]++ % clients.length].pool.push(corpus.items[i]);
  }
  return specs;
}

async function startLoad(config: Config, server: Server, corpus: Corpus): Promise<Load> {
  const specs = clientSpecs(config, corpus);
  const base: Omit<GroupInit, "clients"> = {
    hostname: "127.0.0.1",
    port: server.port,
    fingerprint: server.fingerprint,
    seed: config.seed,
    listings: config.listings,
    totalClients: config.clients,
  };
  if (config.loadWorkers === 0) {
    const { group, connect } = await LoadGroup.connect({ ...base, clients: specs });
    return {
      connect,
      run: async (plan) => [await group.run(plan)],
      close: () => group.close(),
    };
  }
  const groups = Array.from(
    { length: config.loadWorkers },
    (_, w) => specs.filter((s) => s.index % config.loadWorkers === w),
  );
  const workers = groups.map(() =>
    new Worker(new URL("./bench_index_lib.ts", import.meta.url), { type: "module" })
  );
  const call = (worker: Worker, message: ToWorker): Promise<FromWorker> =>
    new Promise((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<FromWorker>) => {
        if (event.data.type === "error") reject(new Error(`Load worker: ${event.data.message}`));
        else resolve(event.data);
      };
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(`Load worker failed: ${event.message}`));
      };
      worker.postMessage(message);
    });
  try {
    const ready = await Promise.all(
      workers.map((worker, w) =>
        call(worker, { type: "init", init: { ...base, clients: groups[w] } })
      ),
    );
    return {
      connect: ready.flatMap((r) => r.type === "ready" ? r.connect : []),
      run: async (plan) => {
        const replies = await Promise.all(
          workers.map((worker) => call(worker, { type: "phase", plan })),
        );
        return replies.flatMap((r) => r.type === "phase" ? [r.result] : []);
      },
      close: () => {
        for (const worker of workers) worker.terminate();
      },
    };
  } catch (err) {
    for (const worker of workers) worker.terminate();
    throw err;
  }
}

// Phases and results

interface PhaseSpec {
  name: string;
  kind: PhaseKind;
  seconds: number;
  rate?: number;
  searchShare: number;
  counted: boolean;
}

interface KindReport {
  count: number;
  perSecond: number;
  latencyMs: LatencyStats;
}

interface PhaseReport {
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
  serverRssBytes: number;
}

/** Phase keys `--phases` accepts, in the order they run. */
const PHASE_KEYS = ["search", "paced", "announce", "mixed"] as const;
type PhaseKey = typeof PHASE_KEYS[number];

function phases(config: Config): PhaseSpec[] {
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

function pacedName(rate: number): string {
  return `search @ ${rate.toLocaleString("en-US")}/s`;
}

async function runPhase(load: Load, server: Server, spec: PhaseSpec): Promise<{
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
  const [serverCpu0, benchCpu0] = await Promise.all([cpuSeconds(server.pid), cpuSeconds(Deno.pid)]);
  const wall0 = Date.now();
  const results = await load.run(plan);
  const wall = (Date.now() - wall0) / 1000;
  const [serverCpu1, benchCpu1, rss] = await Promise.all([
    cpuSeconds(server.pid),
    cpuSeconds(Deno.pid),
    memory(server.pid),
  ]);
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
    report: {
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
      // The sampling itself (two `cat`s) is outside the wall time, so these are upper bounds.
      serverCpuPercent: (100 * (serverCpu1 - serverCpu0)) / wall,
      benchCpuPercent: (100 * (benchCpu1 - benchCpu0)) / wall,
      serverRssBytes: rss.rss,
    },
    replies: results.flatMap((r) => r.replies),
  };
}

/** Verifies sampled replies as a receiver would: every listing against its owner's key. */
async function verifyReplies(replies: WireListing[][], corpus: Corpus): Promise<number> {
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

interface Machine {
  cpu: string;
  cores: number;
  memoryBytes: number;
  os: string;
  deno: string;
  sfsCommit: string | null;
  sfsSourceModified: boolean | null;
  loadAverage: number;
}

async function machineInfo(): Promise<Machine> {
  const cpuinfo = await readProc("/proc/cpuinfo");
  return {
    cpu: cpuModel(cpuinfo) ?? "unknown CPU",
    cores: navigator.hardwareConcurrency,
    memoryBytes: Deno.systemMemoryInfo().total,
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: `deno ${Deno.version.deno}`,
    ...await sourceRevision(ROOT),
    loadAverage: Deno.loadavg()[0],
  };
}

interface TargetResult {
  name: string;
  goal: string;
  value: string;
  met: boolean | null;
}

function judge(config: Config, reports: PhaseReport[]): TargetResult[] {
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

function ms(value: number): string {
  return Number.isNaN(value) ? "—" : value < 10 ? value.toFixed(2) : value.toFixed(1);
}

function mib(bytes: number): string {
  return Number.isNaN(bytes) ? "—" : `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
}

function renderReport(
  config: Config,
  machine: Machine,
  reports: PhaseReport[],
  targets: TargetResult[],
  extra: {
    memory: Memory;
    connect: LatencyStats;
    corpus: Corpus;
    prefill: Prefill;
    verified: number;
  },
): string {
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
      ]);
    }
  }
  const table = markdownTable(
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
    ],
    rows,
  );
  const targetTable = markdownTable(
    ["target", "goal", "measured", "met"],
    targets.map((
      t,
    ) => [t.name, t.goal, t.value, t.met === null ? "n/a (smoke)" : t.met ? "yes" : "**no**"]),
  );
  const search = reports.find((r) => r.name === "search");
  const announce = reports.find((r) => r.name === "announce");
  return [
    `## Index server benchmark${config.smoke ? " (smoke)" : ""}`,
    "",
    `${machine.cpu}, ${machine.cores} cores, ${mib(machine.memoryBytes)} RAM, ${machine.os}, ` +
    `${machine.deno}; load average ${machine.loadAverage.toFixed(2)} at start. ` +
    `sfs ${machine.sfsCommit?.slice(0, 12) ?? "unknown"}${
      machine.sfsSourceModified ? " (modified)" : ""
    }.`,
    "",
    `${config.clients} clients (${config.users} users, AUTH), ${
      config.loadWorkers === 0
        ? "in the bench's main thread"
        : `in ${config.loadWorkers} worker threads`
    }; ${config.listings.toLocaleString("en-US")} listings; ${config.seconds} s per phase. ` +
    `Searches ask for ${SEARCH_LIMIT} per page (the \`sfs search\` default) and returned ` +
    `${search?.meanListingsPerSearch?.toFixed(1) ?? "—"} listings on average.`,
    "",
    table,
    "",
    targetTable,
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

// Main

async function bench(config: Config, cleanup: (() => Promise<void> | void)[]): Promise<number> {
  const load0 = Deno.loadavg()[0];
  if (load0 > LOAD_WARNING) {
    log(`warning: load average ${load0.toFixed(2)}; other work on this machine skews the numbers`);
  }
  const dir = await Deno.makeTempDir({ prefix: "sfs-bench-index-" });
  cleanup.push(() => Deno.remove(dir, { recursive: true }).catch(() => {}));

  let corpus = config.cache ? await loadCorpus(config) : undefined;
  if (corpus) log(`signed corpus loaded from ${cacheDir(config)}`);
  else {
    corpus = await buildCorpus(config);
    log(`signed in ${corpus.seconds.toFixed(1)} s`);
    if (config.cache) await saveCorpus(config, corpus);
  }
  log(`pre-filling ${config.listings.toLocaleString("en-US")} listings into ${dir}…`);
  const filled = await prefill(config, corpus, dir);
  log(`pre-filled in ${filled.seconds.toFixed(1)} s (${mib(filled.dbBytes)})`);

  const server = await startServer(config, dir, corpus);
  cleanup.push(() => server.kill());
  log(`server pid ${server.pid} on 127.0.0.1:${server.port}`);
  const machine = await machineInfo();

  log(`connecting ${config.clients} clients…`);
  const load = await startLoad(config, server, corpus);
  cleanup.push(() => load.close());
  const connect = latencyStats(load.connect);

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
  const serverMemory = await memory(server.pid);
  load.close();
  const verified = await verifyReplies(replies, corpus);
  const serverLog = server.logLines();
  const status = await server.stop();
  if (config.serverCpuProf) log(`server CPU profile written to ${config.serverCpuProf}`);

  const targets = judge(config, reports);
  console.log(
    renderReport(config, machine, reports, targets, {
      memory: serverMemory,
      connect,
      corpus,
      prefill: filled,
      verified,
    }),
  );
  const errors = reports.reduce((n, r) => n + r.errors, 0);
  const failures: string[] = [];
  if (errors > 0) failures.push(`${errors} failed request(s)`);
  if (serverLog.errors.length > 0) {
    failures.push(`server logged errors: ${serverLog.errors.join("; ")}`);
  }
  // Windows has no SIGTERM to catch: the server is terminated there, not shut down.
  if (!status.success && Deno.build.os !== "windows") {
    failures.push(`the server exited with status ${status.code}`);
  }
  if (replies.length === 0) failures.push("no search returned any listing");

  if (config.jsonOut) {
    const results = {
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
      serverMemoryBytes: serverMemory,
      serverLogLines: serverLog.lines,
      verifiedListings: verified,
      targets,
      failures,
    };
    await Deno.mkdir(dirname(config.jsonOut), { recursive: true });
    await Deno.writeTextFile(config.jsonOut, `${JSON.stringify(results, null, 2)}\n`);
    log(`wrote ${config.jsonOut}`);
  }
  for (const failure of failures) log(`FAILED: ${failure}`);
  return failures.length === 0 ? 0 : 1;
}

function rates(text: string | undefined, fallback: number[]): number[] {
  if (text === undefined) return fallback;
  const values = text.split(",").map(Number);
  if (values.length === 0 || values.some((v) => !Number.isFinite(v) || v <= 0 || v > 1e6)) {
    throw new UsageError(`--search-rates takes rates per second like 3000,1000; not "${text}"`);
  }
  return values;
}

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

function parseConfig(args: string[]): Config {
  const { values, positionals } = parseArgs({
    args,
    options: {
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
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) throw new UsageError("");
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"`);
  const smoke = values.smoke;
  const number = (
    text: string | undefined,
    fallback: number,
    name: string,
    min: number,
    max: number,
  ) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new UsageError(`--${name} must be a number from ${min} to ${max}, not "${text}"`);
    }
    return n;
  };
  const whole = (
    text: string | undefined,
    fallback: number,
    name: string,
    min: number,
    max: number,
  ) => {
    const n = number(text, fallback, name, min, max);
    if (!Number.isInteger(n)) throw new UsageError(`--${name} must be a whole number`);
    return n;
  };
  const clients = whole(values.clients, smoke ? 4 : 64, "clients", 1, 200);
  const seconds = number(values.seconds, smoke ? 1 : 10, "seconds", 0.1, 3600);
  return {
    clients,
    listings: whole(values.listings, smoke ? 2_000 : 100_000, "listings", 1, 10_000_000),
    seconds,
    warmupSeconds: smoke ? 0.5 : Math.min(3, seconds),
    users: whole(values.users, Math.min(clients, smoke ? 2 : 16), "users", 1, 200),
    loadWorkers: whole(values["load-workers"], smoke ? 0 : 2, "load-workers", 0, 16),
    searchRates: rates(values["search-rates"], smoke ? [100] : [TARGET.searchesPerSecond, 1000]),
    announcePool: whole(values["announce-pool"], smoke ? 100 : 20_000, "announce-pool", 1, 1e7),
    seed: whole(values.seed, 1, "seed", 0, 2 ** 31),
    // A smoke run must not overwrite the committed results unless asked to.
    jsonOut: values["json-out"] ?? (smoke ? undefined : "bench/index-results.json"),
    cache: !values["no-cache"],
    serverCpuProf: values["server-cpu-prof"],
    serverFlags: (values["server-flags"] ?? "").split(/\s+/).filter(Boolean),
    serverLog: values["server-log"],
    phases: parsePhases(values.phases),
    smoke,
  };
}

async function main(args: string[]): Promise<number> {
  let config: Config;
  try {
    config = parseConfig(args);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (message) console.error(`bench:index: error: ${message}`);
    console.error(USAGE);
    return err instanceof UsageError && message === "" ? 0 : 2;
  }
  const cleanup: (() => Promise<void> | void)[] = [];
  const release = async () => {
    for (const step of cleanup.splice(0).reverse()) {
      try {
        await step();
      } catch {
        // Best effort: the rest must still run.
      }
    }
  };
  // Ctrl-C must not leave the server or the temp database behind.
  const onSignal = () => {
    log("interrupted; cleaning up");
    release().finally(() => Deno.exit(130));
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  try {
    return await bench(config, cleanup);
  } catch (err) {
    console.error(
      `bench:index: error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`,
    );
    return 1;
  } finally {
    await release();
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
