/**
 * Pieces of the index benchmark (scripts/bench_index.ts): the seeded vocabulary that names the
 * synthetic listings and the queries, latency statistics, the report, and the load generator — a
 * group of authenticated index clients that runs one phase at a time, either in the bench's main
 * thread or in a Web Worker (this module is also the worker's entry point).
 *
 * @module
 */

import { parseFingerprint } from "../src/crypto/identity.ts";
import { constantTimeEqual } from "../src/crypto/bytes.ts";
import { importIdentity } from "../src/crypto/keystore.ts";
import { IndexClient } from "../src/index/client.ts";
import type { WireListing } from "../src/wire/messages.ts";

// Vocabulary

/** Page size of every benchmark search: the `sfs search` default. */
export const SEARCH_LIMIT = 50;
/** Mean number of listings whose name contains one given vocabulary word. */
export const LISTINGS_PER_WORD = 25;
/** Share of listings addressed to recipients (the rest are public). */
export const PRIVATE_SHARE = 0.1;

/** Topic keywords owners attach to files (1 to 3 each). */
// deno-fmt-ignore
export const TAGS: readonly string[] = [
  "photos", "music", "tax", "invoice", "backup", "report", "draft", "slides", "video", "podcast",
  "dataset", "thesis", "recipe", "travel", "holiday", "family", "wedding", "budget", "contract",
  "scan", "manual", "firmware", "iso", "linux", "game", "mod", "save", "map", "lecture", "notes",
  "paper", "book", "ebook", "comic", "audio", "raw", "album", "mix", "demo", "stems", "logo",
  "design", "font", "icons", "mockup", "source", "release", "build", "logs", "dump", "archive",
  "legal", "medical", "insurance", "receipt", "resume", "letter", "poster", "flyer", "brochure",
  "catalog", "price", "quote", "order", "payroll", "census", "survey", "sensor", "weather",
  "satellite", "genome", "model", "weights", "checkpoint", "shader", "texture", "sprite", "level",
  "trailer", "episode", "season", "subtitle", "lyrics", "score", "sheet", "chart", "plan",
  "blueprint", "cad", "print", "stl", "gcode", "schematic", "pcb", "kernel", "patch", "config",
  "keys", "wallet", "ledger",
];
/** File extensions, as the last token of a name. */
// deno-fmt-ignore
export const EXTENSIONS: readonly string[] = [
  "pdf", "zip", "tar", "gz", "mp4", "mkv", "flac", "mp3", "jpg", "png", "docx", "xlsx", "csv",
  "iso", "txt", "json",
];
const CONSONANTS = "bdfgklmnprstvz";
const VOWELS = "aeiou";

/** Words the synthetic file names are made of. */
export interface Vocabulary {
  /** Three-syllable made-up words ("kavomi"); equal length, so none is a prefix of another. */
  readonly words: readonly string[];
}

/** A small, fast, seeded PRNG (mulberry32): the same seed gives the same listings and queries. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
}

/**
 * The name vocabulary for `listings` listings: each listing's name has two words drawn uniformly,
 * so one word is in {@link LISTINGS_PER_WORD} names on average (a Poisson spread around it).
 */
export function makeVocabulary(seed: number, listings: number): Vocabulary {
  const count = Math.max(20, Math.round((2 * listings) / LISTINGS_PER_WORD));
  const rng = new Rng(seed ^ 0x5eed);
  const tags = new Set(TAGS);
  const words = new Set<string>();
  while (words.size < count) {
    let word = "";
    for (let s = 0; s < 3; s++) word += rng.pick([...CONSONANTS]) + rng.pick([...VOWELS]);
    if (!tags.has(word)) words.add(word);
  }
  return { words: [...words] };
}

/** The fields of one synthetic listing (everything but who owns it and the signature). */
export interface ListingFields {
  readonly name: string;
  readonly size: number;
  readonly sha256: Uint8Array<ArrayBuffer>;
  readonly keywords: string[];
  /** Indexes of the bench users it is addressed to; empty for public. */
  readonly recipients: number[];
}

/** Options of {@link listingFields}. */
export interface ListingOptions {
  /** Seed of the whole corpus. */
  seed: number;
  /** Bench users; recipients are drawn from them. */
  users: number;
}

/** Draws listing number `i`; the same seed and `i` always give the same fields. */
export function listingFields(
  vocab: Vocabulary,
  i: number,
  options: ListingOptions,
): ListingFields {
  const { seed, users } = options;
  const rng = new Rng((seed * 0x9e3779b1) ^ i);
  const name = `${rng.pick(vocab.words)}-${rng.pick(vocab.words)}-${1 + rng.below(999)}.` +
    rng.pick(EXTENSIONS);
  const keywords = new Set<string>();
  const tagCount = 1 + rng.below(3);
  while (keywords.size < tagCount) keywords.add(rng.pick(TAGS));
  // Log-uniform from 1 KiB to 4 GiB: many small files, a few huge ones.
  const size = Math.round(2 ** (10 + rng.next() * 22));
  const sha256 = new Uint8Array(32);
  for (let b = 0; b < 32; b++) sha256[b] = rng.below(256);
  const recipients = new Set<number>();
  if (users > 1 && rng.next() < PRIVATE_SHARE) {
    const count = 1 + rng.below(2);
    while (recipients.size < Math.min(count, users - 1)) recipients.add(rng.below(users));
  }
  return { name, size, sha256, keywords: [...keywords], recipients: [...recipients] };
}

/** The query mix, with the share of each kind. */
export const QUERY_MIX = [
  { kind: "word", share: 0.7, example: "kavomi" },
  { kind: "prefix", share: 0.1, example: "kavo" },
  { kind: "word+tag", share: 0.1, example: "kavomi photos" },
  { kind: "tag", share: 0.1, example: "photos" },
] as const;

/**
 * One search string from the mix: a name word (about {@link LISTINGS_PER_WORD} matches), its first
 * four letters (words sharing two syllables, ≈ 1–2 words), a word and a tag (usually 0–1
 * matches), or a tag alone (≈ 2 % of all listings; the first page of 50).
 */
export function makeQuery(rng: Rng, vocab: Vocabulary): string {
  let r = rng.next();
  const kind = QUERY_MIX.find((k) => (r -= k.share) < 0)?.kind ?? "tag";
  const word = rng.pick(vocab.words);
  switch (kind) {
    case "word":
      return word;
    case "prefix":
      return word.slice(0, 4);
    case "word+tag":
      return `${word} ${rng.pick(TAGS)}`;
    case "tag":
      return rng.pick(TAGS);
  }
}

// Statistics

/** Latency percentiles of one request kind in one phase, in milliseconds. */
export interface LatencyStats {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Percentiles of latencies in ms. */
export function latencyStats(latencies: ArrayLike<number>): LatencyStats {
  const sorted = Float64Array.from(latencies).sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? NaN : sorted[sorted.length - 1],
    mean: sorted.length === 0 ? NaN : sum / sorted.length,
  };
}

// Load generator

/** A pre-signed announcement a client may publish. */
export interface PoolItem {
  bytes: Uint8Array<ArrayBuffer>;
  rsa: Uint8Array<ArrayBuffer>;
  ed25519: Uint8Array<ArrayBuffer>;
}

/** One client of a group: who it authenticates as and what it may announce. */
export interface ClientSpec {
  /** Position among all clients of the run (spreads paced sends). */
  index: number;
  username: string;
  /** Exported (unencrypted) identity of the user. */
  identityText: string;
  /** Announcements of this user that only this client publishes. */
  pool: PoolItem[];
}

/** What a group needs to connect. */
export interface GroupInit {
  hostname: string;
  port: number;
  /** Expected server fingerprint (pinned like a real client would). */
  fingerprint: string;
  seed: number;
  listings: number;
  totalClients: number;
  clients: ClientSpec[];
}

/** Request kinds a phase issues. */
export type PhaseKind = "search" | "announce" | "mixed";

/** One phase, sent to every group. */
export interface PhasePlan {
  name: string;
  kind: PhaseKind;
  /** Start time (ms since the epoch), the same for every group. */
  startAt: number;
  durationMs: number;
  /**
   * Requests per second over all clients, sent on a fixed schedule; latency then counts from the
   * scheduled time, so a stalled server cannot hide its backlog. Undefined: closed loop (each
   * client sends its next request as soon as the previous reply is in).
   */
  rate?: number;
  /** Share of searches in a mixed phase. */
  searchShare: number;
  /** Non-empty search replies to keep for verification afterwards. */
  keepReplies: number;
}

/** What one group measured in one phase. */
export interface PhaseResult {
  search: number[];
  announce: number[];
  /** Paced phases: how late each request left after its scheduled time, in ms. */
  sendLag: number[];
  errors: number;
  firstError?: string;
  listingsReturned: number;
  emptyReplies: number;
  fresh: number;
  replaced: number;
  /** First send and last reply, as ms since the epoch. */
  startedAt: number;
  endedAt: number;
  replies: WireListing[][];
}

interface ClientState {
  spec: ClientSpec;
  client: IndexClient;
  rng: Rng;
  cursor: number;
  announced: number;
  dead: boolean;
}

/** Connect + AUTH latency of every client, in ms. */
export interface ConnectResult {
  connect: number[];
}

/** A set of authenticated clients driven together. */
export class LoadGroup {
  readonly #clients: ClientState[];
  readonly #init: GroupInit;
  readonly #vocab: Vocabulary;

  private constructor(init: GroupInit, clients: ClientState[]) {
    this.#init = init;
    this.#clients = clients;
    this.#vocab = makeVocabulary(init.seed, init.listings);
  }

  /** Connects and authenticates every client (all at once, as a burst of logins would). */
  static async connect(init: GroupInit): Promise<{ group: LoadGroup; connect: number[] }> {
    const expected = parseFingerprint(init.fingerprint);
    const identities = new Map<string, ReturnType<typeof importIdentity>>();
    for (const spec of init.clients) {
      if (!identities.has(spec.username)) {
        identities.set(spec.username, importIdentity(spec.identityText));
      }
    }
    const connect: number[] = [];
    const clients = await Promise.all(init.clients.map(async (spec) => {
      const identity = await identities.get(spec.username)!;
      const t0 = performance.now();
      const conn = await Deno.connect({ hostname: init.hostname, port: init.port });
      const client = await IndexClient.connect(conn, identity, {
        verifyServer: (server) => {
          if (!constantTimeEqual(server.fingerprint, expected)) {
            throw new Error("The server presented an unexpected key");
          }
        },
      });
      await client.auth(spec.username);
      connect.push(performance.now() - t0);
      return {
        spec,
        client,
        rng: new Rng(init.seed * 31 + spec.index),
        cursor: 0,
        announced: 0,
        dead: false,
      };
    }));
    return { group: new LoadGroup(init, clients), connect };
  }

  /** Runs one phase with every client of the group. */
  async run(plan: PhasePlan): Promise<PhaseResult> {
    const result: PhaseResult = {
      search: [],
      announce: [],
      sendLag: [],
      errors: 0,
      listingsReturned: 0,
      emptyReplies: 0,
      fresh: 0,
      replaced: 0,
      startedAt: plan.startAt,
      endedAt: plan.startAt,
      replies: [],
    };
    // performance.now() is monotonic; the epoch start only lines up the groups.
    const start = performance.now() + (plan.startAt - Date.now());
    const end = start + plan.durationMs;
    await sleep(start - performance.now());
    await Promise.all(this.#clients.map((c) => this.#drive(c, plan, start, end, result)));
    result.endedAt = Date.now();
    return result;
  }

  /** Closes every connection. */
  close(): void {
    for (const c of this.#clients) c.client.close();
  }

  async #drive(
    c: ClientState,
    plan: PhasePlan,
    start: number,
    end: number,
    result: PhaseResult,
  ): Promise<void> {
    if (c.dead) return;
    // Paced: this client's share of the rate, its sends offset so the clients interleave.
    const interval = plan.rate === undefined ? 0 : (1000 * this.#init.totalClients) / plan.rate;
    let next = start + (interval * c.spec.index) / this.#init.totalClients;
    for (;;) {
      let t0 = performance.now();
      if (interval > 0) {
        if (next >= end) return;
        if (next > t0) await sleep(next - t0);
        // How late this request leaves: behind schedule when the previous reply was late or the
        // bench itself is slow; latency counts from the schedule either way.
        result.sendLag.push(performance.now() - next);
        t0 = next;
        next += interval;
      } else if (t0 >= end) {
        return;
      }
      const search = plan.kind === "search" ||
        (plan.kind === "mixed" && c.rng.next() < plan.searchShare);
      try {
        if (search) {
          const listings = await c.client.search(makeQuery(c.rng, this.#vocab), {
            limit: SEARCH_LIMIT,
          });
          result.search.push(performance.now() - t0);
          result.listingsReturned += listings.length;
          if (listings.length === 0) result.emptyReplies++;
          else if (result.replies.length < plan.keepReplies) result.replies.push(listings);
        } else {
          const pool = c.spec.pool;
          if (pool.length === 0) throw new Error(`Client ${c.spec.index} has nothing to announce`);
          const item = pool[c.cursor];
          c.cursor = (c.cursor + 1) % pool.length;
          await c.client.announce({
            bytes: item.bytes,
            signatures: { rsa: item.rsa, ed25519: item.ed25519 },
          });
          result.announce.push(performance.now() - t0);
          // The first pass over the pool stores new listings; later passes replace them.
          if (c.announced++ < pool.length) result.fresh++;
          else result.replaced++;
        }
      } catch (err) {
        result.errors++;
        result.firstError ??= `client ${c.spec.index} (${c.spec.username}): ${
          err instanceof Error
            ? `${(err as { code?: string }).code ?? err.name}: ${err.message}`
            : String(err)
        }`;
        // A failed request may leave the connection unusable; the client stops.
        c.dead = true;
        c.client.close();
        return;
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

// Worker protocol

/** Messages the bench sends a load worker. */
export type ToWorker =
  | { type: "init"; init: GroupInit }
  | { type: "phase"; plan: PhasePlan }
  | { type: "close" };

/** Messages a load worker sends back. */
export type FromWorker =
  | { type: "ready"; connect: number[] }
  | { type: "phase"; result: PhaseResult }
  | { type: "error"; message: string };

/** Serves {@link ToWorker} messages with one {@link LoadGroup}; the worker entry point. */
function serveWorker(scope: {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
  close(): void;
}): void {
  let group: LoadGroup | undefined;
  // Messages are handled one after another: a phase never starts before init finished.
  let queue = Promise.resolve();
  scope.onmessage = (event) => {
    const message = event.data;
    queue = queue.then(async () => {
      try {
        if (message.type === "init") {
          const connected = await LoadGroup.connect(message.init);
          group = connected.group;
          scope.postMessage({ type: "ready", connect: connected.connect });
        } else if (message.type === "phase") {
          if (group === undefined) throw new Error("Phase before init");
          scope.postMessage({ type: "phase", result: await group.run(message.plan) });
        } else {
          group?.close();
          scope.close();
        }
      } catch (err) {
        scope.postMessage({
          type: "error",
          message: err instanceof Error ? err.message : String(err),
        });
      }
    });
  };
}

// Deno's workers have WorkerGlobalScope; the main thread does not.
if ("WorkerGlobalScope" in globalThis) {
  serveWorker(globalThis as unknown as Parameters<typeof serveWorker>[0]);
}
