/**
 * Resume checkpoints of a tree download (docs/design/folders.md F7): the finished files since the
 * last checkpoint are synced first, so the state (tree_state.ts) never claims a file that is not
 * on disk, without one sync per small file.
 *
 * @module
 */
import { SfsError } from "../errors.ts";
import { closeQuietly } from "../closable.ts";
import { chunkCount } from "../crypto/stream.ts";
import type { ManifestEntry } from "./manifest.ts";
import type { TreeStateFile } from "./tree_state.ts";

/** Finished files kept open, unsynced, until the next checkpoint syncs them together. */
export const MAX_UNSYNCED_FILES = 256;

/** Options of {@link Checkpoints}. */
export interface CheckpointOptions {
  /** Chunk size of the streams: a resume starts on one of its boundaries. */
  chunkSize: number;
  /** Most time between two checkpoints, in ms. */
  checkpointMs: number;
  /** Clock in ms. @default performance.now */
  now?: () => number;
}

/**
 * Resume checkpoints of a tree: syncs the finished files not yet synced (and the file in
 * progress), then records the state. One runs at a time, in the background while a large file
 * streams; a failure surfaces at the next write.
 */
export class Checkpoints {
  readonly #state: TreeStateFile;
  readonly #options: CheckpointOptions;
  readonly #now: () => number;
  #unsynced: Deno.FsFile[] = [];
  #running: Promise<void> | undefined;
  #failure: unknown;
  #last: number;

  constructor(state: TreeStateFile, options: CheckpointOptions) {
    this.#state = state;
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#last = this.#now();
  }

  /** Throws (IO) once a background checkpoint failed. */
  throwIfFailed(): void {
    if (this.#failure !== undefined) {
      throw new SfsError("IO", "Cannot record progress for a resume", { cause: this.#failure });
    }
  }

  /** A verified file, handed over to be synced (and closed) by a later checkpoint. */
  finished(file: Deno.FsFile): void {
    this.#unsynced.push(file);
  }

  /**
   * The stream of file `index` failed after `written` verified bytes: once any running checkpoint
   * is done, records them (with the files finished before it) unless a checkpoint got as far, as
   * far as it can; then closes the file. Without it, a cut between two checkpoints would restart
   * the file from the last one, or from its start.
   */
  async interrupted(
    index: number,
    entry: ManifestEntry,
    written: number,
    file: Deno.FsFile,
  ): Promise<void> {
    await this.#running;
    const verified = resumableBytes(entry.size, written, this.#options.chunkSize);
    const { state } = this.#state;
    const behind = state.entry < index || (state.entry === index && state.verified < verified);
    if (this.#failure === undefined && verified > 0 && behind) {
      await this.#run(index, verified, file).catch(() => {});
    }
    closeQuietly(file);
  }

  /** Starts a checkpoint inside file `index` in the background; false if one is running. */
  start(index: number, entry: ManifestEntry, written: number, file: Deno.FsFile): boolean {
    if (this.#running || this.#failure !== undefined) return false;
    const verified = resumableBytes(entry.size, written, this.#options.chunkSize);
    this.#running = this.#run(index, verified, file)
      .catch((err) => void (this.#failure = err))
      .finally(() => this.#running = undefined);
    return true;
  }

  /** After a file: a checkpoint when enough time, bytes or files went by since the last. */
  async afterFile(next: number): Promise<void> {
    this.throwIfFailed();
    const due = this.#unsynced.length >= MAX_UNSYNCED_FILES ||
      this.#now() - this.#last >= this.#options.checkpointMs;
    if (due && !this.#running) await this.#run(next, 0);
  }

  /** The last checkpoint: every file synced, the state past the last entry. */
  async finish(next: number): Promise<void> {
    await this.#running;
    this.throwIfFailed();
    await this.#run(next, 0);
  }

  /**
   * After a failure in entry `failedAt`: syncs the files finished since the last checkpoint and
   * records that the transfer got to `failedAt` (unless a checkpoint inside it got further),
   * as far as it can; closes every file.
   */
  async abandon(failedAt: number): Promise<void> {
    await this.#running;
    if (this.#failure === undefined && this.#state.state.entry < failedAt) {
      await this.#run(failedAt, 0).catch(() => {});
    }
    for (const file of this.#unsynced.splice(0)) closeQuietly(file);
  }

  async #run(entry: number, verified: number, current?: Deno.FsFile): Promise<void> {
    const files = this.#unsynced.splice(0);
    try {
      await Promise.all([...files, ...(current ? [current] : [])].map((f) => f.syncData()));
      // Files finished since the last record are synced: the state may move past them.
      if (entry !== this.#state.state.entry || verified !== this.#state.state.verified) {
        await this.#state.record(entry, verified);
      }
      this.#last = this.#now();
    } finally {
      for (const file of files) closeQuietly(file);
    }
  }
}

/**
 * The verified bytes of a file in progress that a resume can start from: a chunk boundary
 * inside the file (a file whose every byte arrived restarts at its last chunk, so the sender
 * streams it again and the stream ends with a chunk marked last).
 */
function resumableBytes(size: number, written: number, chunkSize: number): number {
  if (written < size) return written;
  if (size === 0) return 0;
  return (chunkCount(size, chunkSize) - 1) * chunkSize;
}
