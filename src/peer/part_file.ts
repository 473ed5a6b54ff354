/**
 * The receiver's output file: bytes go to `NAME.sfs-part` in the output folder and appear under
 * `NAME` only after every check passed, by an atomic link or rename. The destination is never
 * followed if it is a symlink and never overwritten without `force`.
 */
import { dirname, join } from "node:path";
import { SfsError } from "../errors.ts";

/** Suffix of the temporary file a download is written to. */
export const PART_SUFFIX = ".sfs-part";

/** A file being received. */
export class PartFile {
  /** Where the file will appear once published. */
  readonly finalPath: string;
  /** Where the bytes are written until then. */
  readonly partPath: string;
  readonly #file: Deno.FsFile;
  readonly #force: boolean;
  #written = 0;
  #open = true;

  private constructor(finalPath: string, file: Deno.FsFile, force: boolean) {
    this.finalPath = finalPath;
    this.partPath = finalPath + PART_SUFFIX;
    this.#file = file;
    this.#force = force;
  }

  /**
   * Creates `DIR/NAME.sfs-part` for a safe base name. Fails with EXISTS before any byte is
   * received when `DIR/NAME` exists and `force` is off.
   */
  static async create(outDir: string, safeName: string, force: boolean): Promise<PartFile> {
    await Deno.mkdir(outDir, { recursive: true });
    const finalPath = join(outDir, safeName);
    if (!force && await lstatOrUndefined(finalPath)) {
      throw new SfsError("EXISTS", `"${finalPath}" already exists`, {
        hint: "Use --force to replace it, or --out to save elsewhere",
      });
    }
    const partPath = finalPath + PART_SUFFIX;
    // A stale part file (or a link planted under its name) is removed, not opened: remove()
    // deletes a symlink itself, and createNew (O_EXCL) never follows one.
    if (await lstatOrUndefined(partPath)) await Deno.remove(partPath);
    const file = await Deno.open(partPath, { write: true, createNew: true, mode: 0o600 });
    return new PartFile(finalPath, file, force);
  }

  /** Bytes written so far. */
  get written(): number {
    return this.#written;
  }

  /** Appends verified plaintext. */
  async write(data: Uint8Array): Promise<void> {
    let done = 0;
    try {
      while (done < data.length) done += await this.#file.write(data.subarray(done));
    } catch (cause) {
      throw new SfsError("IO", `Cannot write "${this.partPath}"`, { cause });
    }
    this.#written += data.length;
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
    await syncDirectory(dirname(this.finalPath));
  }

  /** Closes and deletes the part file; the final name is never created. */
  async discard(): Promise<void> {
    this.#close();
    await Deno.remove(this.partPath).catch(() => {});
  }

  #close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#file.close();
  }
}

async function lstatOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
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
