/**
 * The sender's side of a manifest (docs/design/folders.md F3.6): walk the share, hash each file
 * (or take its hash from the cache), spool the encoded entries to a file, then hash header and
 * spool and sign. Memory stays flat however many files there are: entries go to the spool as
 * they are made, and pages are read back from it when they are sent.
 *
 * @module
 */
import { SfsError } from "../errors.ts";
import type { Bytes } from "../crypto/bytes.ts";
import { ByteWriter } from "../crypto/encoding.ts";
import type { Identity } from "../crypto/identity.ts";
import type { Signatures } from "../crypto/sign.ts";
import { sameFile } from "../fs.ts";
import { hashContent } from "./content_hash.ts";
import type { HashCache } from "./hash_cache.ts";
import {
  encodeManifestEntry,
  encodeManifestHeader,
  ENTRY_TAIL_BYTES,
  type ManifestEntry,
  ManifestHasher,
  type ManifestHeader,
  MAX_PAGE_BYTES,
  PAGE_HEADER_BYTES,
  signManifest,
} from "./manifest.ts";
import { type SkipCounts, walkTree } from "./tree_walk.ts";

const READ_BYTES = 1024 * 1024;
const ZERO_HASH = new Uint8Array(32);

/** Where hashing has got to, for a progress display. */
export interface HashProgress {
  /** Files and folders listed so far. */
  readonly entries: number;
  /** Files hashed or found in the cache so far, and their bytes. */
  readonly files: number;
  readonly bytes: number;
  /** Of those, found in the cache. */
  readonly cachedFiles: number;
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
   * The share's name.
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
}

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
}

/**
 * Makes and signs the manifest of the file or folder at `root` (F3.6). A file replaced between
 * the walk and its opening (another inode, or no longer a regular file) is left out and counted
 * as `other`: what is hashed is always what was opened.
 */
export async function buildManifest(
  root: string,
  identity: Identity,
  options: BuildManifestOptions,
): Promise<BuiltManifest> {
  const now = options.now ?? Date.now;
  const createdAt = now();
  const name = options.name ?? root.replace(/\/+$/, "").split("/").pop()!;
  const rootInfo = await Deno.stat(root);
  const walk = rootInfo.isFile ? undefined : walkTree(root, { exclude: options.exclude });
  const spoolPath = await Deno.makeTempFile({ dir: options.spoolDir, prefix: "manifest-" });
  try {
    const source = { root, name, rootInfo, walk, now };
    const counts = await spoolEntries(spoolPath, source, options);
    if (!walk && counts.files === 0) {
      throw new SfsError("FILE_CHANGED", `"${name}" changed while it was being shared`);
    }
    const header: ManifestHeader = {
      ownerFingerprint: identity.public.fingerprint,
      name,
      root: walk ? "folder" : "file",
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
      skipped: walk?.skipped ?? noneSkipped(),
      pages: (pageOptions = {}) => spoolPages(spoolPath, pageOptions.maxPageBytes),
      [Symbol.asyncDispose]: () => Deno.remove(spoolPath).catch(() => {}),
    };
  } catch (err) {
    await Deno.remove(spoolPath).catch(() => {});
    throw err;
  }
}

/** Writes every entry of the tree (or the one file) to the spool; returns what it counted. */
async function spoolEntries(
  spoolPath: string,
  source: {
    root: string;
    name: string;
    rootInfo: Deno.FileInfo;
    /** The folder's walk; undefined when the root is one file. */
    walk: ReturnType<typeof walkTree> | undefined;
    now: () => number;
  },
  options: BuildManifestOptions,
): Promise<{ entries: number; files: number; bytes: number; cachedFiles: number }> {
  const { root, name, rootInfo, walk, now } = source;
  const counts = { entries: 0, files: 0, bytes: 0, cachedFiles: 0 };
  using spool = await Deno.open(spoolPath, { write: true });
  const writer = new SpoolWriter(spool);
  const listed = walk ?? [{ path: name, kind: "file" as const, info: rootInfo }];
  for await (const found of listed) {
    const absolute = walk ? `${root}/${found.path}` : root;
    const entry = found.kind === "folder"
      ? folderEntry(found.path)
      : await fileEntry(absolute, found.path, found.info, options.cache, now, counts);
    if (entry === undefined) {
      if (walk) walk.skipped.other++;
      continue;
    }
    await writer.write(encodeManifestEntry(entry));
    counts.entries++;
    options.onProgress?.({ ...counts });
  }
  await writer.flush();
  return counts;
}

function folderEntry(path: string): ManifestEntry {
  return { path, kind: "folder", executable: false, size: 0, mtime: 0, sha256: ZERO_HASH };
}

/** A file's entry, hashed through the handle it was opened as; undefined if it was replaced. */
async function fileEntry(
  absolute: string,
  path: string,
  listed: Deno.FileInfo,
  cache: HashCache | undefined,
  now: () => number,
  counts: { files: number; bytes: number; cachedFiles: number },
): Promise<ManifestEntry | undefined> {
  using file = await Deno.open(absolute, { read: true });
  const info = await file.stat();
  if (!info.isFile || !sameFile(info, listed)) return undefined;
  const started = now();
  let sha256 = cache?.get(info);
  let size = info.size;
  if (sha256 !== undefined) {
    counts.cachedFiles++;
  } else {
    ({ size, sha256 } = await hashContent(file));
    // Cached only if the file did not change while it was read.
    if (size === info.size) cache?.set(info, sha256, started);
  }
  counts.files++;
  counts.bytes += size;
  return {
    path,
    kind: "file",
    executable: ((info.mode ?? 0) & 0o111) !== 0,
    size,
    mtime: Math.max(0, info.mtime?.getTime() ?? 0),
    sha256,
  };
}

/** Collects small writes into large ones. */
class SpoolWriter {
  readonly #file: Deno.FsFile;
  #parts: Uint8Array[] = [];
  #length = 0;

  constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.#parts.push(bytes);
    this.#length += bytes.length;
    if (this.#length >= READ_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    const writer = new ByteWriter();
    for (const part of this.#parts) writer.raw(part);
    const bytes = writer.finish();
    for (let done = 0; done < bytes.length;) done += await this.#file.write(bytes.subarray(done));
    this.#parts = [];
    this.#length = 0;
  }
}

async function* readBlocks(path: string): AsyncGenerator<Uint8Array> {
  using file = await Deno.open(path, { read: true });
  const buffer = new Uint8Array(READ_BYTES);
  for (let n = await file.read(buffer); n !== null; n = await file.read(buffer)) {
    yield buffer.subarray(0, n);
  }
}

/** Cuts the spooled entries into pages, each filled before the next (F3.3). */
async function* spoolPages(path: string, maxPageBytes = MAX_PAGE_BYTES): AsyncGenerator<Bytes> {
  let pending = new Uint8Array();
  let first = 0;
  let entries: Uint8Array[] = [];
  let size = PAGE_HEADER_BYTES;
  const page = () => {
    const writer = new ByteWriter().u64(first).u16(entries.length);
    for (const entry of entries) writer.raw(entry);
    first += entries.length;
    entries = [];
    size = PAGE_HEADER_BYTES;
    return writer.finish();
  };
  for await (const block of readBlocks(path)) {
    pending = new ByteWriter().raw(pending).raw(block).finish();
    let at = 0;
    // Our own spool, written just now: every entry is whole once the file is read to its end.
    while (pending.length - at >= 2) {
      const length = 2 + ((pending[at] << 8) | pending[at + 1]) + ENTRY_TAIL_BYTES;
      if (pending.length - at < length) break;
      if (entries.length > 0 && (size + length > maxPageBytes || entries.length === 0xffff)) {
        yield page();
      }
      entries.push(pending.slice(at, at + length));
      size += length;
      at += length;
    }
    pending = pending.slice(at);
  }
  if (entries.length > 0) yield page();
}

function noneSkipped(): SkipCounts {
  return { symlink: 0, device: 0, socket: 0, fifo: 0, unsafeName: 0, other: 0, excluded: 0 };
}
