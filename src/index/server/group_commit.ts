/**
 * Group commit of announcements. Every commit of the index database syncs the WAL to disk
 * (`synchronous = FULL`: an acknowledged announcement survives power loss), and the sync blocks
 * the event loop, so one transaction per ANNOUNCE caps the whole server at one fsync per
 * announcement. Announcements that arrive together are therefore stored in one transaction and
 * share its fsync; each request is still answered only after its row is durable. With
 * PostgreSQL the sync does not block, but a commit still costs a WAL flush and a round trip per
 * statement, so batching pays there too.
 *
 * The queue is bounded: a connection has at most one request in flight (§12.1), so it never
 * holds more rows than there are connections, and one transaction takes at most `maxBatch`.
 */
import type { Announcement, IndexStore } from "./store.ts";

/** The part of {@link IndexStore} group commit writes through. */
export type AnnouncementWriter = Pick<IndexStore, "announce" | "announceMany">;

/** Most announcements stored in one transaction. */
export const DEFAULT_MAX_BATCH = 256;

interface Pending {
  row: Announcement;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Options of {@link GroupCommit}. */
export interface GroupCommitOptions {
  /** Most rows per transaction. @default 256 */
  maxBatch?: number;
  /**
   * Schedules a flush after the requests that are ready now have had their turn.
   * @default {setTimeout with 0 ms}
   */
  schedule?: (flush: () => void) => void;
}

/** Collects announcements and stores them in as few transactions as the load allows. */
export class GroupCommit {
  readonly #store: AnnouncementWriter;
  readonly #maxBatch: number;
  readonly #schedule: (flush: () => void) => void;
  #pending: Pending[] = [];
  #scheduled = false;

  constructor(store: AnnouncementWriter, options: GroupCommitOptions = {}) {
    this.#store = store;
    this.#maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    this.#schedule = options.schedule ?? ((flush) => setTimeout(flush, 0));
  }

  /**
   * Stores `row` with whatever else is waiting; resolves once it is committed, rejects with the
   * store's error for this row alone (another row's failure does not fail it).
   */
  add(row: Announcement): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#pending.push({ row, resolve, reject });
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#schedule(() => void this.#flush());
    }
    return promise;
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    const batch = this.#pending.splice(0, this.#maxBatch);
    if (this.#pending.length > 0) {
      this.#scheduled = true;
      this.#schedule(() => void this.#flush());
    }
    if (batch.length === 0) return;
    try {
      await this.#store.announceMany(batch.map((p) => p.row));
    } catch (err) {
      if (batch.length === 1) return batch[0].reject(err);
      // The transaction is all or nothing, so one refused row (another user's file id, say)
      // rolled back the others: store each alone, so only the offending request fails.
      for (const p of batch) {
        try {
          await this.#store.announce(p.row);
          p.resolve();
        } catch (err) {
          p.reject(err);
        }
      }
      return;
    }
    for (const p of batch) p.resolve();
  }
}
