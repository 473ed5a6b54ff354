/**
 * Path operations of the part file (part_file.ts) in a folder that others may write to: a name
 * is acted on only while it still names the file we hold open, and links are never followed.
 */
import { join } from "../path.ts";
import { SfsError } from "../errors.ts";
import { lstatOrUndefined, ownerOfNewFiles, sameFile } from "../fs.ts";

/** Why a reopened part file must not be resumed into, or undefined when it may. */
export async function unfitForResume(
  file: Deno.FsFile,
  path: string,
  outDir: string,
  verified: number,
): Promise<string | undefined> {
  const [opened, named] = await Promise.all([file.stat(), lstatOrUndefined(path)]);
  if (!named || !sameFile(opened, named)) return "the part file changed while being opened";
  if (!opened.isFile) return "the part file is not a regular file";
  // Our part files have one name; a second one is a hard link someone made to a file elsewhere.
  if (opened.nlink !== null && opened.nlink !== 1) return "the part file has other names (links)";
  if (opened.uid !== null && opened.uid !== await ownerOfNewFiles(outDir)) {
    return "the part file belongs to another user";
  }
  if (opened.size < verified) return "the part file is shorter than recorded";
  return undefined;
}

/** The error for a name someone swapped under us: nothing is saved. */
export function replaced(path: string): SfsError {
  return new SfsError("IO", `"${path}" was replaced while receiving; nothing was saved`, {
    hint: "Another program is changing files in this folder; run sfs get again once it stops",
  });
}

/** Removes the directory entry at `path` (a link itself, never its target) if there is one. */
export async function removeName(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/** Removes `path` only while it still names the file `ours` describes. */
export async function removeIfSame(path: string, ours: Deno.FileInfo): Promise<void> {
  const named = await lstatOrUndefined(path);
  if (named && sameFile(named, ours)) await Deno.remove(path).catch(() => {});
}

/** Creates the output folder and refuses an existing destination unless `force`. */
export async function prepare(outDir: string, safeName: string, force: boolean): Promise<string> {
  await Deno.mkdir(outDir, { recursive: true });
  const finalPath = join(outDir, safeName);
  if (!force && await lstatOrUndefined(finalPath)) {
    throw new SfsError("EXISTS", `"${finalPath}" already exists`, {
      remedy: "replace-or-elsewhere",
    });
  }
  return finalPath;
}

/** Makes the new directory entry durable where the OS allows syncing a directory. */
export async function syncDirectory(path: string): Promise<void> {
  try {
    using dir = await Deno.open(path, { read: true });
    await dir.sync();
  } catch {
    // Windows cannot open a directory as a file; NTFS journals the rename itself.
  }
}

/**
 * Gives `from`'s file the name `to`: a hard link, which fails with EXISTS rather than replace a
 * file created meanwhile, or with `replace` a rename (a link at `to` is replaced, not followed).
 */
export async function linkOrRename(from: string, to: string, replace: boolean): Promise<void> {
  if (replace) return await Deno.rename(from, to);
  try {
    await Deno.link(from, to);
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      throw new SfsError("EXISTS", `"${to}" appeared while receiving`);
    }
    // File systems without hard links: check, then rename (a small window, documented).
    if (await lstatOrUndefined(to)) {
      throw new SfsError("EXISTS", `"${to}" appeared while receiving`);
    }
    await Deno.rename(from, to);
  }
}
