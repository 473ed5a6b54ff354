/**
 * The receiving side of the file streams of a tree (docs/design/folders.md F6, F7): back to back in manifest
 * order, each a §7.2 stream under its own key, written into the part folder (tree_part.ts) and
 * checked at its end against the manifest's size and SHA-256. Folders are made as their turn
 * comes; a folder's modification time is set once the walk leaves it (nothing is written into
 * it after that), and it is synced soon after (tree_open_folders.ts). Folders and files are
 * made, and keys derived, a few entries ahead (tree_prepared_ahead.ts).
 *
 * Progress is recorded for a resume (tree_state.ts) every few seconds or megabytes and at least
 * every 256 files (tree_checkpoints.ts): the finished files since the last checkpoint are synced
 * first, so the state never claims a file that is not on disk, without one sync per small file.
 *
 * @module
 */
import { countWork } from "../gc.ts";
import { SfsError } from "../errors.ts";
import { writeAllSync } from "../fs.ts";
import { type Bytes, constantTimeEqual } from "../crypto/bytes.ts";
import { createSha256, type Sha256Hasher } from "../crypto/sha256.ts";
import type { AeadKey } from "../crypto/aead.ts";
import type { Channel } from "../wire/channel.ts";
import { displayExcerpt } from "../text.ts";
import type { ManifestEntry } from "./manifest.ts";
import { type ChunkSink, receiveChunks } from "./receiver_stream.ts";
import type { TreePart } from "./tree_part.ts";
import type { TreeStateFile } from "./tree_state.ts";
import { Checkpoints } from "./tree_checkpoints.ts";
import { OpenFolders } from "./tree_open_folders.ts";
import { type Prepared, preparedAhead, type TreeStart } from "./tree_prepared_ahead.ts";

const REHASH_BUFFER_BYTES = 1024 * 1024;

export type { TreeStart } from "./tree_prepared_ahead.ts";

/** Options of {@link receiveTreeFiles}. */
export interface TreeStreamOptions {
  /** The stream key of file entry `index` (F6.1); disposed by the caller's channel or here. */
  keyFor: (index: number) => Promise<AeadKey>;
  /** Chunk size of the streams, from TREE_MANIFEST. */
  chunkSize: number;
  /** Where the sender starts (what TREE_GET asked for). */
  start: TreeStart;
  /** Checkpoint spacing. */
  checkpointBytes: number;
  checkpointMs: number;
  /**
   * Bytes of the share verified so far (kept files included); the first report comes on
   * reaching the start, before any byte of this run.
   */
  onProgress?: (bytes: number, filesDone: number) => void;
  /** A file verified (or kept from an earlier run: `kept`). */
  onFile?: (entry: ManifestEntry, how: { index: number; kept: boolean; filesDone: number }) => void;
  /** Clock in ms. @default performance.now */
  now?: () => number;
}

/** What {@link receiveTreeFiles} did. */
export interface TreeStreamResult {
  /** Files in the tree. */
  readonly files: number;
  /** Bytes kept from an earlier run. */
  readonly resumedBytes: number;
}

/**
 * Receives every file from `options.start` on into `part`, in the order of `entries` (the
 * verified manifest), checking each; entries before the start must be there from an earlier run
 * (SfsError IO naming the reason otherwise, which the caller turns into a fresh start).
 */
export async function receiveTreeFiles(
  channel: Channel,
  part: TreePart,
  entries: AsyncIterable<ManifestEntry>,
  state: TreeStateFile,
  options: TreeStreamOptions,
): Promise<TreeStreamResult> {
  const checkpoints = new Checkpoints(state, options);
  const folders = new OpenFolders(part);
  const { start } = options;
  let index = -1;
  let files = 0;
  let bytes = 0;
  let resumedBytes = 0;
  let started = false;
  try {
    for await (const prepared of preparedAhead(part, entries, options)) {
      const { entry } = prepared;
      index = prepared.index;
      await folders.enter(entry.path);
      if (entry.kind === "folder") {
        await prepared.made;
        folders.opened(entry);
      } else if (index < start.entry) {
        const problem = await part.checkDone(entry.path, entry.size);
        if (problem !== undefined) throw cannotResume(problem, entry);
        files++;
        bytes += entry.size;
        resumedBytes += entry.size;
        options.onFile?.(entry, { index, kept: true, filesDone: files });
      } else {
        const offset = index === start.entry ? start.offset : 0;
        resumedBytes += offset;
        // The first report, before any byte of this run: what an earlier run left (the rate of
        // the progress line counts from here).
        if (!started) options.onProgress?.(bytes + offset, files);
        started = true;
        const base = bytes;
        await receiveOneFile(channel, part, prepared, {
          offset,
          options,
          checkpoints,
          onProgress: (written) => options.onProgress?.(base + written, files),
        });
        files++;
        bytes += entry.size;
        options.onFile?.(entry, { index, kept: false, filesDone: files });
        options.onProgress?.(bytes, files);
        await checkpoints.afterFile(index + 1);
        countWork();
      }
    }
    await folders.leaveAll();
    await checkpoints.finish(index + 1);
  } catch (err) {
    await checkpoints.abandon(Math.max(index, start.entry));
    throw err;
  }
  return { files, resumedBytes };
}

interface OneFile {
  readonly offset: number;
  readonly options: TreeStreamOptions;
  readonly checkpoints: Checkpoints;
  readonly onProgress: (written: number) => void;
}

/** Receives one file's stream and checks its size and SHA-256 (F6.2); leaves it for syncing. */
async function receiveOneFile(
  channel: Channel,
  part: TreePart,
  prepared: Prepared,
  how: OneFile,
): Promise<void> {
  const { entry } = prepared;
  const hasher = await createSha256({ bytes: entry.size });
  let file: Deno.FsFile;
  try {
    file = how.offset > 0
      ? await reopenAndRehash(part, entry, how.offset, hasher)
      : await prepared.created!;
  } catch (err) {
    (await prepared.key!.catch(() => undefined))?.dispose();
    throw err;
  }
  const sink = new FileSink(file, how.offset, how.checkpoints, { index: prepared.index, entry });
  let handedOver = false;
  try {
    using key = await prepared.key!;
    const sha256 = await receiveChunks(
      channel,
      sink,
      { size: entry.size, chunkSize: how.options.chunkSize, offset: how.offset },
      hasher,
      {
        key,
        onProgress: how.onProgress,
        checkpointBytes: how.options.checkpointBytes,
        checkpointMs: how.options.checkpointMs,
      },
    );
    checkFile(entry, sink.written, sha256);
    // The manifest's time, set on the handle: the file is ours, whatever its name became.
    // Synchronous: one quick system call, where an async one waits for a pool thread per file.
    const mtime = new Date(entry.mtime);
    file.utimeSync(mtime, mtime);
    how.checkpoints.finished(file);
    handedOver = true;
  } finally {
    // A failed file's bytes so far are verified chunks: recorded, so a resume starts after them.
    if (!handedOver) await how.checkpoints.interrupted(prepared.index, entry, sink.written, file);
  }
}

function checkFile(entry: ManifestEntry, written: number, sha256: Bytes): void {
  if (written !== entry.size) {
    throw new SfsError(
      "SIZE_MISMATCH",
      `"${displayExcerpt(entry.path)}" has ${written} bytes, the manifest says ${entry.size}`,
    );
  }
  if (!constantTimeEqual(sha256, entry.sha256)) {
    throw new SfsError(
      "HASH_MISMATCH",
      `The SHA-256 of "${displayExcerpt(entry.path)}" differs from the manifest`,
    );
  }
}

/** Reopens the file in progress, cut to `offset`, and feeds those bytes to `hasher` (§7.5). */
async function reopenAndRehash(
  part: TreePart,
  entry: ManifestEntry,
  offset: number,
  hasher: Sha256Hasher,
): Promise<Deno.FsFile> {
  const file = await part.reopenFile(entry.path, offset);
  if (!(file instanceof Deno.FsFile)) throw cannotResume(file.reason, entry);
  try {
    await file.seek(0, Deno.SeekMode.Start);
    const buffer = new Uint8Array(REHASH_BUFFER_BYTES);
    let done = 0;
    while (done < offset) {
      const n = await file.read(buffer.subarray(0, Math.min(buffer.length, offset - done)));
      if (n === null) throw cannotResume("the file in progress shrank", entry);
      hasher.update(buffer.subarray(0, n));
      done += n;
    }
    await file.seek(offset, Deno.SeekMode.Start);
    return file;
  } catch (err) {
    file.close();
    throw err;
  }
}

/** The error that makes the receiver discard the part folder and start over (F7.3). */
export class CannotResume extends SfsError {
  constructor(why: string) {
    super("IO", `Cannot resume: ${why}`);
  }
}

function cannotResume(why: string, entry: ManifestEntry): CannotResume {
  return new CannotResume(`${why} ("${displayExcerpt(entry.path)}")`);
}

/** One file of the tree as the chunk stream's sink. */
class FileSink implements ChunkSink {
  readonly #file: Deno.FsFile;
  readonly #checkpoints: Checkpoints;
  readonly #at: { index: number; entry: ManifestEntry };
  #written: number;

  constructor(
    file: Deno.FsFile,
    written: number,
    checkpoints: Checkpoints,
    at: { index: number; entry: ManifestEntry },
  ) {
    this.#file = file;
    this.#written = written;
    this.#checkpoints = checkpoints;
    this.#at = at;
  }

  get written(): number {
    return this.#written;
  }

  write(data: Uint8Array): void {
    this.#checkpoints.throwIfFailed();
    try {
      writeAllSync(this.#file, data);
    } catch (cause) {
      throw new SfsError("IO", `Cannot write "${displayExcerpt(this.#at.entry.path)}"`, {
        cause,
        hint: "Is the disk full? The download can resume once there is room",
      });
    }
    this.#written += data.length;
  }

  startCheckpoint(): boolean {
    return this.#checkpoints.start(this.#at.index, this.#at.entry, this.#written, this.#file);
  }
}
