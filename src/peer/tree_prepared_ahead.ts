/**
 * The entries of a tree being received, prepared ahead of their turn (docs/design/folders.md F6,
 * F7): each folder made, each file created in the part folder and its stream key derived, while
 * the channel delivers the file before.
 *
 * @module
 */
import { closeQuietly } from "../closable.ts";
import type { AeadKey } from "../crypto/aead.ts";
import type { ManifestEntry } from "./manifest.ts";
import type { TreePart } from "./tree_part.ts";

/** Entries prepared ahead of the one being received (see preparedAhead). */
const FILES_AHEAD = 16;

/** Where a tree transfer starts: the entry in progress and the verified bytes of its file. */
export interface TreeStart {
  readonly entry: number;
  readonly offset: number;
}

/** An entry of the manifest, with its folder or file being made and its key being derived. */
export interface Prepared {
  readonly entry: ManifestEntry;
  readonly index: number;
  /** A folder: made. */
  readonly made?: Promise<void>;
  /** A file streamed from its first byte: created, empty, in the part folder. */
  readonly created?: Promise<Deno.FsFile>;
  /** A file streamed: its stream key (F6.1). */
  readonly key?: Promise<AeadKey>;
}

/**
 * The entries in manifest order, each folder made and each file created and keyed up to
 * {@link FILES_AHEAD} entries ahead of the one being received. Creating a file costs more than
 * receiving a small one here (0.2–0.3 ms on ext4), so for a tree of small files it must not sit
 * between one stream and the next: it runs on the thread pool while the channel delivers. Folders
 * are made one after another and every file after the folders before it (canonical order puts a
 * folder before its contents). A failure is thrown only at its entry's turn; what was made
 * ahead and not taken is closed (a resume replaces files after its start: F7.3).
 */
export async function* preparedAhead(
  part: TreePart,
  entries: AsyncIterable<ManifestEntry>,
  options: {
    /** Where the sender starts: files before it are not made, the one at it is reopened. */
    start: TreeStart;
    /** The stream key of file entry `index` (F6.1). */
    keyFor: (index: number) => Promise<AeadKey>;
  },
): AsyncGenerator<Prepared> {
  const { start } = options;
  const resuming = start.entry > 0 || start.offset > 0;
  const ahead: Prepared[] = [];
  let folders: Promise<void> = Promise.resolve();
  let index = -1;
  try {
    for await (const entry of entries) {
      index++;
      let prepared: Prepared = { entry, index };
      if (entry.kind === "folder") {
        const path = entry.path;
        // A resumed run may find it made already (folders are made as their turn comes).
        folders = folders.then(() => part.addFolder(path, { existing: resuming }));
        prepared = { ...prepared, made: folders };
      } else if (index >= start.entry) {
        const fromZero = !(index === start.entry && start.offset > 0);
        prepared = {
          ...prepared,
          // A resumed run may find files after its start half written by a run that crashed
          // before its next checkpoint: they are replaced.
          created: fromZero
            ? folders.then(() =>
              part.createFile(entry.path, entry.executable, { replace: resuming })
            )
            : undefined,
          key: options.keyFor(index),
        };
      }
      // Awaited in turn; until then a failure must not count as unhandled.
      for (const p of [prepared.made, prepared.created, prepared.key]) p?.catch(() => {});
      ahead.push(prepared);
      if (ahead.length > FILES_AHEAD) yield ahead.shift()!;
    }
    while (ahead.length > 0) yield ahead.shift()!;
  } finally {
    for (const p of ahead.splice(0)) {
      p.created?.then(closeQuietly, () => {});
      p.key?.then((key) => key.dispose(), () => {});
    }
  }
}
