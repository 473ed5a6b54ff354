/**
 * The folders of a tree being received, open from its root to the current entry
 * (docs/design/folders.md F7.2): each gets its modification time when the walk leaves it, and
 * is synced.
 *
 * @module
 */
import type { ManifestEntry } from "./manifest.ts";
import type { TreePart } from "./tree_part.ts";

/** Folders synced at once (see {@link OpenFolders}). */
const FOLDER_SYNC_BATCH = 64;

/**
 * The folders from the root to the current entry, so each gets its modification time when the
 * walk leaves it: in canonical order nothing is added to a folder after that. Folders left are
 * synced {@link FOLDER_SYNC_BATCH} at a time, together: one sync after another cost a journal
 * commit each (10,000 folders, 10,000 in a row), while concurrent ones share commits. Nothing
 * waits on them but the publish: a resume checks every kept file itself (F7.3), so a folder
 * entry lost in a crash only makes it start over.
 */
export class OpenFolders {
  readonly #part: TreePart;
  readonly #stack: ManifestEntry[] = [];
  /** Folders left and not yet synced. */
  readonly #left: string[] = [];

  constructor(part: TreePart) {
    this.#part = part;
  }

  /** Leaves every open folder that is not a parent of `path`. */
  async enter(path: string): Promise<void> {
    while (this.#stack.length > 0 && !path.startsWith(this.#stack.at(-1)!.path + "/")) {
      await this.#leave(this.#stack.pop()!);
    }
  }

  /** `folder` was made: the entries that follow may be in it. */
  opened(folder: ManifestEntry): void {
    this.#stack.push(folder);
  }

  /** Leaves every folder and syncs all of them, the tree's root last. */
  async leaveAll(): Promise<void> {
    while (this.#stack.length > 0) await this.#leave(this.#stack.pop()!);
    await this.#syncLeft();
    await this.#part.syncFolder("");
  }

  async #leave(folder: ManifestEntry): Promise<void> {
    // The time first: the sync makes it durable too.
    await this.#part.setFolderTime(folder.path, folder.mtime);
    this.#left.push(folder.path);
    if (this.#left.length >= FOLDER_SYNC_BATCH) await this.#syncLeft();
  }

  async #syncLeft(): Promise<void> {
    const paths = this.#left.splice(0);
    await Promise.all(paths.map((path) => this.#part.syncFolder(path)));
  }
}
