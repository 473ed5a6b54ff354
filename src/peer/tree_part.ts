/**
 * The folder a received tree is built in (docs/design/folders.md F7.1–F7.2): `DIR/.NAME.sfs-part/`,
 * private (0700), with the tree under `tree/`, renamed to `DIR/NAME` only once everything checked.
 *
 * Every path goes through the one safe-path check (tree_paths.ts) again here, whatever the caller
 * checked before, and is joined under `tree/` from its components. Folders are made one level at
 * a time (canonical order lists a parent first) and files with `createNew`, so nothing existing
 * is ever written through; inside a folder only this process created, with mode 0700, no symlink
 * can appear unless the receiving user's own programs put it there.
 *
 * Resuming into an existing part folder (F7.3) is not here yet: one is refused (EXISTS).
 *
 * @module
 */
import { join } from "node:path";
import { SfsError } from "../errors.ts";
import { escapeForDisplay } from "../text.ts";
import { lstatOrUndefined } from "../fs.ts";
import { PART_SUFFIX } from "./part_file.ts";
import { checkTreePath, componentProblem } from "./tree_paths.ts";

/** Suffix an existing tree is moved to while `--force` replaces it. */
const OLD_SUFFIX = ".sfs-old";

/** Options of {@link TreePart.create}. */
export interface TreePartOptions {
  /**
   * Replace an existing `DIR/NAME` when publishing.
   * @default {false}
   */
  force?: boolean;
}

/** A tree being received into `DIR/.NAME.sfs-part/tree/`. */
export class TreePart {
  /** `DIR/NAME`, where the tree appears when published. */
  readonly finalPath: string;
  /** `DIR/.NAME.sfs-part`, the part file's suffix (§7.4). */
  readonly partPath: string;
  readonly #outDir: string;
  readonly #name: string;
  readonly #tree: string;
  readonly #force: boolean;

  private constructor(outDir: string, name: string, force: boolean) {
    this.#outDir = outDir;
    this.#name = name;
    this.#force = force;
    this.finalPath = join(outDir, name);
    this.partPath = join(outDir, `.${name}${PART_SUFFIX}`);
    this.#tree = join(this.partPath, "tree");
  }

  /**
   * Makes the part folder for the share `name` in `outDir`: UNSAFE_NAME for a name F4.1 refuses,
   * EXISTS when `DIR/NAME` exists (without `force`) or a part folder is already there.
   */
  static async create(
    outDir: string,
    name: string,
    options: TreePartOptions = {},
  ): Promise<TreePart> {
    const problem = componentProblem(name);
    if (problem !== undefined) {
      throw new SfsError("UNSAFE_NAME", `Share name "${escapeForDisplay(name)}" ${problem}`);
    }
    const part = new TreePart(outDir, name, options.force ?? false);
    await Deno.mkdir(outDir, { recursive: true });
    if (!part.#force && await lstatOrUndefined(part.finalPath)) throw exists(part.finalPath);
    try {
      // Not recursive: an existing entry of that name (folder, file or symlink) fails here.
      await Deno.mkdir(part.partPath, { mode: 0o700 });
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) {
        throw new SfsError("EXISTS", `"${part.partPath}" is left from an earlier download`, {
          hint: "Remove it to start over",
        });
      }
      throw err;
    }
    // The part folder (0700) keeps the tree private while it is built, so the tree itself gets
    // the mode it will keep, the umask applying as for any folder.
    await Deno.mkdir(part.#tree, { mode: 0o755 });
    return part;
  }

  /** Makes the folder at the relative `path`; its parent must exist (canonical order). */
  async addFolder(path: string): Promise<void> {
    await Deno.mkdir(this.#pathOf(path), { mode: 0o755 });
  }

  /** Creates the file at the relative `path` for writing; it must not exist. */
  async createFile(path: string, executable: boolean): Promise<Deno.FsFile> {
    return await Deno.open(this.#pathOf(path), {
      write: true,
      createNew: true,
      mode: executable ? 0o755 : 0o644,
    });
  }

  /**
   * Renames the tree to `DIR/NAME` and removes the part folder. An existing `DIR/NAME` is
   * EXISTS without `force`; with it, it is moved aside first and removed after (a crash between
   * leaves it as `DIR/.NAME.sfs-old`, never half a tree under the final name).
   */
  async publish(): Promise<string> {
    const existing = await lstatOrUndefined(this.finalPath);
    const old = join(this.#outDir, `.${this.#name}${OLD_SUFFIX}`);
    if (existing) {
      if (!this.#force) throw exists(this.finalPath);
      await Deno.remove(old, { recursive: true }).catch(() => {});
      await Deno.rename(this.finalPath, old);
    }
    await Deno.rename(this.#tree, this.finalPath);
    // Recursive removal deletes symlinks, never what they point to.
    if (existing) await Deno.remove(old, { recursive: true });
    await Deno.remove(this.partPath, { recursive: true });
    return this.finalPath;
  }

  /** Removes the part folder and everything in it. */
  async discard(): Promise<void> {
    await Deno.remove(this.partPath, { recursive: true }).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }

  #pathOf(path: string): string {
    return join(this.#tree, ...checkTreePath(path));
  }
}

function exists(path: string): SfsError {
  return new SfsError("EXISTS", `"${path}" already exists`, { remedy: "replace-or-elsewhere" });
}
