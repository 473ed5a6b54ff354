/**
 * The sender's walk of a shared folder (docs/design/folders.md F2): regular files and folders,
 * empty ones too, depth first in the canonical order of a manifest (each folder's names sorted by
 * their UTF-8 bytes, a folder before its contents), as an async generator.
 *
 * Memory is bounded by the path being walked, not by the tree: the stack holds, for each folder
 * from the root down to the current one, its sorted names and a cursor, and nothing else. A
 * folder's listing is read whole and closed before its first child is visited (sorting needs it
 * whole), so no directory handle stays open across levels and a deep tree cannot run out of file
 * descriptors. Each entry is `lstat`ed when its turn comes, not when its folder is listed.
 *
 * Symlinks are never followed and never yielded; devices, sockets and FIFOs are not yielded
 * either, nor names a receiver would refuse (src/peer/tree_paths.ts). Each is counted by kind,
 * for the caller to report once. Two names of one folder that would be the same file on a
 * case-folding file system stop the walk (NAME_COLLISION): skipping one would be a guess.
 *
 * @module
 */
import { countWork } from "../gc.ts";
import { SfsError } from "../errors.ts";
import { sameFile } from "../fs.ts";
import { displayExcerpt, escapeForDisplay } from "../text.ts";
import { type ExcludePattern, isExcluded, parseExclude } from "./exclude_glob.ts";
import {
  compareNames,
  componentProblem,
  foldKey,
  MAX_FOLDER_ENTRIES,
  MAX_TREE_DEPTH,
  MAX_TREE_PATH_BYTES,
} from "./tree_paths.ts";

/** One regular file or folder of the tree. */
export interface TreeEntry {
  /** Path relative to the shared folder, components joined by `/`. */
  readonly path: string;
  readonly kind: "file" | "folder";
  /** Its `lstat`, taken when the walk reached it. */
  readonly info: Deno.FileInfo;
}

/** What the walk left out, by kind. */
export interface SkipCounts {
  symlink: number;
  device: number;
  socket: number;
  fifo: number;
  /** A name a receiver would refuse (tree_paths.ts `componentProblem`). */
  unsafeName: number;
  /** Whatever else `lstat` cannot classify. */
  other: number;
  /** Matched by `--exclude` (counted once per excluded name; a folder's contents are not read). */
  excluded: number;
}

/** Options of {@link walkTree}. */
export interface WalkOptions {
  /**
   * `--exclude` patterns (src/peer/exclude_glob.ts syntax).
   * @default {[]}
   */
  exclude?: readonly string[];
  /**
   * Most components in a path; deeper is TREE_LIMIT.
   * @default {MAX_TREE_DEPTH}
   */
  maxDepth?: number;
  /**
   * Longest relative path in UTF-8 bytes; longer is TREE_LIMIT.
   * @default {MAX_TREE_PATH_BYTES}
   */
  maxPathBytes?: number;
  /**
   * Most names in one folder; more is TREE_LIMIT.
   * @default {MAX_FOLDER_ENTRIES}
   */
  maxFolderEntries?: number;
}

/** One folder on the stack: where it is, its sorted names, and the next one to visit. */
interface Frame {
  readonly absolute: string;
  readonly relative: string;
  readonly names: string[];
  next: number;
}

const ENCODER = new TextEncoder();

/**
 * A walk of one folder: iterate it for the entries, then read {@link TreeWalk.skipped}. Can be
 * iterated once.
 */
export class TreeWalk implements AsyncIterable<TreeEntry> {
  readonly #root: string;
  readonly #exclude: ExcludePattern[];
  readonly #maxDepth: number;
  readonly #maxPathBytes: number;
  readonly #maxFolderEntries: number;
  /** What was left out so far; complete once the iteration ended. */
  readonly skipped: SkipCounts = {
    symlink: 0,
    device: 0,
    socket: 0,
    fifo: 0,
    unsafeName: 0,
    other: 0,
    excluded: 0,
  };

  constructor(root: string, options: WalkOptions = {}) {
    this.#root = root;
    this.#exclude = (options.exclude ?? []).map(parseExclude);
    this.#maxDepth = options.maxDepth ?? MAX_TREE_DEPTH;
    this.#maxPathBytes = options.maxPathBytes ?? MAX_TREE_PATH_BYTES;
    this.#maxFolderEntries = options.maxFolderEntries ?? MAX_FOLDER_ENTRIES;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<TreeEntry> {
    // The root is the one path the user typed: a symlink there is followed (as `cp -r` and
    // `tar` do for their arguments); nothing below it is.
    const root = await Deno.stat(this.#root);
    if (!root.isDirectory) {
      throw new SfsError("NOT_A_FOLDER", `"${escapeForDisplay(this.#root)}" is not a folder`);
    }
    const stack: Frame[] = [await this.#open(this.#root, "", root)];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1];
      if (frame.next === frame.names.length) {
        stack.pop();
        continue;
      }
      const name = frame.names[frame.next++];
      const relative = frame.relative === "" ? name : `${frame.relative}/${name}`;
      const absolute = `${frame.absolute}/${name}`;
      const entry = this.#classify(absolute, relative, stack.length);
      if (entry === undefined) continue;
      countWork();
      yield entry;
      if (entry.kind === "folder") stack.push(await this.#open(absolute, relative, entry.info));
    }
  }

  /**
   * Lists a folder: the names of its files and folders, sorted; what is left out is counted
   * (`readDir` tells symlinks, files and folders apart without a `stat`); collisions are refused.
   */
  async #open(absolute: string, relative: string, listed: Deno.FileInfo): Promise<Frame> {
    const names: string[] = [];
    for await (const entry of Deno.readDir(absolute)) {
      if (names.length === this.#maxFolderEntries) {
        throw limit(relative, `has more than ${this.#maxFolderEntries} entries`);
      }
      const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (isExcluded(this.#exclude, path, entry.isDirectory)) {
        this.skipped.excluded++;
      } else if (componentProblem(entry.name) !== undefined) {
        this.skipped.unsafeName++;
      } else if (entry.isSymlink) {
        this.skipped.symlink++;
      } else if (entry.isFile || entry.isDirectory) {
        names.push(entry.name);
      } else {
        this.#countSkipped(await Deno.lstat(`${absolute}/${entry.name}`));
      }
    }
    // `readDir` follows a symlink, so a folder swapped for one after its `lstat` would be listed
    // from wherever it points. Deno has no openat/O_NOFOLLOW to pin the folder, so check that it
    // is still the folder it was; what is left is a swap and a swap back within the listing.
    // The root alone was found by following a symlink (see the iterator), so it is checked so.
    const now = relative === "" ? await Deno.stat(absolute) : await Deno.lstat(absolute);
    if (!now.isDirectory || !sameFile(now, listed)) {
      throw new SfsError("FILE_CHANGED", `"${escapeForDisplay(relative)}" changed during the walk`);
    }
    names.sort(compareNames);
    // Collisions can only be between siblings. Checked on what is left to share, so that
    // excluding one of two colliding names is the way out.
    const keys = new Map<string, string>();
    for (const name of names) {
      const key = foldKey(name);
      const other = keys.get(key);
      if (other !== undefined) {
        const where = relative === "" ? "the shared folder" : `"${escapeForDisplay(relative)}"`;
        throw new SfsError(
          "NAME_COLLISION",
          `"${escapeForDisplay(other)}" and "${
            escapeForDisplay(name)
          }" in ${where} differ only in case or Unicode form`,
        );
      }
      keys.set(key, name);
    }
    return { absolute, relative, names, next: 0 };
  }

  /** The entry at `absolute` with its `lstat`, or undefined when it is left out (and counted). */
  #classify(
    absolute: string,
    relative: string,
    depth: number,
  ): TreeEntry | undefined {
    // Synchronous: a cached lstat takes microseconds, an async one a thread-pool round trip.
    const info = Deno.lstatSync(absolute);
    const kind = info.isFile ? "file" : info.isDirectory ? "folder" : undefined;
    // Replaced by something else since its folder was listed: left out like any such entry.
    if (kind === undefined) {
      this.#countSkipped(info);
      return undefined;
    }
    if (depth > this.#maxDepth) throw limit(relative, `is deeper than ${this.#maxDepth} levels`);
    if (ENCODER.encode(relative).length > this.#maxPathBytes) {
      throw limit(relative, `is longer than ${this.#maxPathBytes} bytes`);
    }
    return { path: relative, kind, info };
  }

  #countSkipped(info: Deno.FileInfo): void {
    if (info.isSymlink) this.skipped.symlink++;
    else if (info.isBlockDevice || info.isCharDevice) this.skipped.device++;
    else if (info.isSocket) this.skipped.socket++;
    else if (info.isFifo) this.skipped.fifo++;
    else this.skipped.other++;
  }
}

/** Walks the folder at `root`; see {@link TreeWalk}. */
export function walkTree(root: string, options: WalkOptions = {}): TreeWalk {
  return new TreeWalk(root, options);
}

function limit(relative: string, why: string): SfsError {
  return new SfsError("TREE_LIMIT", `"${displayExcerpt(relative)}" ${why}`);
}
