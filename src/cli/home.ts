/**
 * Where sfs keeps its identity, known peers and settings.
 *
 * @module
 */

import { homedir } from "node:os";
import { posix, win32 } from "node:path";
import { SfsError } from "../errors.ts";

/** Options for {@link resolveHome}; everything is injectable so every platform can be tested. */
export interface ResolveHomeOptions {
  /** The `--home` flag, which wins over everything else. */
  flag?: string;
  /**
   * Reads an environment variable; empty values count as unset.
   * @default {Deno.env.get}
   */
  env?: (name: string) => string | undefined;
  /**
   * The platform, as in `Deno.build.os`.
   * @default {Deno.build.os}
   */
  os?: string;
  /**
   * The user's home directory.
   * @default {$HOME, or %USERPROFILE% on Windows, else node:os homedir()}
   */
  homeDir?: string;
}

/**
 * Returns the sfs home directory: `--home`, else `SFS_HOME`, else the platform's config dir.
 *
 * | platform | directory                                                   |
 * | -------- | ----------------------------------------------------------- |
 * | Linux    | `$XDG_CONFIG_HOME/sfs`, or `~/.config/sfs`                  |
 * | macOS    | `~/Library/Application Support/sfs`                         |
 * | Windows  | `%APPDATA%\sfs`, or `~\AppData\Roaming\sfs`                 |
 *
 * Other Unix systems use the Linux rule. A relative `XDG_CONFIG_HOME` is ignored, as the XDG
 * spec requires. A relative `--home` or `SFS_HOME` is returned as given and so resolves against
 * the working directory. Throws SfsError USAGE when no home directory can be found.
 */
export function resolveHome(options: ResolveHomeOptions = {}): string {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const get = (name: string): string | undefined => {
    const value = env(name);
    return value === undefined || value === "" ? undefined : value;
  };
  if (options.flag !== undefined && options.flag !== "") return options.flag;
  const fromEnv = get("SFS_HOME");
  if (fromEnv !== undefined) return fromEnv;

  const os = options.os ?? Deno.build.os;
  // Join with the target platform's rules, not the host's, so the result is right (and testable)
  // whatever machine computes it.
  if (os === "windows") {
    const appData = get("APPDATA");
    if (appData !== undefined) return win32.join(appData, "sfs");
    return win32.join(
      userHome(options.homeDir, () => get("USERPROFILE")),
      "AppData",
      "Roaming",
      "sfs",
    );
  }
  if (os === "darwin") {
    return posix.join(
      userHome(options.homeDir, () => get("HOME")),
      "Library",
      "Application Support",
      "sfs",
    );
  }
  const xdg = get("XDG_CONFIG_HOME");
  if (xdg !== undefined && posix.isAbsolute(xdg)) return posix.join(xdg, "sfs");
  return posix.join(userHome(options.homeDir, () => get("HOME")), ".config", "sfs");
}

/** Finds the user's home directory, asking the OS only when neither option nor env has it. */
function userHome(given: string | undefined, fromEnv: () => string | undefined): string {
  const dir = given ?? fromEnv() ?? osHomeDir();
  if (dir === undefined || dir === "") {
    throw new SfsError("USAGE", "Cannot find your home directory", {
      hint: "Set SFS_HOME or pass --home",
    });
  }
  return dir;
}

function osHomeDir(): string | undefined {
  try {
    return homedir();
  } catch {
    return undefined;
  }
}
