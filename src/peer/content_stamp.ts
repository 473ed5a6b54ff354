/**
 * A file's content stamp: (device, inode, size, modification time, change time), what changes
 * when its content may have (docs/design/folders.md F8). The hash cache is keyed by it, and a
 * sender checks it, through its open handle, to know that what it sends is what it hashed
 * (docs/PROTOCOL.md §7.3): writing to a file, and setting its modification time back, both set
 * the change time to the present, which no unprivileged user can set back.
 *
 * A stamp only says "unchanged" once it is settled: taken from a file that had not changed for
 * {@link MIN_AGE_MS} when its hashing began. A change within the same clock tick as the one
 * before it would leave every field equal while the content differs, as git's "racily clean"
 * index entries can; Deno reports the change time in whole seconds.
 *
 * @module
 */

/** A file's stamp; every field a non-negative safe integer, times in ms since the epoch. */
export interface ContentStamp {
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

/** How long a file must have stood unchanged before its hashing began for its stamp to count. */
export const MIN_AGE_MS = 3000;

/**
 * The stamp of the regular file `info` describes (its `stat` or `fstat`), or undefined where the
 * platform does not give all of its parts (Windows has no inode numbers).
 */
export function stampOf(info: Deno.FileInfo): ContentStamp | undefined {
  const { dev, ino, size, mtime, ctime } = info;
  if (ino === null || mtime === null || ctime === null || !info.isFile) return undefined;
  const stamp = { dev, ino, size, mtimeMs: mtime.getTime(), ctimeMs: ctime.getTime() };
  return Object.values(stamp).every((n) => Number.isSafeInteger(n) && n >= 0) ? stamp : undefined;
}

/**
 * The stamp of `info` if it is settled for a hash begun at `hashStartedAt` (ms since the epoch):
 * the file had not changed for {@link MIN_AGE_MS} by then. A time in the future (a clock set
 * back) is not settled either.
 */
export function settledStampOf(
  info: Deno.FileInfo,
  hashStartedAt: number,
): ContentStamp | undefined {
  const stamp = stampOf(info);
  if (stamp === undefined) return undefined;
  return hashStartedAt - Math.max(stamp.mtimeMs, stamp.ctimeMs) >= MIN_AGE_MS ? stamp : undefined;
}

/** True when `info` has exactly the stamp `stamp`. */
export function hasStamp(info: Deno.FileInfo, stamp: ContentStamp): boolean {
  const now = stampOf(info);
  return now !== undefined && now.dev === stamp.dev && now.ino === stamp.ino &&
    now.size === stamp.size && now.mtimeMs === stamp.mtimeMs && now.ctimeMs === stamp.ctimeMs;
}

/** The stamp as the hash cache's key fields, in its record order. */
export function stampFields(stamp: ContentStamp): number[] {
  return [stamp.dev, stamp.ino, stamp.size, stamp.mtimeMs, stamp.ctimeMs];
}
