/** The receiving side of a manifest (docs/design/folders.md F3.5): pages in, checked entries out. */
import { SfsError } from "../errors.ts";
import type { Bytes } from "../crypto/bytes.ts";
import { ByteReader } from "../crypto/encoding.ts";
import {
  decodeManifestHeader,
  type ManifestEntry,
  ManifestHasher,
  type ManifestHeader,
  MAX_PAGE_BYTES,
  PAGE_HEADER_BYTES,
  readManifestEntry,
} from "./manifest.ts";
import { TreePathChecker } from "./tree_paths.ts";

/**
 * Reads a received manifest page by page (F3.5): decodes every entry, checks its path and its
 * place (src/peer/tree_paths.ts), counts entries and bytes against the header, and hashes what
 * it read. {@link ManifestReader.finish} gives the hash once the header's count is complete.
 * Errors are final: after one, the reader's counts are no longer meaningful; discard it.
 */
export class ManifestReader {
  readonly header: ManifestHeader;
  readonly #hasher: ManifestHasher;
  readonly #paths = new TreePathChecker();
  #entries = 0;
  #bytes = 0;

  constructor(headerBytes: Uint8Array) {
    this.header = decodeManifestHeader(headerBytes);
    this.#hasher = new ManifestHasher(headerBytes);
  }

  /** Entries read so far. */
  get entriesRead(): number {
    return this.#entries;
  }

  /** Decodes and checks the next page; returns its entries. */
  readPage(page: Uint8Array): ManifestEntry[] {
    return [...this.pageEntries(page)];
  }

  /**
   * Decodes and checks the next page, an entry at a time: only the entry being used is held,
   * where a page's array of entries outlived the young generation while a receiver took a file
   * per entry (issue 11). An entry comes out before the ones after it in its page are checked: a
   * consumer that acts on entries reads pages it already verified (src/peer/proof.ts).
   */
  *pageEntries(page: Uint8Array): Generator<ManifestEntry> {
    const reader = new ByteReader(page, "manifest page");
    if (page.length > MAX_PAGE_BYTES) reader.fail("too large");
    const first = reader.u64();
    if (first !== this.#entries) reader.fail(`page starts at entry ${first}, not ${this.#entries}`);
    const count = reader.u16();
    if (count === 0) reader.fail("empty page");
    if (count > this.header.entryCount - this.#entries) {
      reader.fail(`more entries than the ${this.header.entryCount} announced`);
    }
    for (let i = 0; i < count; i++) {
      const entry = readManifestEntry(reader);
      this.#check(reader, entry);
      yield entry;
    }
    reader.end();
    this.#hasher.update(page.subarray(PAGE_HEADER_BYTES));
  }

  /** The manifest hash, once every announced entry was read (else BAD_MESSAGE). */
  finish(): Bytes {
    if (this.#entries !== this.header.entryCount) {
      throw new SfsError(
        "BAD_MESSAGE",
        `Malformed manifest: ${this.#entries} of ${this.header.entryCount} entries`,
      );
    }
    if (this.#bytes !== this.header.totalBytes) {
      throw new SfsError("BAD_MESSAGE", "Malformed manifest: sizes do not add up to its total");
    }
    return this.#hasher.digest();
  }

  #check(reader: ByteReader, entry: ManifestEntry): void {
    if (this.header.root === "file") {
      // A single file is the one entry, named like the share.
      if (entry.kind !== "file" || entry.path !== this.header.name) {
        reader.fail("a single-file manifest must list that file under the share's name");
      }
    }
    this.#paths.add(entry.path, entry.kind === "folder");
    this.#entries++;
    this.#bytes += entry.size;
    if (!Number.isSafeInteger(this.#bytes)) reader.fail("total size out of range");
  }
}
