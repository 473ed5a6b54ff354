/**
 * A cache of SHA-256 values of shared files (docs/design/folders.md F8), so that sharing the same
 * file or tree again costs no hashing. Keyed by what changes when a file's content may have: its
 * content stamp (device, inode, size, modification time, change time; content_stamp.ts).
 *
 * The receiver checks every file against the signed manifest, so a wrong record can at worst make
 * the owner sign a hash that no transfer will ever complete (F8 says why that gives a local
 * attacker, who could as well read the identity beside it, nothing they did not have). The file
 * is still parsed as untrusted: bounded in size before it is read, fixed-size records, anything
 * malformed read as an empty cache.
 *
 * File layout (`SFS_HOME/hash-cache.bin`, mode 0600, replaced atomically): hash_cache_records.ts.
 *
 * In memory the records stay in that form, read straight into one buffer and found through an
 * open-addressing index: about 90 bytes a record. A Map of a string key and value per record took
 * ~480 bytes of RSS each, 48 MiB for a full cache, paid by every `sfs send` before its first byte
 * (issue 12: at most 80 MiB per process).
 *
 * @module
 */
import { type Bytes, release } from "../crypto/bytes.ts";
import { readFullSync, writeAll, writeAtomic } from "../fs.ts";
import { settledStampOf, stampFields, stampOf } from "./content_stamp.ts";
import {
  BLOCK_RECORDS,
  copyOthers,
  encodeKey,
  hashKey,
  isSafeKey,
  KEY_BYTES,
  MAGIC,
  openRecords,
  RECORD_BYTES,
  sameBytes,
  writeInOrder,
} from "./hash_cache_records.ts";

/** The cache's file in SFS_HOME. */
export const HASH_CACHE_FILE = "hash-cache.bin";
/** Records kept by default: 100,000 files is a 7 MB cache file. */
export const DEFAULT_MAX_ENTRIES = 100_000;

/** Room for records beyond those loaded, before the buffer must grow (by half, to the bound). */
const ROOM = 256;

/** Options of {@link HashCache.load}. */
export interface HashCacheOptions {
  /**
   * Most records kept; the least recently used go first.
   * @default {DEFAULT_MAX_ENTRIES}
   */
  maxEntries?: number;
  /**
   * Read only the records of these files (their `stat`, as for {@link HashCache.get}) into
   * memory; {@link HashCache.save} then copies every other record through from the file. For a
   * share of one file or a few: a full cache is ~9 MB in memory, and a 1 GiB send's peak RSS
   * grew by that much (issue 12: at most 80 MiB per process).
   */
  only?: readonly Deno.FileInfo[];
}

/** The cache, in memory; {@link HashCache.save} writes it back. */
export class HashCache implements Disposable {
  readonly #path: string;
  readonly #max: number;
  /** Only some of the file's records are in memory (`only`); save() copies the others. */
  readonly #partial: boolean;
  /** Of a partial cache, how many records were found in the file. */
  #foundInFile = 0;
  /** Records, each `key ‖ SHA-256` as in the file, in no particular order. */
  #records: Uint8Array;
  /** Last use of each record: a tick, unique; larger is younger (see #loadedTick). */
  #used: Uint32Array;
  #count = 0;
  #tick = 0;
  /**
   * The tick after the load: records read from the file have ticks up to this one, in the file's
   * order (the oldest first); a record used or made since has a larger one.
   */
  #loadedTick = 0;
  /** Open addressing: slot → record number + 1, 0 when empty; at most half full. */
  #slots = new Uint32Array(0);
  /** Per process, so that nobody can choose keys that all land in one run of slots. */
  readonly #seed = crypto.getRandomValues(new Uint32Array(1))[0];
  #changed = false;

  private constructor(path: string, max: number, capacity: number, partial: boolean) {
    this.#path = path;
    this.#max = max;
    this.#partial = partial;
    this.#records = new Uint8Array(capacity * RECORD_BYTES);
    this.#used = new Uint32Array(capacity);
    this.#reindex();
  }

  /**
   * Reads the cache at `path`. A missing, oversized or malformed file gives an empty cache (it
   * is rebuilt as files are hashed); only an I/O error other than "not found" is thrown.
   */
  static async load(path: string, options: HashCacheOptions = {}): Promise<HashCache> {
    const max = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    const { only } = options;
    const empty = () => new HashCache(path, max, only ? only.length + ROOM : ROOM, !!only);
    const opened = await openRecords(path, max);
    if (opened === undefined) return empty();
    using file = opened.file;
    const { count } = opened;
    if (only) {
      const cache = HashCache.#wanting(path, max, only);
      return cache.#adoptWanted(file, count) ? cache : empty();
    }
    // Read straight into the records' buffer: no second copy of the file.
    const cache = new HashCache(path, max, count + ROOM, false);
    if (!readFullSync(file, cache.#records.subarray(0, count * RECORD_BYTES))) return empty();
    cache.#adopt(count);
    cache.#loadedTick = cache.#tick;
    return cache;
  }

  /**
   * A partial cache holding a placeholder record per file of `only`: a key with no hash yet, never
   * used (tick 0), which #adoptWanted fills or drops.
   */
  static #wanting(path: string, max: number, only: readonly Deno.FileInfo[]): HashCache {
    const cache = new HashCache(path, max, only.length + ROOM, true);
    for (const info of only) {
      const stamp = stampOf(info);
      if (stamp === undefined) continue;
      const key = encodeKey(stampFields(stamp));
      const slot = cache.#find(key, 0);
      if (cache.#slots[slot] !== 0) continue;
      cache.#records.set(key, cache.#count * RECORD_BYTES);
      cache.#slots[slot] = ++cache.#count;
    }
    return cache;
  }

  /** Records kept. */
  get size(): number {
    return this.#count;
  }

  /** Records there is room for before the buffers must grow. */
  get capacity(): number {
    return this.#used.length;
  }

  /** The cached SHA-256 of the file `info` describes (its `stat` or `fstat`), if any. */
  get(info: Deno.FileInfo): Bytes | undefined {
    const stamp = stampOf(info);
    if (stamp === undefined) return undefined;
    const record = this.#slots[this.#find(encodeKey(stampFields(stamp)), 0)] - 1;
    if (record < 0) return undefined;
    // Used again: the young end. Written back only for a record in the older half of the file:
    // one in the younger half outlives at least half the bound of new files anyway, and writing a
    // full cache again (7 MB, synced) was a fifth of a warm send's time to its ticket.
    if (this.#used[record] <= this.#loadedTick - (this.#max >> 1)) this.#changed = true;
    this.#used[record] = ++this.#tick;
    const at = record * RECORD_BYTES + KEY_BYTES;
    return this.#records.slice(at, at + 32);
  }

  /**
   * Remembers `sha256` for the file `info` describes, taken before hashing began at
   * `hashStartedAt` (ms since the epoch). Skipped when the file changed less than
   * MIN_AGE_MS (content_stamp.ts) before that, or when the platform gives no full key.
   */
  set(info: Deno.FileInfo, sha256: Uint8Array, hashStartedAt: number): void {
    const stamp = settledStampOf(info, hashStartedAt);
    if (stamp === undefined || sha256.length !== 32) return;
    this.#put(encodeKey(stampFields(stamp)), sha256);
    // Some slack past the bound, so that dropping the oldest (a sort) is rare.
    if (this.#count > this.#max + (this.#max >> 3)) this.#keepYoungest(this.#max);
  }

  /**
   * Writes the cache back atomically (mode 0600), if anything changed since it was loaded. A
   * partial cache first copies the file's other records, the youngest that fit, oldest first.
   */
  async save(): Promise<void> {
    if (!this.#changed) return;
    const order = new Uint32Array(this.#count).map((_, i) => i);
    order.sort((a, b) => this.#used[a] - this.#used[b]);
    const kept = order.subarray(Math.max(0, order.length - this.#max));
    // Written a block at a time: a whole copy was 7 MB more at the peak for a full cache.
    const block = new Uint8Array(BLOCK_RECORDS * RECORD_BYTES);
    await writeAtomic(this.#path, async (file) => {
      await writeAll(file, MAGIC);
      if (this.#partial) {
        // The file's other records, older than those in memory (see copyOthers).
        await copyOthers(file, { path: this.#path, max: this.#max }, {
          room: this.#max - kept.length,
          held: this.#foundInFile,
          isHeld: (bytes, at) => this.#slots[this.#find(bytes, at)] !== 0,
        }, block);
      }
      await writeInOrder(file, this.#records, kept, block);
    });
    this.#changed = false;
  }

  /**
   * Gives the records' memory back now, not at some later collection (`using`): a sender holds
   * no cache while it serves. The cache is empty afterwards.
   */
  [Symbol.dispose](): void {
    for (const array of [this.#records, this.#used, this.#slots]) {
      release(new Uint8Array(array.buffer));
    }
    this.#records = new Uint8Array(0);
    this.#used = new Uint32Array(0);
    this.#count = 0;
    this.#reindex();
    this.#changed = false;
  }

  /**
   * Indexes the first `count` records as read from the file, oldest first. A record with a key
   * no stamp can have (a field past 2^53) is dropped; a repeated key keeps its last hash.
   */
  #adopt(count: number): void {
    const view = new DataView(this.#records.buffer);
    for (let at = 0; at < count; at++) {
      const from = at * RECORD_BYTES;
      if (!isSafeKey(view, from)) continue;
      const slot = this.#find(this.#records, from);
      const into = this.#slots[slot] === 0 ? this.#count++ : this.#slots[slot] - 1;
      this.#records.copyWithin(into * RECORD_BYTES, from, from + RECORD_BYTES);
      this.#slots[slot] = into + 1;
      this.#used[into] = ++this.#tick;
    }
  }

  /**
   * Fills the placeholders of a partial cache from the file's `count` records, read a block at a
   * time, and drops those not found. False when the file ends early (read as an empty cache).
   */
  #adoptWanted(file: Deno.FsFile, count: number): boolean {
    const block = new Uint8Array(BLOCK_RECORDS * RECORD_BYTES);
    const view = new DataView(block.buffer);
    for (let first = 0; first < count; first += BLOCK_RECORDS) {
      const n = Math.min(BLOCK_RECORDS, count - first);
      if (!readFullSync(file, block.subarray(0, n * RECORD_BYTES))) return false;
      for (let at = 0; at < n * RECORD_BYTES; at += RECORD_BYTES) {
        const record = isSafeKey(view, at) ? this.#slots[this.#find(block, at)] - 1 : -1;
        if (record < 0) continue;
        // A repeated key keeps its last hash, as in a full load.
        this.#records.set(
          block.subarray(at + KEY_BYTES, at + RECORD_BYTES),
          record * RECORD_BYTES + KEY_BYTES,
        );
        this.#used[record] = first + at / RECORD_BYTES + 1;
      }
    }
    this.#keepUsedFrom(1);
    this.#foundInFile = this.#count;
    this.#tick = this.#loadedTick = count;
    return true;
  }

  /** Adds or replaces the record of `key`, as the youngest. */
  #put(key: Uint8Array, sha256: Uint8Array): void {
    let slot = this.#find(key, 0);
    if (this.#slots[slot] === 0) {
      if (this.#count === this.#used.length) {
        // A full cache drops its oldest sixteenth in place: growing it would hold a second copy
        // of ~9 MB for a moment.
        if (this.#count >= this.#max) this.#keepYoungest(this.#max - (this.#max >> 4));
        else this.#grow();
        slot = this.#find(key, 0);
      }
      this.#slots[slot] = ++this.#count;
      this.#records.set(key, (this.#count - 1) * RECORD_BYTES);
    }
    const record = this.#slots[slot] - 1;
    this.#records.set(sha256, record * RECORD_BYTES + KEY_BYTES);
    this.#used[record] = ++this.#tick;
    this.#changed = true;
  }

  /**
   * The slot of the record whose key is the one at `bytes[at…]`, or the empty slot where it
   * would go. Offsets and numbers, no objects: this runs once per record of a load.
   */
  #find(bytes: Uint8Array, at: number): number {
    const mask = this.#slots.length - 1;
    for (let slot = hashKey(bytes, at, this.#seed) & mask;; slot = (slot + 1) & mask) {
      const record = this.#slots[slot] - 1;
      if (record < 0 || sameBytes(this.#records, record * RECORD_BYTES, bytes, at, KEY_BYTES)) {
        return slot;
      }
    }
  }

  #grow(): void {
    // By half, but not past what set() lets the count reach; always by one at least.
    const capacity = Math.max(
      this.#used.length + 1,
      Math.min(Math.ceil(1.5 * this.#used.length), this.#max + (this.#max >> 3) + 1),
    );
    const records = new Uint8Array(capacity * RECORD_BYTES);
    records.set(this.#records);
    const used = new Uint32Array(capacity);
    used.set(this.#used);
    this.#records = records;
    this.#used = used;
    this.#reindex();
  }

  /** Keeps the `n` most recently used records, moved to the front. */
  #keepYoungest(n: number): void {
    // Ticks are unique: exactly `n` are at or above the cut.
    this.#keepUsedFrom(this.#used.slice(0, this.#count).sort()[this.#count - n]);
  }

  /** Keeps the records last used at tick `cut` or later, moved to the front. */
  #keepUsedFrom(cut: number): void {
    let kept = 0;
    for (let record = 0; record < this.#count; record++) {
      if (this.#used[record] < cut) continue;
      const from = record * RECORD_BYTES;
      this.#records.copyWithin(kept * RECORD_BYTES, from, from + RECORD_BYTES);
      this.#used[kept++] = this.#used[record];
    }
    this.#count = kept;
    this.#reindex();
  }

  #reindex(): void {
    let size = 1;
    while (size < 2 * this.#used.length) size *= 2;
    this.#slots = new Uint32Array(size);
    const mask = size - 1;
    for (let record = 0; record < this.#count; record++) {
      let slot = hashKey(this.#records, record * RECORD_BYTES, this.#seed) & mask;
      while (this.#slots[slot] !== 0) slot = (slot + 1) & mask;
      this.#slots[slot] = record + 1;
    }
  }
}
