/**
 * The sender's side of a manifest (docs/design/folders.md F3.6): walk the share, hash each file
 * (or take its hash from the cache), spool the encoded entries to a file, then hash header and
 * spool and sign. Memory stays flat however many files there are: entries go to the spool as
 * they are made, and pages are read back from it when they are sent (tree_spool.ts).
 *
 * @module
 */
import { type ContentStamp, settledStampOf } from "./content_stamp.ts";
import { SfsError } from "../errors.ts";
import type { Bytes } from "../crypto/bytes.ts";
import type { Identity } from "../crypto/identity.ts";
import type { Signatures } from "../crypto/sign.ts";
import { sameFile } from "../fs.ts";
import { hashContent } from "./content_hash.ts";
import type { HashCache } from "./hash_cache.ts";
import {
  encodeManifestEntry,
  encodeManifestHeader,
  type ManifestEntry,
  ManifestHasher,
  type ManifestHeader,
  signManifest,
} from "./manifest.ts";
import { MAX_MANIFEST_BYTES } from "./manifest.ts";
import type { SkipCounts } from "./tree_walk.ts";
import {
  type Found,
  nameOf,
  noneSkipped,
  oneFile,
  oneFolder,
  severalRoots,
  sourceMap,
} from "./tree_roots.ts";
import {
  type BuiltEntry,
  encodeIdRecord,
  readBlocks,
  spooledEntries,
  spoolPages,
  SpoolWriter,
} from "./tree_spool.ts";

const ZERO_HASH = new Uint8Array(32);
/** Files hashed at once, when they are small (see spoolEntries). */
const FILES_AHEAD = 8;
/** Below this a file is hashed alongside others; from it on, alone. */
const SMALL_FILE_BYTES = 1024 * 1024;
/** An entry as made, with the `fstat` its file was hashed under (folders: none). */
/** An entry made, with its file's `fstat` and settled stamp (folders: neither). */
type Made = {
  entry: ManifestEntry;
  info: Deno.FileInfo | undefined;
  stamp: ContentStamp | undefined;
};

/** Where hashing has got to, for a progress display. */
export interface HashProgress {
  /** Files and folders listed so far. */
  readonly entries: number;
  /** Files hashed or found in the cache so far, and their bytes. */
  readonly files: number;
  readonly bytes: number;
  /** Of those, found in the cache. */
  readonly cachedFiles: number;
  /** The file being hashed now, while it is read (absent between files). */
  readonly current?: { readonly path: string; readonly size: number; readonly hashed: number };
}

/** Options of {@link buildManifest}. */
export interface BuildManifestOptions {
  /** Folder for the spool file (in SFS_HOME, so it is private). */
  spoolDir: string;
  /**
   * `--exclude` patterns, for a folder.
   * @default {[]}
   */
  exclude?: readonly string[];
  /** Hash cache to read and fill; none: every file is hashed. */
  cache?: HashCache;
  /**
   * The share's name; required for several roots.
   * @default the last component of `root`
   */
  name?: string;
  /**
   * The clock, ms since the epoch (creation time, and the hash cache's racy-change rule).
   * @default {Date.now}
   */
  now?: () => number;
  /** Called after each entry. */
  onProgress?: (progress: HashProgress) => void;
  /**
   * Stops the walk between entries (Ctrl-C): INTERRUPTED, and the spool is removed.
   * @default never
   */
  signal?: AbortSignal;
  /**
   * Most bytes of entries: past it the walk stops (TREE_LIMIT), since no receiver takes more.
   * @default {MAX_MANIFEST_BYTES}
   */
  maxManifestBytes?: number;
}

export type { BuiltEntry } from "./tree_spool.ts";

/** A signed manifest whose entries wait in a spool file; dispose it to remove the spool. */
export interface BuiltManifest extends AsyncDisposable {
  readonly header: ManifestHeader;
  readonly headerBytes: Bytes;
  readonly manifestHash: Bytes;
  readonly signatures: Signatures;
  /** What the walk left out (a single file: all zero). */
  readonly skipped: SkipCounts;
  /** The pages (F3.3), read back from the spool, at most `maxPageBytes` each. */
  pages(options?: { maxPageBytes?: number }): AsyncGenerator<Bytes>;
  /** The entries in order, read back from the spool, with their sources on disk. */
  entries(): AsyncGenerator<BuiltEntry>;
}

/**
 * Makes and signs the manifest of the file or folder at `root` (F3.6), or of several files and
 * folders as the top-level entries of one folder named `options.name` (`sfs send A B C --name
 * X`). A file replaced between the walk and its opening (another inode, or no longer a regular
 * file) is left out and counted as `other`: what is hashed is always what was opened.
 */
export async function buildManifest(
  root: string | readonly string[],
  identity: Identity,
  options: BuildManifestOptions,
): Promise<BuiltManifest> {
  const roots = typeof root === "string" ? [root] : root;
  if (roots.length === 0) throw new SfsError("USAGE", "Nothing to share");
  const now = options.now ?? Date.now;
  const createdAt = now();
  const several = roots.length > 1;
  if (several && options.name === undefined) {
    throw new SfsError("INTERNAL", "Several roots need a share name");
  }
  const name = options.name ?? nameOf(roots[0]);
  const rootInfo = await Deno.stat(roots[0]);
  const single = !several && rootInfo.isFile;
  const skipped = noneSkipped();
  const listed: AsyncIterable<Found> = single
    ? oneFile(roots[0], name, rootInfo)
    : several
    ? severalRoots(roots, options.exclude ?? [], skipped)
    : oneFolder(roots[0], options.exclude ?? [], skipped);
  const sources = sourceMap(roots, several);
  const spoolPath = await Deno.makeTempFile({ dir: options.spoolDir, prefix: "manifest-" });
  const idsPath = `${spoolPath}.ids`;
  const removeSpools = async () => {
    await Deno.remove(spoolPath).catch(() => {});
    await Deno.remove(idsPath).catch(() => {});
  };
  try {
    const counts = await spoolEntries({ spoolPath, idsPath }, listed, skipped, now, options);
    if (single && counts.files === 0) {
      throw new SfsError("FILE_CHANGED", `"${name}" changed while it was being shared`);
    }
    const header: ManifestHeader = {
      ownerFingerprint: identity.public.fingerprint,
      name,
      root: single ? "file" : "folder",
      createdAt,
      entryCount: counts.entries,
      totalBytes: counts.bytes,
    };
    const headerBytes = encodeManifestHeader(header);
    const hasher = new ManifestHasher(headerBytes);
    for await (const block of readBlocks(spoolPath)) hasher.update(block);
    const manifestHash = hasher.digest();
    return {
      header,
      headerBytes,
      manifestHash,
      signatures: await signManifest(identity, manifestHash),
      skipped,
      pages: (pageOptions = {}) => spoolPages(spoolPath, pageOptions.maxPageBytes),
      entries: () => spooledEntries(spoolPath, idsPath, single ? () => roots[0] : sources),
      [Symbol.asyncDispose]: removeSpools,
    };
  } catch (err) {
    await removeSpools();
    throw err;
  }
}

/** Writes every entry (and its file's identity) to the spools; returns what it counted. */
async function spoolEntries(
  paths: { spoolPath: string; idsPath: string },
  listed: AsyncIterable<Found>,
  skipped: SkipCounts,
  now: () => number,
  options: BuildManifestOptions,
): Promise<{ entries: number; files: number; bytes: number; cachedFiles: number }> {
  const counts = { entries: 0, files: 0, bytes: 0, cachedFiles: 0 };
  using spool = await Deno.open(paths.spoolPath, { write: true });
  using ids = await Deno.open(paths.idsPath, { write: true, createNew: true, mode: 0o600 });
  const writer = new SpoolWriter(spool);
  const idWriter = new SpoolWriter(ids);
  const maxBytes = options.maxManifestBytes ?? MAX_MANIFEST_BYTES;
  let spooled = 0;
  const hashing = (found: Found, hashed: number) =>
    options.onProgress?.({
      ...counts,
      bytes: counts.bytes + hashed,
      current: { path: found.path, size: found.info.size, hashed },
    });
  // Small files are opened and hashed a few at a time (a small file is mostly system calls);
  // entries are still written in walk order. A large one is hashed alone, with its own progress.
  const pending: Promise<Made | undefined>[] = [];
  const writeOldest = async (): Promise<void> => {
    const made = await pending.shift()!;
    if (made === undefined) {
      skipped.other++;
      return;
    }
    const encoded = encodeManifestEntry(made.entry);
    spooled += encoded.length;
    if (spooled > maxBytes) {
      throw new SfsError("TREE_LIMIT", `The manifest would be larger than ${maxBytes} bytes`, {
        hint: "Share fewer files, or the folder in parts",
      });
    }
    await writer.write(encoded);
    await idWriter.write(encodeIdRecord(made.info, made.stamp));
    counts.entries++;
    options.onProgress?.({ ...counts });
  };
  const writeAll = async () => {
    while (pending.length > 0) await writeOldest();
  };
  for await (const found of listed) {
    if (options.signal?.aborted) throw new SfsError("INTERRUPTED", "Stopped while hashing");
    const small = found.kind === "folder" || found.info.size < SMALL_FILE_BYTES;
    if (!small) await writeAll();
    const made = found.kind === "folder"
      ? Promise.resolve({ entry: folderEntry(found.path), info: undefined, stamp: undefined })
      : fileEntry(found, options.cache, now, counts, (hashed) => hashing(found, hashed));
    // Awaited in turn; a failure meanwhile must not count as unhandled.
    made.catch(() => {});
    pending.push(made);
    if (!small || pending.length >= FILES_AHEAD) await writeOldest();
  }
  await writeAll();
  await writer.flush();
  await idWriter.flush();
  return counts;
}

function folderEntry(path: string): ManifestEntry {
  return { path, kind: "folder", executable: false, size: 0, mtime: 0, sha256: ZERO_HASH };
}

/**
 * A file's entry and the `fstat` it was hashed under, hashed through the handle it was opened
 * as; undefined if it was replaced.
 */
async function fileEntry(
  found: Found,
  cache: HashCache | undefined,
  now: () => number,
  counts: { files: number; bytes: number; cachedFiles: number },
  onHashed: (hashedBytes: number) => void,
): Promise<Made | undefined> {
  const { absolute, path, info: listed } = found;
  // Synchronous, as in tree_stream.ts: per small file, async calls cost more than the hashing.
  using file = Deno.openSync(absolute, { read: true });
  const info = file.statSync();
  if (!info.isFile || !sameFile(info, listed)) return undefined;
  const started = now();
  let sha256 = cache?.get(info);
  let size = info.size;
  if (sha256 !== undefined) {
    counts.cachedFiles++;
  } else {
    ({ size, sha256 } = await hashContent(file, {
      onProgress: onHashed,
      expectedSize: info.size,
      keepStates: false,
    }));
    // Cached only if the file did not change while it was read.
    if (size === info.size) cache?.set(info, sha256, started);
  }
  // A cache hit is settled by now: only settled stamps are cached.
  const stamp = size === info.size ? settledStampOf(info, started) : undefined;
  counts.files++;
  counts.bytes += size;
  const entry: ManifestEntry = {
    path,
    kind: "file",
    executable: ((info.mode ?? 0) & 0o111) !== 0,
    size,
    mtime: Math.max(0, info.mtime?.getTime() ?? 0),
    sha256,
  };
  return { entry, info, stamp };
}
