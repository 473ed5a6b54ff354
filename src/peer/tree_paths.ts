/**
 * Relative paths inside a shared folder (docs/design/folders.md F4): the one check every path of a
 * received manifest goes through before the receiver touches the file system, the order entries
 * must come in, and the collision check.
 *
 * Unlike {@link safeFileName}, which repairs a single untrusted name, a tree path is refused when
 * anything is wrong with it: a repair could turn two entries into one (`a:b` and `a_b`), and the
 * owner signed the path as it is, so a proof could no longer be checked against the tree. The
 * sender applies the same rules while it walks (src/peer/tree_walk.ts) and skips what they
 * refuse, so an honest manifest never fails here.
 *
 * Pure: no I/O.
 *
 * @module
 */
import { SfsError } from "../errors.ts";
import { displayExcerpt, isDisplaySafe } from "../text.ts";
import { isWindowsDeviceName, RESERVED_SUFFIXES } from "./names.ts";
import { MAX_MANIFEST_PATH_BYTES } from "../wire/tree_messages.ts";

/**
 * Most components a path may have. Real trees stay far below (deep `node_modules` reach ~40);
 * the bound keeps the walk's stack and the receiver's collision sets small.
 */
export const MAX_TREE_DEPTH = 128;
/**
 * Longest relative path in UTF-8 bytes. Linux refuses paths over 4096 bytes (PATH_MAX); 1 KiB is
 * left for the receiver's `DIR/.NAME.sfs-part/tree/` in front.
 */
export const MAX_TREE_PATH_BYTES = MAX_MANIFEST_PATH_BYTES;
/** Longest component in UTF-8 bytes: ext4, APFS and NTFS allow 255. */
export const MAX_COMPONENT_BYTES = 255;

/**
 * Characters refused in a component: `/` separates components; `\` separates them on Windows;
 * `:` names an NTFS stream or a drive (`C:x`); the rest Windows cannot store. A manifest is one
 * signed object that must unpack the same everywhere, so these are refused on every platform.
 */
const UNPORTABLE = /[/\\:<>"|?*]/;
/** Our own suffixes, and the proof's: a tree must not carry files that sfs itself writes. */
const TREE_RESERVED_SUFFIXES = [...RESERVED_SUFFIXES, ".sfs-proof"] as const;

const ENCODER = new TextEncoder();

/**
 * What is wrong with `name` as one component of a tree path, or undefined when nothing is.
 * The sender uses it to skip such names, the receiver (through {@link checkTreePath}) to refuse.
 */
export function componentProblem(name: string): string | undefined {
  if (name === "") return "has an empty component";
  if (name === "." || name === "..") return "has a directory reference";
  if (ENCODER.encode(name).length > MAX_COMPONENT_BYTES) {
    return `has a component over ${MAX_COMPONENT_BYTES} bytes`;
  }
  // Controls, bidi and line separators, lone surrogates (src/text.ts): invisible or acted on by
  // terminals, and a NUL would cut the path short in the OS.
  if (!isDisplaySafe(name)) return "has a control, bidi or malformed character";
  if (UNPORTABLE.test(name)) return 'has a separator or one of : < > " | ? *';
  // Windows drops trailing dots and spaces, so "a." would alias "a" there.
  if (/[. ]$/.test(name)) return "has a component ending in a dot or space";
  if (isWindowsDeviceName(name)) return "has a Windows device name";
  const lower = name.toLowerCase();
  if (TREE_RESERVED_SUFFIXES.some((suffix) => lower.endsWith(suffix))) {
    return "has a component with a suffix reserved for sfs files";
  }
  return undefined;
}

/**
 * Splits a received relative path into its components, or throws SfsError UNSAFE_NAME: no
 * absolute path, no `..` or `.`, no empty component, at most {@link MAX_TREE_DEPTH} components
 * and {@link MAX_TREE_PATH_BYTES} bytes, and every component passes {@link componentProblem}.
 * The bounds are checked before the path is split, so a path 10,000 levels deep costs nothing.
 */
export function checkTreePath(path: string): string[] {
  if (path.length > MAX_TREE_PATH_BYTES || ENCODER.encode(path).length > MAX_TREE_PATH_BYTES) {
    throw unsafe(path, `is longer than ${MAX_TREE_PATH_BYTES} bytes`);
  }
  if (path.startsWith("/")) throw unsafe(path, "is absolute");
  let separators = 0;
  for (let i = path.indexOf("/"); i !== -1; i = path.indexOf("/", i + 1)) separators++;
  if (separators + 1 > MAX_TREE_DEPTH) {
    throw unsafe(path, `is deeper than ${MAX_TREE_DEPTH} levels`);
  }
  const components = path.split("/");
  for (const component of components) {
    const problem = componentProblem(component);
    if (problem !== undefined) throw unsafe(path, problem);
  }
  return components;
}

/**
 * The key two names collide under: NFC after full case folding (as far as JavaScript offers it:
 * upper then lower case maps `ß` to `ss`, `ſ` to `s`, the Kelvin sign to `k`). Broader than any
 * one file system's folding, so what passes here is distinct on all of them.
 */
export function foldKey(name: string): string {
  return name.normalize("NFD").toUpperCase().toLowerCase().normalize("NFC");
}

/**
 * Orders two names by their UTF-8 bytes (equivalently, by code points). JavaScript's `<` compares
 * UTF-16 units, which puts U+10000 and above (surrogates, D800–DFFF) before U+E000–U+FFFF; the
 * fix-up moves surrogates above that range. Both names must be well formed.
 */
export function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** Orders two paths, given as components, the way a depth-first walk sorted by name visits them. */
export function comparePaths(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const order = compareNames(a[i], b[i]);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

/**
 * Most entries of one folder: a walk stops past it (TREE_LIMIT), a manifest with more is refused
 * (BAD_MESSAGE), since a folder's names are held in memory while it is read.
 */
export const MAX_FOLDER_ENTRIES = 1_000_000;

/** Options of {@link TreePathChecker}. */
export interface TreePathCheckerOptions {
  /**
   * Most entries of one folder.
   * @default {MAX_FOLDER_ENTRIES}
   */
  maxFolderEntries?: number;
}

/** A folder on the checker's stack: its components and its children's collision keys. */
interface OpenFolder {
  readonly components: readonly string[];
  readonly children: Set<string>;
}

/**
 * Checks the entries of a manifest one at a time, in the order they arrive (F3): each path is
 * safe ({@link checkTreePath}), comes strictly after the one before in canonical order (else
 * BAD_MESSAGE), has its parent listed before it as a folder (BAD_MESSAGE), and collides with no
 * sibling after NFC and case folding (NAME_COLLISION; an exact duplicate too).
 *
 * Memory stays bounded without a set of every path: in canonical order a folder's entries all
 * come before the first entry outside it, so only the folders from the root to the current entry
 * are kept, each with the keys of its children seen so far (at most
 * {@link MAX_FOLDER_ENTRIES} per folder, BAD_MESSAGE beyond). Two paths that collide differ first
 * in some component whose parents are equal, so comparing siblings is enough.
 */
export class TreePathChecker {
  /** `#open[d]` is the folder at depth d; `#open[0]` the root. */
  readonly #open: OpenFolder[] = [{ components: [], children: new Set() }];
  readonly #maxFolderEntries: number;
  #previous: string[] | undefined;

  constructor(options: TreePathCheckerOptions = {}) {
    this.#maxFolderEntries = options.maxFolderEntries ?? MAX_FOLDER_ENTRIES;
  }

  /** Checks the next entry's path; returns its components. */
  add(path: string, isFolder: boolean): string[] {
    const components = checkTreePath(path);
    const depth = components.length;
    if (this.#previous !== undefined) {
      const order = comparePaths(this.#previous, components);
      if (order === 0) throw collision(path);
      if (order > 0) throw malformed(`"${displayExcerpt(path)}" is out of order`);
    }
    const parent = this.#open[depth - 1];
    if (parent === undefined || comparePaths(parent.components, components.slice(0, -1)) !== 0) {
      throw malformed(`"${displayExcerpt(path)}" comes without its folder`);
    }
    // Leaving folders: canonical order never comes back into them.
    this.#open.length = depth;
    const key = foldKey(components[depth - 1]);
    if (parent.children.has(key)) throw collision(path);
    // The keys are held until the folder is left: a bound on them bounds the memory.
    if (parent.children.size >= this.#maxFolderEntries) {
      throw malformed(`a folder has more than ${this.#maxFolderEntries} entries`);
    }
    parent.children.add(key);
    if (isFolder) this.#open.push({ components, children: new Set() });
    this.#previous = components;
    return components;
  }
}

function unsafe(path: string, why: string): SfsError {
  return new SfsError("UNSAFE_NAME", `Path "${displayExcerpt(path)}" ${why}`);
}

function collision(path: string): SfsError {
  return new SfsError(
    "NAME_COLLISION",
    `Path "${
      displayExcerpt(path)
    }" is the same as an earlier one once case and Unicode form are ignored`,
  );
}

function malformed(why: string): SfsError {
  return new SfsError("BAD_MESSAGE", `Malformed manifest: ${why}`);
}
