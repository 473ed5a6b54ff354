/**
 * The path operations sfs needs — join a folder and names, the folder or the name of a path, is it
 * absolute, the absolute form of a path the user typed —
 * under POSIX and Windows rules. Why not `node:path`: importing any `node:` module starts Deno's
 * Node compatibility layer, ~15–20 ms and ~5 MiB of every process (docs/PERFORMANCE.md, tiny12),
 * and a 1 KiB `sfs get` needs only these three.
 *
 * A path is taken apart into a root (`/`; on Windows `\`, `C:\`, the relative `C:`, or a UNC
 * share `\\server\share\`) and its segments; a join drops empty and `.` segments and lets `..`
 * take back the segment before it (above a root it is dropped, above a relative start it stays).
 * sfs joins a folder the user named with names it checked, so that is all a join must do;
 * path_test.ts compares the results with `node:path` on such joins, under both rules.
 *
 * @module
 */

/** One platform's path rules. */
export interface PathRules {
  /** The separator this platform writes: `/` or `\`. */
  readonly sep: "/" | "\\";
  /** The non-empty `parts` joined with the separator and normalized ("." if nothing is left). */
  join(...parts: string[]): string;
  /** The path without its last segment ("." for a lone relative name, the root for a root). */
  dirname(path: string): string;
  /** True when `path` starts at a root (`/`; on Windows `\`, `/`, `C:\` or a UNC share). */
  isAbsolute(path: string): boolean;
  /** The last segment of `path`, without trailing separators ("" for a root). */
  basename(path: string): string;
}

/** A path taken apart: its root as written back, whether that root is absolute, its segments. */
interface Parsed {
  readonly root: string;
  readonly absolute: boolean;
  readonly segments: string[];
}

/** Segments without empty and `.` ones, `..` resolved against what comes before it. */
function resolveDots(segments: string[], absolute: boolean): string[] {
  const kept: string[] = [];
  for (const segment of segments) {
    if (segment === "" || segment === ".") continue;
    if (segment !== "..") kept.push(segment);
    else if (kept.length > 0 && kept[kept.length - 1] !== "..") kept.pop();
    else if (!absolute) kept.push("..");
  }
  return kept;
}

function build(sep: string, parsed: Parsed): string {
  const segments = resolveDots(parsed.segments, parsed.absolute);
  const body = segments.join(sep);
  if (parsed.root === "") return body === "" ? "." : body;
  return parsed.root + body;
}

/** Where the last segment of `path` starts (after its root), and where the root ends. */
function lastSegment(path: string, rootLength: number, isSep: (c: string) => boolean): {
  start: number;
  end: number;
} {
  let end = path.length;
  while (end > rootLength && isSep(path[end - 1])) end--;
  let start = end;
  while (start > rootLength && !isSep(path[start - 1])) start--;
  return { start, end };
}

function basenameWith(path: string, rootLength: number, isSep: (c: string) => boolean): string {
  const { start, end } = lastSegment(path, rootLength, isSep);
  return path.slice(start, end);
}

function dirnameWith(
  path: string,
  rootLength: number,
  isSep: (c: string) => boolean,
): string {
  const { start } = lastSegment(path, rootLength, isSep);
  let end = start;
  while (end > rootLength && isSep(path[end - 1])) end--;
  if (end > 0) return path.slice(0, end);
  return rootLength > 0 ? path.slice(0, rootLength) : ".";
}

const isPosixSep = (c: string) => c === "/";

function parsePosix(path: string): Parsed {
  const absolute = path.startsWith("/");
  return { root: absolute ? "/" : "", absolute, segments: path.split("/") };
}

/** POSIX rules: `/` separates, and a path is absolute when it starts with one. */
export const POSIX_PATHS: PathRules = {
  sep: "/",
  join(...parts: string[]): string {
    return build("/", parsePosix(parts.filter((part) => part !== "").join("/")));
  },
  dirname(path: string): string {
    if (path === "") return ".";
    return dirnameWith(path, path.startsWith("/") ? 1 : 0, isPosixSep);
  },
  isAbsolute(path: string): boolean {
    return path.startsWith("/");
  },
  basename(path: string): string {
    return basenameWith(path, path.startsWith("/") ? 1 : 0, isPosixSep);
  },
};

const isWindowsSep = (c: string | undefined) => c === "\\" || c === "/";
const isDrive = (path: string) => /^[A-Za-z]:/.test(path);

/**
 * The root of a Windows path, as written and its length in `path`: a UNC share
 * (`\\server\share\`), a drive with or without a separator (`C:\`, `C:`), or one separator.
 */
function windowsRoot(path: string): { root: string; length: number; absolute: boolean } {
  const unc = /^[\\/]{2}([^\\/]+)[\\/]+([^\\/]+)[\\/]*/.exec(path);
  if (unc !== null && unc[1] !== "." && unc[1] !== "?") {
    return { root: `\\\\${unc[1]}\\${unc[2]}\\`, length: unc[0].length, absolute: true };
  }
  if (isDrive(path)) {
    const absolute = isWindowsSep(path[2]);
    return { root: path.slice(0, 2) + (absolute ? "\\" : ""), length: absolute ? 3 : 2, absolute };
  }
  if (isWindowsSep(path[0])) return { root: "\\", length: 1, absolute: true };
  return { root: "", length: 0, absolute: false };
}

function parseWindows(path: string): Parsed {
  const { root, length, absolute } = windowsRoot(path);
  return { root, absolute, segments: path.slice(length).split(/[\\/]/) };
}

/** Windows rules: `\` or `/` separate; roots are `\`, drive letters (`C:`) and UNC shares. */
export const WINDOWS_PATHS: PathRules = {
  sep: "\\",
  join(...parts: string[]): string {
    let joined = parts.filter((part) => part !== "").join("\\");
    // A join never makes a UNC share out of separators that met at a joint, or out of a lone
    // root: only a first part that starts as one (`\\server…`) keeps its double separator.
    if (!/^[\\/]{2}[^\\/]/.test(parts.find((part) => part !== "") ?? "")) {
      joined = joined.replace(/^[\\/]{2,}/, "\\");
    }
    return build("\\", parseWindows(joined));
  },
  dirname(path: string): string {
    if (path === "") return ".";
    const { length } = windowsRoot(path);
    return dirnameWith(path, length, isWindowsSep);
  },
  isAbsolute(path: string): boolean {
    return isWindowsSep(path[0]) || (isDrive(path) && isWindowsSep(path[2]));
  },
  basename(path: string): string {
    return basenameWith(path, windowsRoot(path).length, isWindowsSep);
  },
};

/** The rules of `os` (as in `Deno.build.os`): Windows' for "windows", POSIX's for the rest. */
export function pathRules(os: string): PathRules {
  return os === "windows" ? WINDOWS_PATHS : POSIX_PATHS;
}

const HOST = pathRules(Deno.build.os);

/** Joins and normalizes path segments with this platform's rules. */
export const join: (...parts: string[]) => string = (...parts) => HOST.join(...parts);
/** The folder part of `path` with this platform's rules. */
export const dirname: (path: string) => string = (path) => HOST.dirname(path);
/** The last segment of `path` with this platform's rules. */
export const basename: (path: string) => string = (path) => HOST.basename(path);
/** Whether `path` is absolute under this platform's rules. */
export const isAbsolute: (path: string) => boolean = (path) => HOST.isAbsolute(path);
/** `path` made absolute against the current folder, and normalized (`.` and `..` resolved). */
export const resolve: (path: string) => string = (path) =>
  HOST.isAbsolute(path) ? HOST.join(path) : HOST.join(Deno.cwd(), path);
