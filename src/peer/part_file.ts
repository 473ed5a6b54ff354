/**
 * The receiver's output file: bytes go to `NAME.sfs-part` in the output folder and appear under
 * `NAME` only after every check passed, by an atomic link or rename. The destination is never
 * followed if it is a symlink and never overwritten without `force`. An interrupted download
 * keeps its part file and a state file (`NAME.sfs-state`) so it can resume.
 *
 * Everything goes through open handles, and a path is trusted only while `lstat` of it names
 * the same file (device, inode) as `fstat` of our handle: someone who can write to the folder
 * may swap a link or another file in under either name at any time, and we must neither write
 * through it nor publish it. Callers hold the target's {@link TargetLock}, so no other `sfs get`
 * touches these files meanwhile; the checks are for everyone else.
 */
import { dirname } from "../path.ts";
import { SfsError } from "../errors.ts";
import { lstatOrUndefined, sameFile, writeAllSync } from "../fs.ts";
import {
  linkOrRename,
  prepare,
  removeIfSame,
  removeName,
  replaced,
  syncDirectory,
  unfitForResume,
} from "./part_file_paths.ts";
import { STATE_SUFFIX } from "./resume_state.ts";
import { type PartInfo, StateFile } from "./part_state.ts";

/** Suffix of the temporary file a download is written to. */
export const PART_SUFFIX = ".sfs-part";
const REHASH_BUFFER_BYTES = 1024 * 1024;

export type { PartInfo } from "./part_state.ts";

/** A file being received. */
export class PartFile {
  /** Where the file will appear once published. */
  readonly finalPath: string;
  /** Where the bytes are written until then. */
  readonly partPath: string;
  /** Where the resume state is kept. */
  readonly statePath: string;
  readonly #file: Deno.FsFile;
  readonly #force: boolean;
  readonly #state: StateFile;
  #written: number;
  #checkpointing: Promise<void> | undefined;
  #checkpointFailure: unknown;
  #open = true;

  private constructor(finalPath: string, file: Deno.FsFile, force: boolean, written: number) {
    this.finalPath = finalPath;
    this.partPath = finalPath + PART_SUFFIX;
    this.statePath = finalPath + STATE_SUFFIX;
    this.#state = new StateFile(this.statePath);
    this.#file = file;
    this.#force = force;
    this.#written = written;
  }

  /**
   * Creates a fresh `DIR/NAME.sfs-part` for a safe base name, replacing any stale part and
   * state, and reserves the state file's space. Fails with EXISTS before any byte is received
   * when `DIR/NAME` exists and `force` is off.
   */
  static async create(
    outDir: string,
    safeName: string,
    force: boolean,
    info: PartInfo,
  ): Promise<PartFile> {
    const finalPath = await prepare(outDir, safeName, force);
    const partPath = finalPath + PART_SUFFIX;
    // Whatever is under the part file's name (a stale part, or a link someone planted) loses
    // its name only: removing a directory entry never changes the bytes of a file it named,
    // and createNew (O_EXCL) never follows a link.
    await removeName(partPath);
    const file = await Deno.open(partPath, { write: true, createNew: true, mode: 0o600 });
    const part = new PartFile(finalPath, file, force, 0);
    try {
      await part.#state.reserve(info, 0);
    } catch (err) {
      await part.discard();
      throw err;
    }
    return part;
  }

  /**
   * Opens an interrupted download's part file without changing it, for a resume from at most
   * `verified` bytes. Returns the reason instead when it must not be reused: it is missing,
   * shorter than `verified`, a link, not a regular file, has other names (a hard link made to
   * a file elsewhere), or belongs to another user. Then the caller starts over.
   */
  static async reopen(
    outDir: string,
    safeName: string,
    force: boolean,
    verified: number,
  ): Promise<PartFile | { reason: string }> {
    const finalPath = await prepare(outDir, safeName, force);
    const partPath = finalPath + PART_SUFFIX;
    const named = await lstatOrUndefined(partPath);
    if (!named) return { reason: "the part file is missing" };
    if (!named.isFile) return { reason: "the part file is a link or not a regular file" };
    // Neither created nor truncated: if a link was swapped in after the lstat, opening it
    // changes nothing, and the check below refuses it before any byte is written.
    let file: Deno.FsFile;
    try {
      file = await Deno.open(partPath, { read: true, write: true });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return { reason: "the part file is missing" };
      throw err;
    }
    const reason = await unfitForResume(file, partPath, outDir, verified).catch((err) => {
      file.close();
      throw err;
    });
    if (reason !== undefined) {
      file.close();
      return { reason };
    }
    return new PartFile(finalPath, file, force, verified);
  }

  /**
   * Continues a reopened part at `offset` (at most what it was reopened for): cuts off what
   * follows (never recorded as verified, or to be received again), feeds the kept bytes to
   * `rehash` so the final SHA-256 covers the whole file, and records the new state.
   */
  async rewind(offset: number, info: PartInfo, rehash: (bytes: Uint8Array) => void): Promise<void> {
    await this.#file.truncate(offset);
    await this.#file.seek(0, Deno.SeekMode.Start);
    const buffer = new Uint8Array(REHASH_BUFFER_BYTES);
    let done = 0;
    while (done < offset) {
      const n = await this.#file.read(buffer.subarray(0, Math.min(buffer.length, offset - done)));
      if (n === null) throw new SfsError("IO", `"${this.partPath}" shrank while resuming`);
      rehash(buffer.subarray(0, n));
      done += n;
    }
    await this.#file.seek(offset, Deno.SeekMode.Start);
    this.#written = offset;
    await this.#state.reserve(info, offset);
  }

  /** Bytes written so far (including those kept from an earlier run). */
  get written(): number {
    return this.#written;
  }

  /** Appends verified plaintext, synchronously (receiver_stream.ts says why). */
  write(data: Uint8Array): void {
    if (this.#checkpointFailure !== undefined) {
      throw new SfsError("IO", `Cannot record progress in "${this.statePath}"`, {
        cause: this.#checkpointFailure,
      });
    }
    try {
      writeAllSync(this.#file, data);
    } catch (cause) {
      throw new SfsError("IO", `Cannot write "${this.partPath}"`, {
        cause,
        hint: "Is the disk full? The download can resume once there is room",
      });
    }
    this.#written += data.length;
  }

  /**
   * Starts recording progress in the background, unless a checkpoint is still running, so the
   * sync overlaps receiving the next chunks. A failure surfaces at the next {@link write}.
   * Returns whether one was started.
   */
  startCheckpoint(): boolean {
    if (this.#checkpointing || this.#checkpointFailure !== undefined) return false;
    this.#checkpointing = this.#checkpoint()
      .catch((err) => void (this.#checkpointFailure = err))
      .finally(() => this.#checkpointing = undefined);
    return true;
  }

  /** Records progress for a later resume, after any checkpoint already running. */
  async checkpoint(): Promise<void> {
    await this.#checkpointing;
    await this.#checkpoint();
  }

  /**
   * Flushes to disk and publishes the file that was verified under the final name. Without
   * `force` a hard link is used, which fails rather than replace a file created meanwhile;
   * with `force`, a rename replaces the directory entry (a symlink there is replaced, never
   * followed). The part's name must still be our file before, and the final name must be our
   * file after; otherwise what we put under the final name is taken back and this fails.
   */
  async publish(): Promise<void> {
    await this.#checkpointing;
    await this.#file.syncData();
    const ours = await this.#file.stat();
    await this.#requireOurs(this.partPath, ours);
    await linkOrRename(this.partPath, this.finalPath, this.#force);
    const published = await lstatOrUndefined(this.finalPath);
    if (!published || !sameFile(published, ours)) {
      // The part's name was swapped between the check and the link: the final name now holds
      // bytes nobody verified. It is the entry we just made, so it is ours to take back.
      await Deno.remove(this.finalPath).catch(() => {});
      throw replaced(this.partPath);
    }
    if (!this.#force) await removeIfSame(this.partPath, ours);
    await this.#state.remove();
    this.#close();
    await syncDirectory(dirname(this.finalPath));
  }

  /**
   * Keeps the part file for a later resume: records the verified bytes and closes. If even
   * that fails, the previous state still holds, since it never claims more than is on disk.
   */
  async keep(): Promise<void> {
    // A one-chunk file has no state file (part_state.ts): nothing to resume, nothing to keep.
    if (this.#state.oneChunk) return await this.discard();
    await this.#checkpointing;
    if (this.#checkpointFailure === undefined) {
      try {
        await this.#checkpoint();
      } catch {
        // See above: the older state, if any, stays valid.
      }
    }
    this.#close();
  }

  /** Closes without changing anything on disk (a reopened part that is not used after all). */
  close(): void {
    this.#close();
  }

  /** Closes and deletes the part and state files (only if they still are ours). */
  async discard(): Promise<void> {
    if (!this.#open) return;
    await this.#checkpointing;
    try {
      await removeIfSame(this.partPath, await this.#file.stat());
      await this.#state.remove();
    } finally {
      this.#close();
    }
  }

  /**
   * Syncs the part file first, then records the bytes written before the sync began, so the
   * state never claims bytes that are not on disk.
   */
  async #checkpoint(): Promise<void> {
    const verified = this.#written;
    await this.#file.syncData();
    await this.#state.write(verified);
  }

  async #requireOurs(path: string, ours: Deno.FileInfo): Promise<void> {
    const named = await lstatOrUndefined(path);
    if (!named || !sameFile(named, ours)) throw replaced(path);
  }

  #close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#file.close();
    this.#state.close();
  }
}
