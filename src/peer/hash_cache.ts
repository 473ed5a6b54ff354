/**
 * A cache of SHA-256 values of shared files (docs/design/folders.md F8), so that sharing the same
 * file or tree again costs no hashing. Keyed by what changes when a file's content may have:
 * (device, inode, size, modification time, change time).
 *
 * The receiver checks every file against the signed manifest, so a wrong record can at worst make
 * the owner sign a hash that no transfer will ever complete (F8 says why that gives a local
 * attacker, who could as well read the identity beside it, nothing they did not have). The file
 * is still parsed as untrusted: bounded in size before it is read, fixed-size records, anything
 * malformed read as an empty cache.
 *
 * File layout (`SFS_HOME/hash-cache.bin`, mode 0600, replaced atomically): the 8-byte magic
 * `sfshash1`, then records of 72 bytes, oldest first: `u64 dev ‖ u64 ino ‖ u64 size ‖ u64 mtime
 * (ms) ‖ u64 ctime (ms) ‖ [32] SHA-256`.
 *
 * @module
 */
import { type Bytes, fromBinaryString, toBinaryString } from "../crypto/bytes.ts";
import { lstatOrUndefined, writeBytesAtomic } from "../fs.ts";
import { settledStampOf, stampFields, stampOf } from "./content_stamp.ts";

/** Records kept by default: 100,000 files is a 7 MB cache file. */
export const DEFAULT_MAX_ENTRIES = 100_000;
const MAGIC = new TextEncoder().encode("sfshash1");
const RECORD_BYTES = 5 * 8 + 32;

/** Options of {@link HashCache.load}. */
export interface HashCacheOptions {
  /**
   * Most records kept; the least recently used go first.
   * @default {DEFAULT_MAX_ENTRIES}
   */
  maxEntries?: number;
}

/**
 * The key of a file: its content stamp, or undefined where the platform does not give all of
 * its parts (Windows has no inode numbers): such files are simply not cached.
 */
function keyOf(info: Deno.FileInfo): string | undefined {
  const stamp = stampOf(info);
  return stamp && stampFields(stamp).join(":");
}

/** The cache, in memory; {@link HashCache.save} writes it back. */
export class HashCache {
  readonly #path: string;
  readonly #max: number;
  /**
   * Key text → SHA-256 as a 32-character binary string; Map order is use order, oldest first.
   * A string, not a Uint8Array: an array buffer per record (with its native backing store) cost
   * ~900 bytes of RSS each, 90 MiB for a full cache of 100,000 (issue 11).
   */
  readonly #entries = new Map<string, string>();
  #changed = false;

  private constructor(path: string, max: number) {
    this.#path = path;
    this.#max = max;
  }

  /**
   * Reads the cache at `path`. A missing, oversized or malformed file gives an empty cache (it
   * is rebuilt as files are hashed); only an I/O error other than "not found" is thrown.
   */
  static async load(path: string, options: HashCacheOptions = {}): Promise<HashCache> {
    const cache = new HashCache(path, options.maxEntries ?? DEFAULT_MAX_ENTRIES);
    const info = await lstatOrUndefined(path);
    const limit = MAGIC.length + cache.#max * RECORD_BYTES;
    // Checked before reading, so a planted huge file costs nothing.
    if (info === undefined || !info.isFile || info.size > limit) return cache;
    const bytes = await Deno.readFile(path);
    if (!isCacheFile(bytes)) return cache;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = MAGIC.length; at < bytes.length; at += RECORD_BYTES) {
      const key: number[] = [];
      for (let i = 0; i < 5; i++) key.push(Number(view.getBigUint64(at + 8 * i)));
      if (!key.every(Number.isSafeInteger)) continue;
      cache.#entries.set(key.join(":"), toBinaryString(bytes.subarray(at + 40, at + RECORD_BYTES)));
    }
    return cache;
  }

  /** Records kept. */
  get size(): number {
    return this.#entries.size;
  }

  /** The cached SHA-256 of the file `info` describes (its `stat` or `fstat`), if any. */
  get(info: Deno.FileInfo): Bytes | undefined {
    const key = keyOf(info);
    const sha256 = key === undefined ? undefined : this.#entries.get(key);
    if (key === undefined || sha256 === undefined) return undefined;
    // Used again: move to the young end.
    this.#entries.delete(key);
    this.#entries.set(key, sha256);
    this.#changed = true;
    return fromBinaryString(sha256);
  }

  /**
   * Remembers `sha256` for the file `info` describes, taken before hashing began at
   * `hashStartedAt` (ms since the epoch). Skipped when the file changed less than
   * MIN_AGE_MS (content_stamp.ts) before that, or when the platform gives no full key.
   */
  set(info: Deno.FileInfo, sha256: Uint8Array, hashStartedAt: number): void {
    const stamp = settledStampOf(info, hashStartedAt);
    if (stamp === undefined || sha256.length !== 32) return;
    const text = stampFields(stamp).join(":");
    this.#entries.delete(text);
    this.#entries.set(text, toBinaryString(sha256));
    while (this.#entries.size > this.#max) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    this.#changed = true;
  }

  /** Writes the cache back atomically (mode 0600), if anything changed since it was loaded. */
  async save(): Promise<void> {
    if (!this.#changed) return;
    const out = new Uint8Array(MAGIC.length + this.#entries.size * RECORD_BYTES);
    out.set(MAGIC);
    const view = new DataView(out.buffer);
    let at = MAGIC.length;
    for (const [text, sha256] of this.#entries) {
      text.split(":").forEach((n, i) => view.setBigUint64(at + 8 * i, BigInt(n)));
      out.set(fromBinaryString(sha256), at + 40);
      at += RECORD_BYTES;
    }
    await writeBytesAtomic(this.#path, out);
    this.#changed = false;
  }
}

function isCacheFile(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length &&
    MAGIC.every((byte, i) => bytes[i] === byte) &&
    (bytes.length - MAGIC.length) % RECORD_BYTES === 0;
}
