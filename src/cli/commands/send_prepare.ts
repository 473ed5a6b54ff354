/**
 * How `sfs send` prepares what it shares (send_run.ts): a tree for a folder or several paths
 * (send_tree.ts), else the one file, hashed with progress and the hash cache of SFS_HOME.
 */
import { basename } from "../../path.ts";
import { SfsError } from "../../errors.ts";
import { toHex } from "../../crypto/bytes.ts";
import type { Identity } from "../../crypto/identity.ts";
import type { HashCache } from "../../peer/hash_cache.ts";
import { withHashCache } from "./send_cache.ts";
import { prepareFile, type Shared } from "../../peer/sender.ts";
import type { Output } from "../output.ts";
import { checkShareable } from "../paths.ts";
import { progressFor, type ProgressRow } from "../progress.ts";
import type { TreeShareOptions } from "./send_tree.ts";

/** The paths to share and how a tree of them is made. */
export interface PrepareOptions extends TreeShareOptions {
  /** The paths to share (at least one): one file, one folder, or several of either. */
  files: string[];
}

/** The share, keyed by its hex id: a tree for a folder or several paths, else the one file. */
export async function prepareShares(
  options: PrepareOptions,
  identity: Identity,
  out: Output,
): Promise<Map<string, Shared>> {
  const paths = options.files;
  // One path that is not a folder is a file share; its `stat` also picks its hash cache record.
  // One that cannot be stat'ed is reported by hashFiles.
  const single = paths.length === 1 ? await Deno.stat(paths[0]).catch(() => undefined) : undefined;
  if (paths.length !== 1 || single?.isDirectory) {
    // Loaded only for a tree: a single file's send needs none of the walk, the manifest spool
    // or the tree stream (nor the `node:` modules they bring: RSS, issue 12).
    const { prepareTreeShare } = await import("./send_tree.ts");
    const tree = await prepareTreeShare(paths, identity, options, out);
    return new Map([[toHex(tree.id), tree]]);
  }
  if (options.name !== undefined || (options.exclude ?? []).length > 0) {
    throw new SfsError("USAGE", "--name and --exclude are for a folder or several paths", {
      hint: "A single file is shared under its own name",
    });
  }
  // Only this file's record is read from the cache: a full one is ~9 MB (issue 12). A file that
  // changes meanwhile misses.
  return await withHashCache(
    options.home,
    out,
    (cache) => hashFiles(paths, identity, out, cache),
    single ? [single] : [],
  );
}

/** Hashes and describes each file, keyed by its hex file id. */
async function hashFiles(
  paths: string[],
  identity: Identity,
  out: Output,
  cache: HashCache,
): Promise<Map<string, Shared>> {
  const files = new Map<string, Shared>();
  const board = progressFor(out);
  for (const path of paths) await checkShareable(path); // every typo before any long hash
  for (const path of paths) {
    out.note(`Hashing "${path}"…`);
    // A large file takes a while to hash before anything is served: show how far it is.
    let row: ProgressRow | undefined;
    try {
      const file = await prepareFile(path, identity, {
        cache,
        onProgress: (hashed, size) => {
          row ??= board.add({
            label: `Hashing ${basename(path)}`,
            total: size,
            fields: { phase: "hashing", path },
          });
          row.update(hashed);
        },
      });
      row?.finish();
      files.set(toHex(file.id), file);
    } finally {
      row?.remove();
    }
  }
  return files;
}
