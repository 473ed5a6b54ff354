/**
 * The receiver's output file: bytes go to `NAME.sfs-part` in the output folder and appear under
 * `NAME` only after every check passed, by an atomic link or rename. The destination is never
 * followed if it is a symlink and never overwritten without `force`. An interrupted download
 * keeps its part file and a state file (`NAME.sfs-state`) so it can resume.
 */
import { dirname, join } from "node:path";
import { SfsError } from "../errors.ts";
import { lstatOrUndefined } from "../fs.ts";
import { type ResumeState, saveResumeState, STATE_SUFFIX } from "./resume_state.ts";

/** Suffix of the temporary file a download is written to. */
export const PART_SUFFIX = ".sfs-part";
const REHASH_BUFFER_BYTES = 1024 * 1024;

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
  #written: number;
  #open = true;

  private constructor(finalPath: string, file: Deno.FsFile, force: boolean, written: number) {
    this.finalPath = finalPath;
    this.partPath = finalPath + PART_SUFFIX;
    this.statePath = finalPath + STATE_SUFFIX;
    this.#file = file;
    this.#force = force;
    this.#written = written;
  }

  /**
   * Creates a fresh `DIR/NAME.sfs-part` for a safe base name, replacing any stale part and
   * state. Fails with EXISTS before any byte is received when `DIR/NAME` exists and `force` is
   * off.
   */
  static async create(outDir: string, safeName: string, force: boolean): Promise<PartFile> {
    const finalPath = await prepare(outDir, safeName, force);
    const partPath = finalPath + PART_SUFFIX;
    // A stale part file (or a link planted under its name) is removed, not opened: remove()
    // deletes a symlink itself, and createNew (O_EXCL) never follows one.
    if (await lstatOrUndefined(partPath)) await Deno.remove(partPath);
    await Deno.remove(finalPath + STATE_SUFFIX).catch(() => {});
    const file = await Deno.open(partPath, { write: true, createNew: true, mode: 0o600 });
    return new PartFile(finalPath, file, force, 0);
  }

  /**
   * Reopens an interrupted download's part file, keeps its first `verified` bytes (anything
   * after them was never recorded as verified and is cut off) and feeds them to `rehash`, so the
   * final SHA-256 still covers the whole file. Returns undefined when the part file is missing,
   * not a regular file, or shorter than the state claims: then the caller starts over.
   */
  static async resume(
    outDir: string,
    safeName: string,
    force: boolean,
    verified: number,
    rehash: (bytes: Uint8Array) => void,
  ): Promise<PartFile | undefined> {
    const finalPath = await prepare(outDir, safeName, force);
    const partPath = finalPath + PART_SUFFIX;
    const info = await lstatOrUndefined(partPath);
    if (!info?.isFile || info.size < verified) return undefined;
    const file = await Deno.open(partPath, { read: true, write: true });
    try {
      await file.truncate(verified);
      const buffer = new Uint8Array(REHASH_BUFFER_BYTES);
      let done = 0;
      while (done < verified) {
        const n = await file.read(buffer.subarray(0, Math.min(buffer.length, verified - done)));
        if (n === null) throw new SfsError("IO", `"${partPath}" shrank while resuming`);
        rehash(buffer.subarray(0, n));
        done += n;
      }
      await file.seek(verified, Deno.SeekMode.Start);
    } catch (err) {
      file.close();
      throw err;
    }
    return new PartFile(finalPath, file, force, verified);
  }

  /** Bytes written so far (including those kept from an earlier run). */
  get written(): number {
    return this.#written;
  }

  /** Appends verified plaintext. */
  async write(data: Uint8Array): Promise<void> {
    let done = 0;
    try {
      while (done < data.length) done += await this.#file.write(data.subarray(done));
    } catch (cause) {
      throw new SfsError("IO", `Cannot write "${this.partPath}"`, {
        cause,
        hint: "Is the disk full? The download can resume once there is room",
      });
    }
    this.#written += data.length;
  }

  /**
   * Records progress for a later resume: syncs the part file first, then writes the state, so
   * the state never claims bytes that are not on disk.
   */
  async checkpoint(state: Omit<ResumeState, "verified">): Promise<void> {
    await this.#file.syncData();
    await saveResumeState(this.statePath, { ...state, verified: this.#written });
  }

  /**
   * Flushes to disk and publishes under the final name. Without `force` a hard link is used,
   * which fails rather than replace a file created meanwhile; with `force`, a rename replaces
   * the directory entry (a symlink there is replaced, never followed).
   */
  async publish(): Promise<void> {
    await this.#file.syncData();
    this.#close();
    if (this.#force) {
      await Deno.rename(this.partPath, this.finalPath);
    } else {
      try {
        await Deno.link(this.partPath, this.finalPath);
      } catch (err) {
        if (err instanceof Deno.errors.AlreadyExists) {
          throw new SfsError("EXISTS", `"${this.finalPath}" appeared while receiving`);
        }
        // File systems without hard links: check, then rename (a small window, documented).
        if (await lstatOrUndefined(this.finalPath)) {
          throw new SfsError("EXISTS", `"${this.finalPath}" appeared while receiving`);
        }
        await Deno.rename(this.partPath, this.finalPath);
      }
      await Deno.remove(this.partPath).catch(() => {});
    }
    await Deno.remove(this.statePath).catch(() => {});
    await syncDirectory(dirname(this.finalPath));
  }

  /**
   * Keeps the part file for a later resume: records the verified bytes and closes. If even
   * that fails (a full disk can refuse the small state file), the previous state still holds,
   * since it never claims more than is on disk.
   */
  async keep(state: Omit<ResumeState, "verified">): Promise<void> {
    try {
      await this.checkpoint(state);
    } catch {
      // See above: the older state file, if any, stays valid.
    }
    this.#close();
  }

  /** Closes and deletes the part and state files; the final name is never created. */
  async discard(): Promise<void> {
    this.#close();
    await Deno.remove(this.partPath).catch(() => {});
    await Deno.remove(this.statePath).catch(() => {});
  }

  #close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#file.close();
  }
}

/** Creates the output folder and refuses an existing destination unless `force`. */
async function prepare(outDir: string, safeName: string, force: boolean): Promise<string> {
  await Deno.mkdir(outDir, { recursive: true });
  const finalPath = join(outDir, safeName);
  if (!force && await lstatOrUndefined(finalPath)) {
    throw new SfsError("EXISTS", `"${finalPath}" already exists`, {
      hint: "Use --force to replace it, or --out to save elsewhere",
    });
  }
  return finalPath;
}

/** Makes the new directory entry durable where the OS allows syncing a directory. */
async function syncDirectory(path: string): Promise<void> {
  try {
    using dir = await Deno.open(path, { read: true });
    await dir.sync();
  } catch {
    // Windows cannot open a directory as a file; NTFS journals the rename itself.
  }
}
