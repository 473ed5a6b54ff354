/**
 * The sender's manifest spool (docs/design/folders.md F3.6): the encoded entries of a manifest
 * being built, written to a file as they are made and read back for hashing, for the pages
 * (F3.3) and for serving, so memory stays flat however many files there are. Beside it, the
 * identity spool holds `u64 dev ‖ u64 ino ‖ u64 ctime` of each entry's file (folders: 0), the
 * only file a sender serves for it, with its change time when its stamp was settled
 * (content_stamp.ts; 0 when not: what is sent is then hashed).
 *
 * @module
 */
import { SfsError } from "../errors.ts";
import { readFullSync } from "../fs.ts";
import type { Bytes } from "../crypto/bytes.ts";
import { ByteReader, ByteWriter } from "../crypto/encoding.ts";
import type { ContentStamp } from "./content_stamp.ts";
import {
  ENTRY_TAIL_BYTES,
  type ManifestEntry,
  MAX_PAGE_BYTES,
  PAGE_HEADER_BYTES,
  readManifestEntry,
} from "./manifest.ts";

const READ_BYTES = 1024 * 1024;
/** Bytes of a record of the identity spool: `u64 dev ‖ u64 ino ‖ u64 ctime` of each entry. */
const ID_RECORD_BYTES = 24;

/** One entry of a built manifest, with what the sender needs to serve it. */
export interface BuiltEntry {
  /** Its index in the manifest. */
  readonly index: number;
  readonly entry: ManifestEntry;
  /** Where it is on disk. */
  readonly source: string;
  /** Device and inode of the file that was hashed (folders: 0): the only file to serve. */
  readonly dev: number;
  readonly ino: number;
  /** Its stamp when hashed, if settled then: checked instead of hashing what is sent. */
  readonly stamp: ContentStamp | undefined;
}

/** Bytes a {@link SpoolWriter} collects before it writes them. */
const SPOOL_BUFFER_BYTES = 64 * 1024;

/**
 * Collects small writes into large ones, copied into one buffer: keeping each entry's own small
 * array until a flush held tens of thousands of objects (every entry of a 10,000-file tree
 * waited for the 1 MiB flush, issue 11).
 */
export class SpoolWriter {
  readonly #file: Deno.FsFile;
  readonly #buffer = new Uint8Array(SPOOL_BUFFER_BYTES);
  #length = 0;

  constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /** Appends `bytes`, writing the buffer out when they do not fit. */
  async write(bytes: Uint8Array): Promise<void> {
    if (this.#length + bytes.length > this.#buffer.length) await this.flush();
    if (bytes.length > this.#buffer.length) return await this.#writeAll(bytes);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /** Writes out what is collected. */
  async flush(): Promise<void> {
    await this.#writeAll(this.#buffer.subarray(0, this.#length));
    this.#length = 0;
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    for (let done = 0; done < bytes.length;) done += await this.#file.write(bytes.subarray(done));
  }
}

/** The spool file's bytes, a block at a time (the block is reused: copy what is kept). */
export async function* readBlocks(path: string): AsyncGenerator<Uint8Array> {
  using file = await Deno.open(path, { read: true });
  const buffer = new Uint8Array(READ_BYTES);
  for (let n = await file.read(buffer); n !== null; n = await file.read(buffer)) {
    yield buffer.subarray(0, n);
  }
}

/**
 * Cuts the spooled entries into pages, each filled before the next (F3.3). A page is laid out in
 * one buffer as its entries are read: a copy of each entry kept until its page was full was a
 * native buffer per entry, thousands per page, that only a major GC freed (issue 11).
 */
export async function* spoolPages(
  path: string,
  maxPageBytes = MAX_PAGE_BYTES,
): AsyncGenerator<Bytes> {
  let page = new Uint8Array(maxPageBytes);
  let first = 0;
  let count = 0;
  let size = PAGE_HEADER_BYTES;
  const finish = () => {
    const view = new DataView(page.buffer);
    view.setBigUint64(0, BigInt(first));
    view.setUint16(8, count);
    const out = page.slice(0, size);
    first += count;
    count = 0;
    size = PAGE_HEADER_BYTES;
    return out;
  };
  for await (const entry of spooledEntryBytes(path)) {
    if (count > 0 && (size + entry.length > maxPageBytes || count === 0xffff)) yield finish();
    // An entry larger than a page goes alone in one (as before; the receiver refuses it).
    if (size + entry.length > page.length) {
      const larger = new Uint8Array(size + entry.length);
      larger.set(page.subarray(0, size));
      page = larger;
    }
    page.set(entry, size);
    size += entry.length;
    count++;
  }
  if (count > 0) yield finish();
}

/**
 * Each encoded entry of the spool, in order: a view into one buffer that is refilled once the
 * entries in it were taken (copy what is kept past the next one). Joining each 1 MiB block to
 * the rest of the last one made two fresh native buffers per block, garbage until a major GC
 * (issue 11). Our own spool, written just now: every entry is whole once the file is read to its
 * end.
 */
async function* spooledEntryBytes(path: string): AsyncGenerator<Uint8Array> {
  using file = await Deno.open(path, { read: true });
  let buffer = new Uint8Array(READ_BYTES);
  let start = 0;
  let end = 0;
  for (;;) {
    while (end - start >= 2) {
      const length = 2 + ((buffer[start] << 8) | buffer[start + 1]) + ENTRY_TAIL_BYTES;
      if (end - start < length) break;
      yield buffer.subarray(start, start + length);
      start += length;
    }
    buffer.copyWithin(0, start, end);
    end -= start;
    start = 0;
    if (end === buffer.length) {
      // Never with entries of at most 64 KiB of path; kept correct for any size.
      const larger = new Uint8Array(2 * buffer.length);
      larger.set(buffer);
      buffer = larger;
    }
    const n = await file.read(buffer.subarray(end));
    if (n === null && end > 0) {
      throw new SfsError("INTERNAL", "The manifest spool ends inside an entry");
    }
    if (n === null) return;
    end += n;
  }
}

/** The spooled entries with their indexes, sources and file identities, in order. */
export async function* spooledEntries(
  spoolPath: string,
  idsPath: string,
  sourceOf: (path: string) => string,
): AsyncGenerator<BuiltEntry> {
  using ids = await Deno.open(idsPath, { read: true });
  const record = new Uint8Array(ID_RECORD_BYTES);
  const view = new DataView(record.buffer);
  let index = 0;
  for await (const bytes of spooledEntryBytes(spoolPath)) {
    const entry = readManifestEntry(new ByteReader(bytes, "spool"));
    if (!readFullSync(ids, record)) {
      throw new SfsError("INTERNAL", "The manifest's identity spool is short");
    }
    const [dev, ino, ctimeMs] = [0, 8, 16].map((at) => Number(view.getBigUint64(at)));
    // A settled stamp's size and modification time are the entry's (tree_manifest.ts).
    const stamp = ctimeMs === 0
      ? undefined
      : { dev, ino, size: entry.size, mtimeMs: entry.mtime, ctimeMs };
    yield { index: index++, entry, source: sourceOf(entry.path), dev, ino, stamp };
  }
}

/**
 * The identity spool's record of an entry: the file's device and inode (folders: none), and its
 * change time if `stamp`, its settled stamp, is given.
 */
export function encodeIdRecord(
  info: Deno.FileInfo | undefined,
  stamp: ContentStamp | undefined,
): Bytes {
  return new ByteWriter().u64(info?.dev ?? 0).u64(info?.ino ?? 0).u64(stamp?.ctimeMs ?? 0)
    .finish();
}
