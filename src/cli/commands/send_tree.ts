/**
 * `sfs send DIR` and `sfs send A B C --name X`: one share of a folder or of several paths
 * (docs/PROTOCOL.md §7.6). Walks and hashes with the hash cache of SFS_HOME, shows the hashing,
 * reports what was skipped once, and hands back the signed tree to serve.
 */
import { SfsError } from "../../errors.ts";
import type { Identity } from "../../crypto/identity.ts";
import { escapeForDisplay } from "../../text.ts";
import { withHashCache } from "./send_cache.ts";
import type { HashProgress } from "../../peer/tree_manifest.ts";
import { prepareTree, type SharedTree } from "../../peer/tree_share.ts";
import type { SkipCounts } from "../../peer/tree_walk.ts";
import { componentProblem } from "../../peer/tree_paths.ts";
import { nameOf } from "../../peer/tree_roots.ts";
import type { Output } from "../output.ts";
import { onStopSignal } from "../interrupt.ts";
import { progressFor, type ProgressRow } from "../progress.ts";

/** Files at least this large get their own hashing line: the small ones go by too fast. */
const OWN_LINE_BYTES = 16 * 1024 * 1024;
/** How often the JSON `hashing` event is written while hashing. */
const EVENT_INTERVAL_MS = 500;

/** What a tree share is made of on the command line. */
export interface TreeShareOptions {
  home: string;
  /** `--name`: the share's name; by default the folder's, or the first path's (sans extension). */
  name?: string;
  /** `--exclude` patterns. */
  exclude?: string[];
}

/** Checks the paths and options before any hashing, then walks, hashes and signs the tree. */
export async function prepareTreeShare(
  paths: readonly string[],
  identity: Identity,
  options: TreeShareOptions,
  out: Output,
): Promise<SharedTree> {
  const name = await shareName(paths, options.name);
  out.note(`Hashing "${escapeForDisplay(name)}"…`);
  const shown = hashingDisplay(out, name);
  // Ctrl-C stops the walk between files, so the spool in SFS_HOME is removed (a second one
  // exits at once).
  using stop = onStopSignal();
  const tree = await withHashCache(options.home, out, async (cache) => {
    try {
      return await prepareTree(paths.length === 1 ? paths[0] : paths, identity, {
        spoolDir: options.home,
        exclude: options.exclude,
        cache,
        name,
        onProgress: shown.update,
        signal: stop.signal,
      });
    } finally {
      shown.done();
    }
  });
  shown.finished();
  reportSkipped(out, tree.manifest.skipped);
  out.note(
    `Hashed ${tree.files} file${tree.files === 1 ? "" : "s"}, ${tree.size} bytes` +
      (shown.cached() > 0 ? ` (${shown.cached()} from the hash cache)` : ""),
  );
  return tree;
}

/**
 * The share's name (one path component, F4.1): `--name`, else the folder's name for one
 * folder, else the first path's name without its extension (`report.pdf` → `report`).
 */
async function shareName(paths: readonly string[], given: string | undefined): Promise<string> {
  for (const path of paths) {
    if (!await Deno.stat(path).catch(() => undefined)) {
      throw new SfsError("USAGE", `Cannot share "${path}": no such file or folder`, {
        hint: "Check the name; relative paths start from the current folder",
      });
    }
  }
  const first = nameOf(paths[0]);
  const folder = (await Deno.stat(paths[0])).isDirectory;
  const name = given ?? (paths.length === 1 || folder ? first : stem(first));
  const problem = componentProblem(name);
  if (problem !== undefined) {
    throw new SfsError("USAGE", `The share's name "${escapeForDisplay(name)}" ${problem}`, {
      hint: "Choose another name with --name",
    });
  }
  return name;
}

/** `name` without its last extension; a name that starts with its only dot keeps it. */
function stem(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 && !/^\.+$/.test(name) ? name.slice(0, dot) : name;
}

/** Hashing progress: a line per large file, `hashing` events, and the cached count. */
function hashingDisplay(out: Output, name: string) {
  const board = progressFor(out);
  let row: ProgressRow | undefined;
  let rowPath: string | undefined;
  let lastEvent = -Infinity;
  let cachedFiles = 0;
  let last: HashProgress | undefined;
  const event = (progress: HashProgress, done: boolean) =>
    out.event("hashing", {
      name,
      entries: progress.entries,
      files: progress.files,
      bytes: progress.bytes,
      cached_files: progress.cachedFiles,
      done,
    });
  const closeRow = () => {
    row?.finish();
    row = undefined;
    rowPath = undefined;
  };
  return {
    update: (progress: HashProgress) => {
      last = progress;
      cachedFiles = progress.cachedFiles;
      const current = progress.current;
      if (current === undefined || current.path !== rowPath) closeRow();
      if (current !== undefined && current.size >= OWN_LINE_BYTES) {
        row ??= board.add({
          label: `Hashing ${current.path}`,
          total: current.size,
          fields: { phase: "hashing", name, path: current.path },
        });
        rowPath = current.path;
        row.update(current.hashed);
      }
      const now = performance.now();
      if (now - lastEvent >= EVENT_INTERVAL_MS) {
        lastEvent = now;
        event(progress, false);
      }
    },
    done: closeRow,
    /** The totals, whatever the last throttled event said. */
    finished: () => {
      if (last !== undefined) event({ ...last, current: undefined }, true);
    },
    cached: () => cachedFiles,
  };
}

const SKIP_WORDS: Record<keyof SkipCounts, [string, string]> = {
  symlink: ["symlink", "symlinks"],
  device: ["device", "devices"],
  socket: ["socket", "sockets"],
  fifo: ["FIFO", "FIFOs"],
  unsafeName: ["unportable name", "unportable names"],
  other: ["file that changed meanwhile", "files that changed meanwhile"],
  excluded: ["excluded entry", "excluded entries"],
};

/** Each non-zero skip count, once: `sfs: skipped 3 symlinks, 1 FIFO` (and a `skipped` event). */
function reportSkipped(out: Output, skipped: SkipCounts): void {
  const parts = (Object.keys(SKIP_WORDS) as (keyof SkipCounts)[])
    .filter((kind) => skipped[kind] > 0)
    .map((kind) => `${skipped[kind]} ${SKIP_WORDS[kind][skipped[kind] === 1 ? 0 : 1]}`);
  out.event("skipped", { ...skipped });
  if (parts.length === 0) return;
  const excludedOnly = parts.length === 1 && skipped.excluded > 0;
  const text = `Skipped ${parts.join(", ")}`;
  if (excludedOnly) out.note(text);
  else {
    out.warn(text, {
      hint: "Symlinks, devices, sockets, FIFOs and names other systems cannot store are not sent",
    });
  }
}
