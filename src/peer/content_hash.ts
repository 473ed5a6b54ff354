/**
 * The SHA-256 of a shared file, and what the sender needs to re-check it against what it sends
 * (docs/PROTOCOL.md §7.3). A full transfer is simply hashed as it streams. A resumed one streams
 * only the tail past its offset, and SHA-256 cannot be finished from the tail alone; hashing the
 * skipped prefix again before the FINAL would cost minutes on a large file while the receiver's
 * idle deadline runs. So while a file is hashed for sharing, the hash state is copied every
 * {@link MIDSTATE_INTERVAL} bytes; a resumed send starts from the copy at or below its offset,
 * re-reads at most one interval from disk, then takes in the tail as it is sent. The digest then
 * covers exactly the bytes this connection sent, on top of the content that was announced.
 */
import { SfsError } from "../errors.ts";
import type { Bytes } from "../crypto/bytes.ts";
import { createSha256, type Sha256Hasher } from "../crypto/sha256.ts";

/** Bytes between two kept hash states: 16 states per GiB, each a few hundred bytes. */
export const MIDSTATE_INTERVAL = 64 * 1024 * 1024;
/** 1 MiB reads hash a cached 1 GiB file 10–15 % faster than 256 KiB ones (fewer async reads). */
const READ_BYTES = 1024 * 1024;

/** A file's size and SHA-256 as hashed for sharing, with the states to resume a check from. */
export interface ContentHash {
  readonly size: number;
  readonly sha256: Bytes;
  /** Bytes between kept states. */
  readonly interval: number;
  /** `midstates[k]` holds the hash state after the first `(k + 1) * interval` bytes. */
  readonly midstates: readonly Sha256Hasher[];
}

/** Options of {@link hashContent}. */
export interface HashContentOptions {
  /**
   * Bytes between kept states.
   * @default {MIDSTATE_INTERVAL}
   */
  interval?: number;
  /** Called after each read with the bytes hashed so far. */
  onProgress?: (hashedBytes: number) => void;
  /**
   * The size the caller's `fstat` gave: the read buffer is no larger than needed for it (a file
   * that grew since is still read to its end, in more reads).
   * @default unknown: a buffer of 1 MiB
   */
  expectedSize?: number;
  /**
   * Keep the states a resumed single-file send needs (`midstates`): only for a file that had
   * not settled when its hashing began (a settled one is checked by its stamp, file_stream.ts).
   * A tree's files are never resumed from them (tree_stream.ts hashes a resumed file again), so
   * a tree keeps none: a kept state holds its native context until it is collected (issue 11:
   * 10,000 of them grew the sender's peak RSS).
   * @default {true}
   */
  keepStates?: boolean;
}

/**
 * The read buffer's size. A zero-filled 1 MiB buffer per small file is 1 MiB of fresh native
 * memory each (V8 external memory, freed only by a later GC): hashing 10,000 small files eight
 * at a time held 60+ MiB of them and grew peak RSS with the file count (issue 11). One byte
 * past the expected size lets the first read take the whole file and the second see its end.
 */
function readBufferBytes(expectedSize: number | undefined): number {
  if (expectedSize === undefined || !(expectedSize >= 0)) return READ_BYTES;
  return Math.min(READ_BYTES, expectedSize + 1);
}

/** Hashes `file` from its current position to its end, keeping a state every `interval` bytes. */
export async function hashContent(
  file: Deno.FsFile,
  options: HashContentOptions = {},
): Promise<ContentHash> {
  const interval = options.interval ?? MIDSTATE_INTERVAL;
  const keepStates = options.keepStates ?? true;
  const hasher = await createSha256();
  const midstates: Sha256Hasher[] = [];
  const buffer = new Uint8Array(readBufferBytes(options.expectedSize));
  let size = 0;
  for (;;) {
    // A read never crosses a state boundary, so the state can be copied exactly there.
    const room = keepStates ? interval - (size % interval) : buffer.length;
    const n = await file.read(buffer.subarray(0, Math.min(buffer.length, room)));
    if (n === null) break;
    hasher.update(buffer.subarray(0, n));
    size += n;
    if (keepStates && size % interval === 0) midstates.push(hasher.copy());
    options.onProgress?.(size);
  }
  return { size, sha256: await hasher.digest(), interval, midstates };
}

/**
 * A hasher that has taken in the first `offset` bytes of the content: the kept state at or below
 * `offset`, then the bytes up to it read again from `file`, which is left positioned at `offset`.
 * `name` is for the error when the file is now shorter (FILE_CHANGED).
 */
export async function hasherAt(
  file: Deno.FsFile,
  content: ContentHash,
  offset: number,
  name: string,
): Promise<Sha256Hasher> {
  const k = Math.min(Math.floor(offset / content.interval), content.midstates.length);
  const hasher = k === 0 ? await createSha256() : content.midstates[k - 1].copy();
  let position = k * content.interval;
  await file.seek(position, Deno.SeekMode.Start);
  const buffer = new Uint8Array(Math.min(READ_BYTES, Math.max(1, offset - position)));
  while (position < offset) {
    const n = await file.read(buffer.subarray(0, Math.min(buffer.length, offset - position)));
    if (n === null) {
      throw new SfsError("FILE_CHANGED", `"${name}" shrank since it was shared`);
    }
    hasher.update(buffer.subarray(0, n));
    position += n;
  }
  return hasher;
}
