/** File-system helpers shared by every layer that touches files (cli, peer, index). */

/**
 * Writes `text` to `path` atomically with mode 0600: a temporary file in the same folder, synced,
 * then renamed over the target, so a crash leaves the old file or the new one, never half.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    using file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
    const bytes = new TextEncoder().encode(text);
    let done = 0;
    while (done < bytes.length) done += await file.write(bytes.subarray(done));
    await file.sync();
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
  await Deno.rename(temp, path);
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
