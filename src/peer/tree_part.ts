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
 * An interrupted download's part folder is reopened ({@link TreePart.reopen}) only after checks
 * that it is a folder of ours and not a link (F7.3); files in it are reopened only when they
 * are regular files with one name.
 *
 * Besides `tree/`, the part folder holds `manifest` (the signed manifest as received, in the
 * proof format, F9) and `state` (tree_state.ts). Publishing links `manifest` to
 * `DIR/NAME.sfs-proof` unless no proof is wanted, then renames `tree/` to `DIR/NAME`.
 *
 * @module
 */
import { join } from "../path.ts";
import { SfsError } from "../errors.ts";
import { escapeForDisplay } from "../text.ts";
import { lstatOrUndefined, ownerOfNewFiles, sameFile } from "../fs.ts";
import { PART_SUFFIX } from "./part_file.ts";
import { linkOrRename, removeIfSame, removeName, syncDirectory } from "./part_file_paths.ts";
import { PROOF_SUFFIX } from "./proof.ts";
import { checkTreePath, componentProblem } from "./tree_paths.ts";
import { nameExists, ReservedName } from "./tree_reserved_name.ts";

/** Suffix an existing tree is moved to while `--force` replaces it. */
const OLD_SUFFIX = ".sfs-old";

/** Options of {@link TreePart.create} and {@link TreePart.reopen}. */
export interface TreePartOptions {
  /**
   * Replace an existing `DIR/NAME` (and `DIR/NAME.sfs-proof`) when publishing.
   * @default {false}
   */
  force?: boolean;
  /**
   * Keep the proof `DIR/NAME.sfs-proof` (F9); an existing one is then refused up front like
   * an existing tree, since it may be someone's evidence.
   * @default {true}
   */
  proof?: boolean;
  /**
   * Called by {@link TreePart.publish} after `DIR/NAME` is made, just before the tree is renamed
   * onto it (a test races it here).
   * @default {none}
   */
  onPublish?: () => Promise<void>;
}

/** A tree being received into `DIR/.NAME.sfs-part/tree/`. */
export class TreePart {
  /** `DIR/NAME`, where the tree appears when published. */
  readonly finalPath: string;
  /** `DIR/.NAME.sfs-part`, the part file's suffix (§7.4). */
  readonly partPath: string;
  /** `DIR/NAME.sfs-proof`, where the proof goes when published (unless none is wanted). */
  readonly proofPath: string | undefined;
  /** The signed manifest as received, in the proof format (F9). */
  readonly manifestPath: string;
  /** The resume state (tree_state.ts). */
  readonly statePath: string;
  readonly #outDir: string;
  readonly #name: string;
  readonly #tree: string;
  readonly #force: boolean;
  readonly #onPublish: (() => Promise<void>) | undefined;

  private constructor(outDir: string, name: string, options: TreePartOptions) {
    this.#outDir = outDir;
    this.#name = name;
    this.#force = options.force ?? false;
    this.#onPublish = options.onPublish;
    this.finalPath = join(outDir, name);
    this.partPath = join(outDir, `.${name}${PART_SUFFIX}`);
    this.proofPath = (options.proof ?? true) ? this.finalPath + PROOF_SUFFIX : undefined;
    this.manifestPath = join(this.partPath, "manifest");
    this.statePath = join(this.partPath, "state");
    this.#tree = join(this.partPath, "tree");
  }

  /** The part folder of the share `name` in `outDir` (nothing is checked or touched). */
  static partPathOf(outDir: string, name: string): string {
    return join(outDir, `.${name}${PART_SUFFIX}`);
  }

  /**
   * Makes the part folder for the share `name` in `outDir`: UNSAFE_NAME for a name F4.1 refuses,
   * EXISTS when `DIR/NAME` or its proof exists (without `force`) or a part folder is already
   * there.
   */
  static async create(
    outDir: string,
    name: string,
    options: TreePartOptions = {},
  ): Promise<TreePart> {
    const part = await TreePart.#prepare(outDir, name, options);
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

  /**
   * Reopens the part folder an interrupted download left (F7.3), after the checks that make
   * writing into it safe: the part folder and its `tree/` are folders (not links) owned by us
   * and writable by nobody else, `manifest` is a regular file. Returns the reason instead when
   * it must not be used (the caller discards it and starts over); EXISTS and UNSAFE_NAME as
   * {@link create}.
   */
  static async reopen(
    outDir: string,
    name: string,
    options: TreePartOptions = {},
  ): Promise<TreePart | { reason: string }> {
    const part = await TreePart.#prepare(outDir, name, options);
    const [folder, tree, manifest] = await Promise.all(
      [part.partPath, part.#tree, part.manifestPath].map(lstatOrUndefined),
    );
    if (!folder?.isDirectory || !tree?.isDirectory) {
      return { reason: "the part folder is incomplete or not a folder" };
    }
    if (!manifest?.isFile) return { reason: "the part folder has no manifest" };
    const owner = await ownerOfNewFiles(outDir);
    for (const info of [folder, tree, manifest]) {
      if (owner !== null && info.uid !== owner) {
        return { reason: "the part folder belongs to another user" };
      }
      if (info.mode !== null && (info.mode & 0o022) !== 0 && info !== tree) {
        return { reason: "others may write to the part folder" };
      }
    }
    return part;
  }

  static async #prepare(outDir: string, name: string, options: TreePartOptions): Promise<TreePart> {
    const problem = componentProblem(name);
    if (problem !== undefined) {
      throw new SfsError("UNSAFE_NAME", `Share name "${escapeForDisplay(name)}" ${problem}`);
    }
    const part = new TreePart(outDir, name, options);
    await Deno.mkdir(outDir, { recursive: true });
    if (!part.#force) {
      for (const path of [part.finalPath, part.proofPath]) {
        if (path !== undefined && await lstatOrUndefined(path)) throw nameExists(path);
      }
    }
    return part;
  }

  /**
   * Removes the part folder an earlier download of `name` left (another share, or one that
   * cannot be continued). Removal never follows a link: a link planted there loses its name.
   */
  static async discardStale(outDir: string, name: string): Promise<void> {
    await Deno.remove(TreePart.partPathOf(outDir, name), { recursive: true }).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }

  /** Creates `manifest` in the part folder for writing; it must not exist. */
  async createManifest(): Promise<Deno.FsFile> {
    return await Deno.open(this.manifestPath, { write: true, createNew: true, mode: 0o600 });
  }

  /**
   * Makes the folder at the relative `path`; its parent must exist (canonical order). With
   * `existing`, a folder already there (made by an interrupted run) is fine.
   */
  async addFolder(path: string, options: { existing?: boolean } = {}): Promise<void> {
    const full = this.#pathOf(path);
    try {
      await Deno.mkdir(full, { mode: 0o755 });
    } catch (err) {
      const reuse = options.existing && err instanceof Deno.errors.AlreadyExists &&
        (await Deno.lstat(full)).isDirectory;
      if (!reuse) throw err;
    }
  }

  /**
   * Creates the file at the relative `path` for writing; it must not exist, or with `replace`
   * whatever is under its name (left by an interrupted run) loses that name first.
   */
  async createFile(
    path: string,
    executable: boolean,
    options: { replace?: boolean } = {},
  ): Promise<Deno.FsFile> {
    const full = this.#pathOf(path);
    if (options.replace) await removeName(full);
    return await Deno.open(full, {
      write: true,
      createNew: true,
      mode: executable ? 0o755 : 0o644,
    });
  }

  /**
   * Checks a file an earlier run completed (F7.3): a regular file of `size` bytes with one
   * name. Returns the reason when it is not (the caller starts over).
   */
  async checkDone(path: string, size: number): Promise<string | undefined> {
    const info = await lstatOrUndefined(this.#pathOf(path));
    if (!info?.isFile || (info.nlink !== null && info.nlink !== 1)) return "a file is missing";
    return info.size === size ? undefined : "a file has changed size";
  }

  /**
   * Reopens the file an earlier run was receiving, cut to its first `verified` bytes, for
   * reading them again and appending. Returns the reason instead when it must not be used: it
   * is missing, a link, has other names, or is shorter than `verified`.
   */
  async reopenFile(path: string, verified: number): Promise<Deno.FsFile | { reason: string }> {
    const full = this.#pathOf(path);
    const named = await lstatOrUndefined(full);
    if (!named?.isFile) return { reason: "the file in progress is missing" };
    const file = await Deno.open(full, { read: true, write: true });
    const opened = await file.stat();
    const reason = !sameFile(opened, named) || !opened.isFile
      ? "the file in progress changed while being opened"
      : opened.nlink !== null && opened.nlink !== 1
      ? "the file in progress has other names (links)"
      : opened.size < verified
      ? "the file in progress is shorter than recorded"
      : undefined;
    if (reason !== undefined) {
      file.close();
      return { reason };
    }
    await file.truncate(verified);
    return file;
  }

  /** Sets a folder's modification time (after everything in it was written). */
  async setFolderTime(path: string, mtimeMs: number): Promise<void> {
    const time = new Date(mtimeMs);
    await Deno.utime(this.#pathOf(path), time, time);
  }

  /** Syncs the folder at the relative `path` (its entries become durable). */
  async syncFolder(path: string): Promise<void> {
    await syncDirectory(path === "" ? this.#tree : this.#pathOf(path));
  }

  /**
   * Gives the manifest its proof name (unless no proof is wanted), renames the tree to
   * `DIR/NAME` and removes the part folder; returns the tree's path. An existing `DIR/NAME` is
   * EXISTS without `force`; with it, it is moved aside first and removed after (a crash between
   * leaves it as `DIR/.NAME.sfs-old`, never half a tree under the final name). Without `force`
   * the proof is linked, which fails rather than replace one made meanwhile.
   *
   * `DIR/NAME` is reserved first (tree_reserved_name.ts), so nothing made under it meanwhile is
   * replaced.
   */
  async publish(): Promise<string> {
    const existing = await lstatOrUndefined(this.finalPath);
    const old = join(this.#outDir, `.${this.#name}${OLD_SUFFIX}`);
    if (existing) {
      if (!this.#force) throw nameExists(this.finalPath);
      await Deno.remove(old, { recursive: true }).catch(() => {});
      await Deno.rename(this.finalPath, old);
    }
    let reserved: ReservedName | undefined;
    let proof: Deno.FileInfo | undefined;
    try {
      reserved = await ReservedName.reserve(this.finalPath);
      const manifest = await lstatOrUndefined(this.manifestPath);
      if (this.proofPath !== undefined) {
        await linkOrRename(this.manifestPath, this.proofPath, this.#force);
        proof = manifest;
      }
      await this.#onPublish?.();
      await reserved.renameOnto(this.#tree);
    } catch (err) {
      // No proof without its tree: it would only make the next get refuse the name.
      if (this.proofPath !== undefined && proof) await removeIfSame(this.proofPath, proof);
      await reserved?.release();
      if (existing) await Deno.rename(old, this.finalPath).catch(() => {});
      throw err;
    } finally {
      reserved?.[Symbol.dispose]();
    }
    // Recursive removal deletes symlinks, never what they point to.
    if (existing) await Deno.remove(old, { recursive: true });
    await Deno.remove(this.partPath, { recursive: true });
    await syncDirectory(this.#outDir);
    return this.finalPath;
  }

  /** Removes the part folder and everything in it. */
  async discard(): Promise<void> {
    await TreePart.discardStale(this.#outDir, this.#name);
  }

  #pathOf(path: string): string {
    return join(this.#tree, ...checkTreePath(path));
  }
}
