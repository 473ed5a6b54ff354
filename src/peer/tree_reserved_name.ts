/**
 * A folder's final name held for a rename that replaces nothing (docs/design/folders.md F7.2).
 * rename(2) silently replaces an empty folder, so the name is first made here, exclusively
 * (EXISTS if anything has it), and the tree is renamed onto it only while it is still that
 * folder (same device and inode): whatever someone else makes under the name meanwhile is
 * refused (EXISTS), or makes the rename fail (a non-empty folder, a file, a link), never
 * replaced. Only an empty folder swapped in between the check and the rename could still go: it
 * holds nothing to lose.
 *
 * @module
 */
import { SfsError } from "../errors.ts";
import { lstatOrUndefined, sameFile } from "../fs.ts";
import { removeIfSame } from "./part_file_paths.ts";

/** The errors of a rename onto a name someone else took: not empty, not a folder. */
const NAME_TAKEN = new Set(["ENOTEMPTY", "EEXIST", "ENOTDIR", "EISDIR"]);

/** A final name made as an empty private folder of ours and held open; dispose it to close. */
export class ReservedName implements Disposable {
  readonly path: string;
  /** The folder made and held open (Windows: none; it renames no folder onto a name). */
  readonly #held: { handle: Deno.FsFile; info: Deno.FileInfo } | undefined;

  private constructor(
    path: string,
    held: { handle: Deno.FsFile; info: Deno.FileInfo } | undefined,
  ) {
    this.path = path;
    this.#held = held;
  }

  /**
   * Makes `path` as an empty private folder (EXISTS if the name is taken), held open: while it
   * is, its inode cannot be freed and reused by a folder someone else makes.
   */
  static async reserve(path: string): Promise<ReservedName> {
    // Windows renames no folder onto an existing name: nothing there can be replaced.
    if (Deno.build.os === "windows") return new ReservedName(path, undefined);
    try {
      await Deno.mkdir(path, { mode: 0o700 });
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) throw nameExists(path);
      throw err;
    }
    const handle = await Deno.open(path, { read: true });
    try {
      const info = await handle.stat();
      if (!info.isDirectory) throw nameExists(path);
      return new ReservedName(path, { handle, info });
    } catch (err) {
      handle.close();
      throw err;
    }
  }

  /** Renames the folder `from` onto the name while it is still ours (EXISTS if it is not). */
  async renameOnto(from: string): Promise<void> {
    const named = await lstatOrUndefined(this.path);
    const ours = this.#held === undefined
      ? named === undefined
      : named?.isDirectory && sameFile(named, this.#held.info);
    if (!ours) throw nameExists(this.path);
    await Deno.rename(from, this.path).catch((err) => {
      // Filled meanwhile (or swapped for a file or link): theirs, not replaced.
      throw err instanceof Error && "code" in err && NAME_TAKEN.has(String(err.code))
        ? nameExists(this.path)
        : err;
    });
  }

  /** Removes the folder made, while it is still ours and empty (not recursively). */
  async release(): Promise<void> {
    if (this.#held) await removeIfSame(this.path, this.#held.info);
  }

  [Symbol.dispose](): void {
    this.#held?.handle.close();
  }
}

/** The error of a name that is taken. */
export function nameExists(path: string): SfsError {
  return new SfsError("EXISTS", `"${path}" already exists`, { remedy: "replace-or-elsewhere" });
}
