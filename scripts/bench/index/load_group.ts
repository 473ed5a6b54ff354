/**
 * The load generator of the index benchmark: a group of authenticated index clients that runs
 * one phase at a time (closed loop or paced), in the bench's main thread or in a load worker.
 *
 * @module
 */

import { constantTimeEqual } from "../../../src/crypto/bytes.ts";
import { parseFingerprint } from "../../../src/crypto/identity.ts";
import { importIdentity } from "../../../src/crypto/keystore.ts";
import { installAeadBackend } from "../../../src/native/libcrypto.ts";
import { IndexClient } from "../../../src/index/client/client.ts";
import type { WireListing } from "../../../src/wire/index_messages.ts";
import { makeQuery, makeVocabulary, Rng, SEARCH_LIMIT, type Vocabulary } from "./workload.ts";

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
  /**
   * The clients' AES-GCM backend, as `SFS_CRYPTO` says it (the server reads the same variable):
   * OpenSSL when it loads, so the clients on the same cores cost the server as little as they
   * can; `SFS_CRYPTO=webcrypto` measures the fallback on both sides.
   */
  crypto: string | undefined;
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
    // Each worker thread has its own module state, so each chooses for itself.
    installAeadBackend(init.crypto);
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
        if (search) await this.#search(c, plan, t0, result);
        else await announce(c, t0, result);
      } catch (err) {
        result.errors++;
        result.firstError ??= `client ${c.spec.index} (${c.spec.username}): ${describe(err)}`;
        // A failed request may leave the connection unusable; the client stops.
        c.dead = true;
        c.client.close();
        return;
      }
    }
  }

  /** One search; latency counts from `t0`, and a few non-empty replies are kept. */
  async #search(c: ClientState, plan: PhasePlan, t0: number, result: PhaseResult): Promise<void> {
    const listings = await c.client.search(makeQuery(c.rng, this.#vocab), { limit: SEARCH_LIMIT });
    result.search.push(performance.now() - t0);
    result.listingsReturned += listings.length;
    if (listings.length === 0) result.emptyReplies++;
    else if (result.replies.length < plan.keepReplies) result.replies.push(listings);
  }
}

/** Announces the client's next pool item; latency counts from `t0`. */
async function announce(c: ClientState, t0: number, result: PhaseResult): Promise<void> {
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

/** An error as the report shows it: its code (or name) and message. */
function describe(err: unknown): string {
  return err instanceof Error
    ? `${(err as { code?: string }).code ?? err.name}: ${err.message}`
    : String(err);
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
