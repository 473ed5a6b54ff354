/**
 * Where sfs keeps its identity, known peers and settings.
 *
 * @module
 */

import { join, pathRules } from "../../path.ts";
import { SfsError } from "../../errors.ts";
import { IDENTITY_FILE } from "./identity_file.ts";

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
   * @default {$HOME, or %USERPROFILE% on Windows, else what {@link ResolveHomeOptions.osHomeDir} finds}
   */
  homeDir?: string;
  /**
   * Asks the OS for the user's home directory, when neither `homeDir` nor the environment says.
   * @default {node:os homedir(), loaded only then: it starts Deno's Node layer (src/path.ts)}
   */
  osHomeDir?: () => Promise<string | undefined>;
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
export async function resolveHome(options: ResolveHomeOptions = {}): Promise<string> {
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
  const path = pathRules(os);
  const userHome = () =>
    findUserHome(
      options.homeDir ?? get(os === "windows" ? "USERPROFILE" : "HOME"),
      options.osHomeDir ?? osHomeDir,
    );
  if (os === "windows") {
    const appData = get("APPDATA");
    if (appData !== undefined) return path.join(appData, "sfs");
    return path.join(await userHome(), "AppData", "Roaming", "sfs");
  }
  if (os === "darwin") {
    return path.join(await userHome(), "Library", "Application Support", "sfs");
  }
  const xdg = get("XDG_CONFIG_HOME");
  if (xdg !== undefined && path.isAbsolute(xdg)) return path.join(xdg, "sfs");
  return path.join(await userHome(), ".config", "sfs");
}

/** The user's home directory: `known` (option or env), else the OS's answer. */
async function findUserHome(
  known: string | undefined,
  askOs: () => Promise<string | undefined>,
): Promise<string> {
  const dir = known ?? await askOs();
  if (dir === undefined || dir === "") {
    throw new SfsError("USAGE", "Cannot find your home directory", {
      hint: "Set SFS_HOME or pass --home",
    });
  }
  return dir;
}

async function osHomeDir(): Promise<string | undefined> {
  try {
    const { homedir } = await import("node:os");
    return homedir();
  } catch {
    return undefined;
  }
}

/** What {@link homeProblems} can find. */
export type HomeProblemKind = "HOME_WRITABLE" | "IDENTITY_WRITABLE" | "IDENTITY_SYMLINK";

/** One way the sfs home is not private to its user, with what to do about it. */
export interface HomeProblem {
  readonly kind: HomeProblemKind;
  readonly message: string;
  readonly hint: string;
}

/** Group or other write permission. */
const WRITABLE_BY_OTHERS = 0o022;

/**
 * Checks the sfs home and its identity file at rest: anyone who can write the home can replace
 * pins, settings or the identity, and anyone who can write identity.json can swap in their own
 * keys. Reports a home or identity.json (or a link's target) writable by group or others, and an
 * identity.json that is a symbolic link. A missing home or identity is no problem (keygen makes
 * them private). Unix modes only: Windows reports none, and its ACLs are not checked.
 *
 * A linked identity.json is reported, not refused: planting the link takes write access to the
 * home, which already allows replacing the file itself, while refusing would break dotfile
 * managers and identities kept on another volume. What matters is who can write the target,
 * which is checked like the file itself; and sfs never writes through the link (an atomic
 * rename replaces the link).
 */
export function homeProblems(home: string): HomeProblem[] {
  const problems: HomeProblem[] = [];
  const homeMode = tryStat(() => Deno.statSync(home))?.mode;
  if (homeMode === null || homeMode === undefined) return problems;
  if ((homeMode & WRITABLE_BY_OTHERS) !== 0) {
    problems.push({
      kind: "HOME_WRITABLE",
      message: `The sfs home "${home}" can be written by other users, who could replace your ` +
        "identity and pinned keys",
      hint: `Run: chmod go-w "${home}"`,
    });
  }
  const identity = join(home, IDENTITY_FILE);
  const isLink = tryStat(() => Deno.lstatSync(identity))?.isSymlink ?? false;
  // For a link, the target is what matters; a dangling link has no target to check.
  const path = isLink ? tryStat(() => Deno.realPathSync(identity)) : identity;
  if (isLink) {
    problems.push({
      kind: "IDENTITY_SYMLINK",
      message: `"${identity}" is a symbolic link ` +
        (path === undefined ? "to nothing" : `to "${path}"`),
      hint: "If you did not make this link, someone may have planted it: remove it and restore " +
        "your identity from a backup",
    });
  }
  const mode = path === undefined ? undefined : tryStat(() => Deno.statSync(path))?.mode;
  if (mode !== null && mode !== undefined && (mode & WRITABLE_BY_OTHERS) !== 0) {
    problems.push({
      kind: "IDENTITY_WRITABLE",
      message: `"${path}" can be written by other users, who could swap in their own keys`,
      hint: `Run: chmod 600 "${path}"`,
    });
  }
  return problems;
}

/**
 * Runs a stat-like call; undefined when it fails. These checks are advice: a path that cannot be
 * examined (missing, not a folder, no permission) fails later with a proper error, or not at all.
 */
function tryStat<T>(stat: () => T): T | undefined {
  try {
    return stat();
  } catch {
    return undefined;
  }
}
