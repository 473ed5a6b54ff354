/**
 * What a share lists (docs/design/folders.md F3.6): its one file, its folder walked, or several
 * files and folders as the top-level entries of one folder, each entry with its path on disk,
 * and where a manifest path is on disk when its file is served.
 *
 * @module
 */
import { basename, resolve } from "../path.ts";
import { SfsError } from "../errors.ts";
import { escapeForDisplay } from "../text.ts";
import { isExcluded, parseExclude } from "./exclude_glob.ts";
import {
  compareNames,
  componentProblem,
  foldKey,
  MAX_TREE_DEPTH,
  MAX_TREE_PATH_BYTES,
} from "./tree_paths.ts";
import { type SkipCounts, type TreeEntry, walkTree } from "./tree_walk.ts";

const ENCODER = new TextEncoder();

/** One entry as the walk (or the list of roots) found it, with its path on disk. */
export interface Found extends TreeEntry {
  readonly absolute: string;
}

/** The last component of a path the user typed (`.` and `..` name the folder they are). */
export function nameOf(path: string): string {
  return basename(resolve(path)) || path;
}

/** Maps a manifest path to where it is on disk. */
export function sourceMap(roots: readonly string[], several: boolean): (path: string) => string {
  if (!several) return (path) => `${roots[0]}/${path}`;
  const tops = new Map(roots.map((r) => [nameOf(r), r]));
  return (path) => {
    const slash = path.indexOf("/");
    const top = slash < 0 ? path : path.slice(0, slash);
    const base = tops.get(top);
    if (base === undefined) throw new SfsError("INTERNAL", `No source for "${top}"`);
    return slash < 0 ? base : `${base}/${path.slice(slash + 1)}`;
  };
}

export async function* oneFile(
  path: string,
  name: string,
  info: Deno.FileInfo,
): AsyncGenerator<Found> {
  yield { path: name, kind: "file", info, absolute: path };
}

export async function* oneFolder(
  root: string,
  exclude: readonly string[],
  skipped: SkipCounts,
): AsyncGenerator<Found> {
  const walk = walkTree(root, { exclude });
  try {
    for await (const e of walk) yield { ...e, absolute: `${root}/${e.path}` };
  } finally {
    addSkipped(skipped, walk.skipped);
  }
}

/**
 * Several paths as the top-level entries of one folder (F3.2): sorted like any folder's names,
 * refused when two collide (NAME_COLLISION) or one is not a portable name (UNSAFE_NAME: the user
 * typed it, so it is not skipped silently); each folder is walked below its own name. `--exclude`
 * patterns apply inside each folder, relative to it, and to the top-level names.
 */
export async function* severalRoots(
  roots: readonly string[],
  exclude: readonly string[],
  skipped: SkipCounts,
): AsyncGenerator<Found> {
  const patterns = exclude.map(parseExclude);
  const tops: { name: string; path: string; info: Deno.FileInfo }[] = [];
  for (const path of roots) {
    const name = nameOf(path);
    const info = await Deno.stat(path);
    const problem = componentProblem(name);
    if (problem !== undefined) {
      throw new SfsError("UNSAFE_NAME", `"${escapeForDisplay(name)}" ${problem}`, {
        hint: "Rename it, or share its folder instead",
      });
    }
    if (!info.isFile && !info.isDirectory) {
      throw new SfsError("USAGE", `"${escapeForDisplay(path)}" is not a file or a folder`);
    }
    if (isExcluded(patterns, name, info.isDirectory)) {
      skipped.excluded++;
      continue;
    }
    tops.push({ name, path, info });
  }
  tops.sort((a, b) => compareNames(a.name, b.name));
  const keys = new Map<string, string>();
  for (const { name } of tops) {
    const other = keys.get(foldKey(name));
    if (other !== undefined) {
      throw new SfsError(
        "NAME_COLLISION",
        `"${escapeForDisplay(other)}" and "${
          escapeForDisplay(name)
        }" would be one name in the share`,
        { hint: "Share them separately, or put them in folders" },
      );
    }
    keys.set(foldKey(name), name);
  }
  for (const top of tops) {
    if (top.info.isFile) {
      yield { path: top.name, kind: "file", info: top.info, absolute: top.path };
      continue;
    }
    yield { path: top.name, kind: "folder", info: top.info, absolute: top.path };
    // The top-level name is one more component and its bytes in front of every path below.
    const walk = walkTree(top.path, {
      exclude,
      maxDepth: MAX_TREE_DEPTH - 1,
      maxPathBytes: MAX_TREE_PATH_BYTES - ENCODER.encode(top.name).length - 1,
    });
    try {
      for await (const e of walk) {
        yield { ...e, path: `${top.name}/${e.path}`, absolute: `${top.path}/${e.path}` };
      }
    } finally {
      addSkipped(skipped, walk.skipped);
    }
  }
}

function addSkipped(into: SkipCounts, from: SkipCounts): void {
  for (const key of Object.keys(from) as (keyof SkipCounts)[]) into[key] += from[key];
}

/** Skip counts at zero. */
export function noneSkipped(): SkipCounts {
  return { symlink: 0, device: 0, socket: 0, fifo: 0, unsafeName: 0, other: 0, excluded: 0 };
}
