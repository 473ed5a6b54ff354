/**
 * The index server's store chores: presence expiry on a timer, pruning of old sessions and
 * withdrawals, and the orphan sweep at start. A chore that fails is logged, never allowed to
 * kill the server; chores still running at shutdown are waited for before the store closes.
 */
import { PRESENCE_TIMEOUT_MS } from "../protocol/limits.ts";
import type { LogFields } from "./handlers.ts";
import type { IndexStore } from "./store.ts";

/**
 * Sessions offline this long are deleted with their announcements (`sfs server --listing-ttl`),
 * so searches are not full of files nobody serves any more.
 */
export const DEFAULT_SESSION_RETENTION_MS = 3 * 24 * 60 * 60 * 1000;
/** A withdrawal is remembered this long: a sender offline longer may bring the file back. */
export const WITHDRAWAL_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
const PRESENCE_SWEEP_MS = 5_000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** Options of {@linkcode Housekeeping}. */
export interface HousekeepingOptions {
  /** Silence after which a sharing session is offline. @default 30000 */
  presenceTimeoutMs?: number;
  /** Interval of the presence sweep. @default 5000 */
  presenceSweepMs?: number;
  /** Offline sessions, with their listings, older than this are pruned. @default 3 days */
  sessionRetentionMs?: number;
}

/** Runs store chores for one server, now and on timers, until {@linkcode stop}. */
export class Housekeeping {
  readonly #store: IndexStore;
  readonly #log: (event: string, fields: LogFields) => void;
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  readonly #chores = new Set<Promise<void>>();

  /** Starts the chores: the orphan sweep and a prune at once, then the timers. */
  constructor(
    store: IndexStore,
    log: (event: string, fields: LogFields) => void,
    options: HousekeepingOptions = {},
  ) {
    this.#store = store;
    this.#log = log;
    // Nobody is connected to this process yet, so the sessions the database remembers as online
    // are stale (left over from a crash) unless another server on the same database holds them.
    this.run(() => store.expireOrphans());
    const presenceTimeout = options.presenceTimeoutMs ?? PRESENCE_TIMEOUT_MS;
    const retention = options.sessionRetentionMs ?? DEFAULT_SESSION_RETENTION_MS;
    const prune = async () => {
      await store.pruneOfflineSessions(retention);
      await store.pruneWithdrawals(WITHDRAWAL_RETENTION_MS);
    };
    // At start too: a server that was down for days must not serve listings that expired.
    this.run(prune);
    this.#timers.push(
      setInterval(
        () => this.run(() => store.expireStale(presenceTimeout)),
        options.presenceSweepMs ?? PRESENCE_SWEEP_MS,
      ),
      // A short retention is pruned about as often as it lapses.
      setInterval(() => this.run(prune), Math.min(PRUNE_EVERY_MS, retention)),
    );
  }

  /** Runs a store chore; a failure is logged. */
  run(chore: () => Promise<unknown>): void {
    const running = (async () => {
      try {
        await chore();
      } catch (err) {
        this.#log("error", { message: err instanceof Error ? err.message : String(err) });
      }
    })();
    this.#chores.add(running);
    running.finally(() => this.#chores.delete(running));
  }

  /** Stops the timers; chores already running go on. */
  stop(): void {
    for (const timer of this.#timers) clearInterval(timer);
  }

  /** Resolves once every chore running now has ended. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.#chores);
  }
}
