/**
 * Paths people type: `--out` folders (with `~` expanded, since a quoted `'~/Downloads'` reaches
 * us unexpanded) and the files `sfs send` shares, checked up front so that a typo gets a clear
 * message instead of the OS's.
 *
 * @module
 */
import { join } from "../path.ts";
import { SfsError } from "../errors.ts";

/** Where `~` points: `HOME`, else `USERPROFILE` (Windows). */
function userHome(getEnv: (name: string) => string | undefined): string | undefined {
  return getEnv("HOME") || getEnv("USERPROFILE") || undefined;
}

/**
 * Expands a leading `~` or `~/…` (also `~\…`) to the user's home folder, as a shell would have;
 * refuses `~name/…` (another user's home cannot be found portably), so a literal `./~` folder
 * is never created.
 */
export function expandHome(
  path: string,
  option: string,
  getEnv: (name: string) => string | undefined = (name) => Deno.env.get(name),
): string {
  if (!path.startsWith("~")) return path;
  const match = /^~(?:[/\\](.*))?$/s.exec(path);
  if (match === null) {
    throw new SfsError("USAGE", `${option} "${path}" names another user's home folder`, {
      hint: "Write the full path instead",
    });
  }
  const home = userHome(getEnv);
  if (home === undefined) {
    throw new SfsError("USAGE", `${option} "${path}" starts with ~ but HOME is not set`, {
      hint: "Write the full path instead",
    });
  }
  return match[1] ? join(home, match[1]) : home;
}

/** Checks that `--out` is a folder or does not exist yet (it is then created). */
export async function checkOutDir(path: string): Promise<void> {
  const info = await Deno.stat(path).catch(() => undefined);
  if (info !== undefined && !info.isDirectory) {
    throw new SfsError("NOT_A_FOLDER", `--out "${path}" is a file, not a folder`, {
      hint: "Name a folder to save into; it is created if missing",
    });
  }
}

/** Checks that `path` is a file sfs can share: it exists and is not a folder. */
export async function checkShareable(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) return; // prepareFile reports the rest
    throw new SfsError("USAGE", `Cannot share "${path}": no such file`, {
      hint: "Check the name; relative paths start from the current folder",
    });
  }
  if (info.isDirectory) {
    throw new SfsError("USAGE", `Cannot share "${path}": it is a folder`, {
      hint: "sfs sends files: pack the folder first (tar -czf folder.tar.gz folder, or a zip) " +
        "and send that, or name the files inside it",
    });
  }
}
