/**
 * One download per target at a time: `sfs get` holds an exclusive lock on `NAME.sfs-lock` beside
 * the part file for as long as it touches `NAME.sfs-part`, `NAME.sfs-state` or `NAME`. Without
 * it, a second `get` of the same file (a retry in another terminal, a cron job) would replace
 * the first one's part file, and the first would publish the second's unverified bytes.
 *
 * The lock is an advisory `flock` (LockFileEx on Windows) on an open file, so a process that
 * crashes or is killed releases it with its descriptors: a stale lock file never blocks anyone.
 */
import { SfsError } from "../errors.ts";
import { lstatOrUndefined, sameFile } from "../fs.ts";

/** Suffix of the lock file beside a download's part file. */
export const LOCK_SUFFIX = ".sfs-lock";
/** Tries before giving up on a lock file that keeps being replaced under us. */
const MAX_ATTEMPTS = 8;

/** The exclusive right to download into one target path. */
export class TargetLock {
  readonly #path: string;
  readonly #file: Deno.FsFile;
  #held = true;

  private constructor(path: string, file: Deno.FsFile) {
    this.#path = path;
    this.#file = file;
  }

  /**
   * Locks `finalPath` + `.sfs-lock` without waiting; fails with BUSY at once when another
   * process holds it. The lock file is never written to, so a link planted under its name can
   * make us open, but never change, another file; such a link is removed and replaced.
   */
  static async acquire(finalPath: string): Promise<TargetLock> {
    const path = finalPath + LOCK_SUFFIX;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const file = await openLockFile(path);
      if (!file) continue;
      let locked = false;
      try {
        locked = await file.tryLock(true);
        if (!locked) {
          throw new SfsError("BUSY", `Another sfs get is saving "${finalPath}"`, {
            remedy: "wait-or-elsewhere",
          });
        }
        // The holder before us may have removed the lock file as it finished, or someone may
        // have replaced it: then we hold a lock on a file nobody else will ever look at.
        const [opened, named] = await Promise.all([file.stat(), lstatOrUndefined(path)]);
        if (named && sameFile(opened, named)) return new TargetLock(path, file);
      } catch (err) {
        file.close();
        throw err;
      }
      file.close();
    }
    throw new SfsError("IO", `Cannot lock "${path}": it keeps being replaced`);
  }

  /** Removes the lock file, if it still is ours, and then unlocks (in that order, see acquire). */
  async release(): Promise<void> {
    if (!this.#held) return;
    this.#held = false;
    try {
      const [opened, named] = await Promise.all([this.#file.stat(), lstatOrUndefined(this.#path)]);
      if (named && sameFile(opened, named)) await Deno.remove(this.#path);
    } catch {
      // A lock file left behind is harmless: the next get locks and reuses it.
    } finally {
      this.#file.close();
    }
  }
}

/**
 * Opens the lock file, creating it if missing. `createNew` never follows a link; an existing
 * entry that is not a regular file is removed (its name only) and undefined returned to retry.
 */
async function openLockFile(path: string): Promise<Deno.FsFile | undefined> {
  try {
    return await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
  }
  const info = await lstatOrUndefined(path);
  if (!info) return undefined;
  if (!info.isFile) {
    await Deno.remove(path).catch(() => {});
    return undefined;
  }
  try {
    // Read-only: a lock needs no write access, and nothing is ever written through this handle.
    return await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}
