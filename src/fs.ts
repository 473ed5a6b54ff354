/** File-system helpers shared by every layer that touches files (cli, peer, index). */

/**
 * Writes `text` to `path` atomically with mode 0600: a temporary file in the same folder, synced,
 * then renamed over the target, so a crash leaves the old file or the new one, never half.
 */
export function writeFileAtomic(path: string, text: string): Promise<void> {
  return writeBytesAtomic(path, new TextEncoder().encode(text));
}

/** Writes `bytes` to `path` atomically with mode 0600, like {@link writeFileAtomic}. */
export function writeBytesAtomic(path: string, bytes: Uint8Array): Promise<void> {
  return writeAtomic(path, (file) => writeAll(file, bytes));
}

/**
 * Replaces `path` atomically with mode 0600 by what `write` writes to the open file, like
 * {@link writeFileAtomic}: for content made piece by piece, never whole in memory.
 */
export async function writeAtomic(
  path: string,
  write: (file: Deno.FsFile) => Promise<void>,
): Promise<void> {
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    using file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
    await write(file);
    await file.sync();
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
  await Deno.rename(temp, path);
}

/**
 * Fills `into` from `file` with synchronous reads; false when the file ends first. Synchronous
 * because an async read duplicates and closes the descriptor each time, for data that is
 * usually in the page cache.
 */
export function readFullSync(file: Deno.FsFile, into: Uint8Array): boolean {
  for (let filled = 0; filled < into.length;) {
    const n = file.readSync(into.subarray(filled));
    if (n === null) return false;
    filled += n;
  }
  return true;
}

/** Writes every byte of `bytes` to `file` synchronously (one `write` may take only part). */
export function writeAllSync(file: Deno.FsFile, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += file.writeSync(bytes.subarray(done));
}

/** Writes every byte of `bytes` to `file` (one `write` may take only part of them). */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await file.write(bytes.subarray(done));
}

/** `Deno.lstat`, or undefined when nothing is at `path` (a symlink is reported, not followed). */
export async function lstatOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/**
 * True when two stats describe the same file (device and inode). Windows reports no inode
 * numbers; there both are null and this cannot tell files apart, so it says true.
 */
export function sameFile(a: Deno.FileInfo, b: Deno.FileInfo): boolean {
  if (a.ino === null || b.ino === null) return a.ino === b.ino;
  return a.dev === b.dev && a.ino === b.ino;
}

/**
 * The owner a file created in `dir` gets: the current user as that file system sees it (a
 * root-squashing NFS mount maps root to nobody, which `Deno.uid()` would not show, and needs
 * no `--allow-sys=uid`). Found by creating and removing a uniquely named empty file; null
 * where the OS has no user ids (Windows).
 */
export async function ownerOfNewFiles(dir: string): Promise<number | null> {
  const probe = `${dir}/.sfs-owner-${crypto.randomUUID()}`;
  const file = await Deno.open(probe, { write: true, createNew: true, mode: 0o600 });
  try {
    return (await file.stat()).uid;
  } finally {
    file.close();
    await Deno.remove(probe).catch(() => {});
  }
}
