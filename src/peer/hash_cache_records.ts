/**
 * The hash cache's file format (`SFS_HOME/hash-cache.bin`, hash_cache.ts): the 8-byte magic
 * `sfshash1`, then records of 72 bytes, oldest first: `u64 dev ‖ u64 ino ‖ u64 size ‖ u64 mtime
 * (ms) ‖ u64 ctime (ms) ‖ [32] SHA-256`; opening it with its size checked, and the key helpers
 * the cache's index uses on records in place.
 *
 * @module
 */
import { lstatOrUndefined, readFullSync, sameFile, writeAll } from "../fs.ts";

export const MAGIC = new TextEncoder().encode("sfshash1");
export const KEY_BYTES = 5 * 8;
export const RECORD_BYTES = KEY_BYTES + 32;
/** Records read or written at a time (64 KiB). */
export const BLOCK_RECORDS = 910;

/**
 * The cache file at `path`, past its magic, and its record count; undefined when it is missing or
 * malformed. The size is checked before reading, so a planted huge file costs nothing.
 */
export async function openRecords(
  path: string,
  max: number,
): Promise<{ file: Deno.FsFile; count: number } | undefined> {
  const info = await lstatOrUndefined(path);
  const count = ((info?.size ?? 0) - MAGIC.length) / RECORD_BYTES;
  if (!info?.isFile || !Number.isInteger(count) || count < 0 || count > max) return undefined;
  const file = await Deno.open(path, { read: true });
  // The file opened must be the one checked: a link or another file put there in between is
  // read as no cache.
  const opened = await file.stat();
  const magic = new Uint8Array(MAGIC.length);
  if (
    !sameFile(opened, info) || opened.size !== info.size || !readFullSync(file, magic) ||
    !sameBytes(magic, 0, MAGIC, 0, MAGIC.length)
  ) {
    file.close();
    return undefined;
  }
  return { file, count };
}

/**
 * Writes the records numbered in `order` (of `records`, in memory) to `out`, in that order, a
 * block at a time through `block`.
 */
export async function writeInOrder(
  out: Deno.FsFile,
  records: Uint8Array,
  order: Uint32Array,
  block: Uint8Array,
): Promise<void> {
  for (let first = 0; first < order.length; first += BLOCK_RECORDS) {
    const some = order.subarray(first, first + BLOCK_RECORDS);
    some.forEach((record, i) => {
      const from = record * RECORD_BYTES;
      block.set(records.subarray(from, from + RECORD_BYTES), i * RECORD_BYTES);
    });
    await writeAll(out, block.subarray(0, some.length * RECORD_BYTES));
  }
}

/**
 * Writes to `out` the youngest `room` records of the cache file (as it is now) that `isHeld`
 * says are not held in memory, oldest first, through `block`. `held` of the file's records were
 * found in memory at the load: as many fewer are skipped at the old end (exact unless the file
 * changed since, and then still at most `room` are written). A file that is missing or malformed
 * now gives none; every record is checked as in a load.
 */
export async function copyOthers(
  out: Deno.FsFile,
  cache: { path: string; max: number },
  wanted: { room: number; held: number; isHeld: (bytes: Uint8Array, at: number) => boolean },
  block: Uint8Array,
): Promise<void> {
  const opened = await openRecords(cache.path, cache.max);
  if (opened === undefined) return;
  using file = opened.file;
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  let skip = opened.count - wanted.held - wanted.room;
  let left = wanted.room;
  for (let first = 0; first < opened.count && left > 0; first += BLOCK_RECORDS) {
    const n = Math.min(BLOCK_RECORDS, opened.count - first);
    if (!readFullSync(file, block.subarray(0, n * RECORD_BYTES))) return;
    let kept = 0;
    for (let at = 0; at < n * RECORD_BYTES && kept < left; at += RECORD_BYTES) {
      if (skip-- > 0 || !isSafeKey(view, at) || wanted.isHeld(block, at)) continue;
      block.copyWithin(kept * RECORD_BYTES, at, at + RECORD_BYTES);
      kept++;
    }
    await writeAll(out, block.subarray(0, kept * RECORD_BYTES));
    left -= kept;
  }
}

const scratchKey = new Uint8Array(KEY_BYTES);
const scratchView = new DataView(scratchKey.buffer);

/**
 * The key's five fields, each a big-endian u64 written as its high and low 32 bits, in one
 * buffer reused by every call (a lookup or an insert per file: no garbage per file).
 */
export function encodeKey(fields: number[]): Uint8Array {
  const [key, view] = [scratchKey, scratchView];
  fields.forEach((n, i) => {
    view.setUint32(8 * i, Math.floor(n / 2 ** 32));
    view.setUint32(8 * i + 4, n >>> 0);
  });
  return key;
}

/** Every field of the key at `at` is below 2^53, as a stamp's are (a planted one may not be). */
export function isSafeKey(view: DataView, at: number): boolean {
  for (let i = 0; i < 5; i++) if (view.getUint32(at + 8 * i) >= 2 ** 21) return false;
  return true;
}

/** The `length` bytes at `a[i…]` and `b[j…]` are equal (not secret: no constant time). */
export function sameBytes(
  a: Uint8Array,
  i: number,
  b: Uint8Array,
  j: number,
  length: number,
): boolean {
  for (let k = 0; k < length; k++) if (a[i + k] !== b[j + k]) return false;
  return true;
}

/** A 32-bit hash of the key at `bytes[at…]`: FNV-1a from a seed, then a final mix. */
export function hashKey(bytes: Uint8Array, at: number, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = at; i < at + KEY_BYTES; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}
