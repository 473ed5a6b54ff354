/**
 * The path operations sfs needs (join, dirname, isAbsolute) for POSIX and Windows rules, with
 * `node:path`'s results. Why not `node:path` itself: importing any `node:` module starts Deno's
 * Node compatibility layer, ~15–20 ms of every process start (docs/PERFORMANCE.md, tiny12), and
 * a 1 KiB `sfs get` needs only these three functions.
 *
 * The algorithms are Node's (lib/path.js, MIT): a join normalizes (`.` and `..` segments,
 * repeated separators), Windows accepts both separators and knows drive letters (`C:`) and UNC
 * roots (`\\server\share`). path_test.ts checks the results against `node:path` on both rules.
 *
 * @module
 */

/** One platform's path rules. */
export interface PathRules {
  /** The separator this platform writes: `/` or `\`. */
  readonly sep: "/" | "\\";
  /** Joins the non-empty `parts` with the separator and normalizes the result ("." if none). */
  join(...parts: string[]): string;
  /** The path without its last segment, as `node:path` `dirname()`. */
  dirname(path: string): string;
  /** True when `path` starts at a root (`/`; on Windows `\`, `/` or `C:\`). */
  isAbsolute(path: string): boolean;
}

const SLASH = 47; // "/"
const BACKSLASH = 92; // "\"
const DOT = 46; // "."
const COLON = 58; // ":"

function isPosixSeparator(code: number): boolean {
  return code === SLASH;
}

function isWindowsSeparator(code: number): boolean {
  return code === SLASH || code === BACKSLASH;
}

/** A drive letter: A–Z or a–z. */
function isDriveLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/**
 * Resolves `.` and `..` segments and repeated separators in a path without its root; `..` above
 * the start is kept only when `aboveRoot` (a relative path).
 */
function normalizeSegments(
  path: string,
  aboveRoot: boolean,
  sep: string,
  isSeparator: (code: number) => boolean,
): string {
  let res = "";
  let lastSegmentLength = 0;
  let lastSlash = -1;
  let dots = 0;
  let code = 0;
  for (let i = 0; i <= path.length; ++i) {
    if (i < path.length) code = path.charCodeAt(i);
    else if (isSeparator(code)) break;
    else code = SLASH;
    if (isSeparator(code)) {
      if (lastSlash === i - 1 || dots === 1) {
        // An empty or "." segment: nothing to add.
      } else if (dots === 2) {
        const endsInDotDot = res.length >= 2 && lastSegmentLength === 2 &&
          res.charCodeAt(res.length - 1) === DOT && res.charCodeAt(res.length - 2) === DOT;
        if (!endsInDotDot && res.length > 2) {
          const lastSep = res.lastIndexOf(sep);
          if (lastSep === -1) {
            res = "";
            lastSegmentLength = 0;
          } else {
            res = res.slice(0, lastSep);
            lastSegmentLength = res.length - 1 - res.lastIndexOf(sep);
          }
          lastSlash = i;
          dots = 0;
          continue;
        } else if (!endsInDotDot && res.length !== 0) {
          res = "";
          lastSegmentLength = 0;
          lastSlash = i;
          dots = 0;
          continue;
        }
        if (aboveRoot) {
          res += res.length > 0 ? `${sep}..` : "..";
          lastSegmentLength = 2;
        }
      } else {
        const segment = path.slice(lastSlash + 1, i);
        res += res.length > 0 ? `${sep}${segment}` : segment;
        lastSegmentLength = i - lastSlash - 1;
      }
      lastSlash = i;
      dots = 0;
    } else if (code === DOT && dots !== -1) {
      ++dots;
    } else {
      dots = -1;
    }
  }
  return res;
}

function posixNormalize(path: string): string {
  if (path.length === 0) return ".";
  const absolute = path.charCodeAt(0) === SLASH;
  const trailingSeparator = path.charCodeAt(path.length - 1) === SLASH;
  let tail = normalizeSegments(path, !absolute, "/", isPosixSeparator);
  if (tail.length === 0) {
    if (absolute) return "/";
    return trailingSeparator ? "./" : ".";
  }
  if (trailingSeparator) tail += "/";
  return absolute ? `/${tail}` : tail;
}

/** POSIX rules: `/` separates, and a path is absolute when it starts with one. */
export const POSIX_PATHS: PathRules = {
  sep: "/",
  join(...parts: string[]): string {
    const joined = parts.filter((part) => part.length > 0).join("/");
    return joined.length === 0 ? "." : posixNormalize(joined);
  },
  dirname(path: string): string {
    if (path.length === 0) return ".";
    const hasRoot = path.charCodeAt(0) === SLASH;
    let end = -1;
    let matchedSlash = true;
    for (let i = path.length - 1; i >= 1; --i) {
      if (path.charCodeAt(i) === SLASH) {
        if (!matchedSlash) {
          end = i;
          break;
        }
      } else {
        matchedSlash = false;
      }
    }
    if (end === -1) return hasRoot ? "/" : ".";
    if (hasRoot && end === 1) return "//";
    return path.slice(0, end);
  },
  isAbsolute(path: string): boolean {
    return path.length > 0 && path.charCodeAt(0) === SLASH;
  },
};

/**
 * The UNC root `\\server\share` that `path` (starting with two separators) begins with: the
 * server's name, where the share's name starts and ends, and whether nothing follows it;
 * undefined when it is not one.
 */
function uncRoot(
  path: string,
): { server: string; share: number; end: number; whole: boolean } | undefined {
  const len = path.length;
  let j = 2;
  let last = j;
  while (j < len && !isWindowsSeparator(path.charCodeAt(j))) j++;
  if (j >= len || j === last) return undefined;
  const server = path.slice(2, j);
  last = j;
  while (j < len && isWindowsSeparator(path.charCodeAt(j))) j++;
  if (j >= len || j === last) return undefined;
  const share = j;
  while (j < len && !isWindowsSeparator(path.charCodeAt(j))) j++;
  if (j === len) return { server, share, end: j, whole: true };
  return j !== share ? { server, share, end: j, whole: false } : undefined;
}

/**
 * Whether a relative path without a drive, once normalized to `tail`, could be read by Windows
 * as a drive (`C:…`) or a stream (`name:`): Node then writes it as `.\tail` (nodejs/node#56766).
 */
function relativeLooksRooted(path: string, tail: string): boolean {
  if (!path.includes(":")) return false;
  if (tail.length >= 2 && isDriveLetter(tail.charCodeAt(0)) && tail.charCodeAt(1) === COLON) {
    return true;
  }
  for (let i = path.indexOf(":"); i !== -1; i = path.indexOf(":", i + 1)) {
    if (i === path.length - 1 || isWindowsSeparator(path.charCodeAt(i + 1))) return true;
  }
  return false;
}

function windowsNormalize(path: string): string {
  const len = path.length;
  if (len === 0) return ".";
  const code = path.charCodeAt(0);
  if (len === 1) return isPosixSeparator(code) ? "\\" : path;
  let rootEnd = 0;
  let device: string | undefined;
  let absolute = false;
  if (isWindowsSeparator(code)) {
    absolute = true;
    if (isWindowsSeparator(path.charCodeAt(1))) {
      const unc = uncRoot(path);
      if (unc?.server === "." || unc?.server === "?") {
        // A device path (`\\.\COM1`, `\\?\C:\…`): its root is just `\\.` or `\\?`.
        device = `\\\\${unc.server}`;
        rootEnd = 4;
      } else if (unc !== undefined) {
        if (unc.whole) return `\\\\${unc.server}\\${path.slice(unc.share)}\\`;
        device = `\\\\${unc.server}\\${path.slice(unc.share, unc.end)}`;
        rootEnd = unc.end;
      }
    } else {
      rootEnd = 1;
    }
  } else if (isDriveLetter(code) && path.charCodeAt(1) === COLON) {
    device = path.slice(0, 2);
    rootEnd = 2;
    if (len > 2 && isWindowsSeparator(path.charCodeAt(2))) {
      absolute = true;
      rootEnd = 3;
    }
  }
  let tail = rootEnd < len
    ? normalizeSegments(path.slice(rootEnd), !absolute, "\\", isWindowsSeparator)
    : "";
  if (tail.length === 0 && !absolute) tail = ".";
  if (tail.length > 0 && isWindowsSeparator(path.charCodeAt(len - 1))) tail += "\\";
  if (!absolute && device === undefined && relativeLooksRooted(path, tail)) return `.\\${tail}`;
  if (device === undefined) return absolute ? `\\${tail}` : tail;
  return absolute ? `${device}\\${tail}` : `${device}${tail}`;
}

/** Windows rules: `\` or `/` separate; roots are `\`, drive letters (`C:`) and UNC shares. */
export const WINDOWS_PATHS: PathRules = {
  sep: "\\",
  join(...parts: string[]): string {
    const nonEmpty = parts.filter((part) => part.length > 0);
    if (nonEmpty.length === 0) return ".";
    let joined = nonEmpty.join("\\");
    // A join must not turn into a UNC path by accident (`\` + `\x`), so leading separators
    // collapse to one unless the first part itself starts as a UNC path (`\\server…`).
    const first = nonEmpty[0];
    const startsUnc = first.length > 2 && isWindowsSeparator(first.charCodeAt(0)) &&
      isWindowsSeparator(first.charCodeAt(1)) && !isWindowsSeparator(first.charCodeAt(2));
    if (!startsUnc) {
      let slashes = 0;
      while (slashes < joined.length && isWindowsSeparator(joined.charCodeAt(slashes))) slashes++;
      if (slashes >= 2) joined = `\\${joined.slice(slashes)}`;
    }
    return windowsNormalize(joined);
  },
  dirname(path: string): string {
    const len = path.length;
    if (len === 0) return ".";
    const code = path.charCodeAt(0);
    if (len === 1) return isWindowsSeparator(code) ? path : ".";
    let rootEnd = -1;
    let offset = 0;
    if (isWindowsSeparator(code)) {
      rootEnd = offset = 1;
      if (isWindowsSeparator(path.charCodeAt(1))) {
        const unc = uncRoot(path);
        if (unc?.whole) return path;
        // The separator after the share is part of the root.
        if (unc !== undefined) rootEnd = offset = unc.end + 1;
      }
    } else if (isDriveLetter(code) && path.charCodeAt(1) === COLON) {
      rootEnd = offset = len > 2 && isWindowsSeparator(path.charCodeAt(2)) ? 3 : 2;
    }
    let end = -1;
    let matchedSlash = true;
    for (let i = len - 1; i >= offset; --i) {
      if (isWindowsSeparator(path.charCodeAt(i))) {
        if (!matchedSlash) {
          end = i;
          break;
        }
      } else {
        matchedSlash = false;
      }
    }
    if (end === -1) {
      if (rootEnd === -1) return ".";
      end = rootEnd;
    }
    return path.slice(0, end);
  },
  isAbsolute(path: string): boolean {
    const len = path.length;
    if (len === 0) return false;
    const code = path.charCodeAt(0);
    return isWindowsSeparator(code) ||
      (len > 2 && isDriveLetter(code) && path.charCodeAt(1) === COLON &&
        isWindowsSeparator(path.charCodeAt(2)));
  },
};

/** The rules of `os` (as in `Deno.build.os`): Windows' for "windows", POSIX's for the rest. */
export function pathRules(os: string): PathRules {
  return os === "windows" ? WINDOWS_PATHS : POSIX_PATHS;
}

const HOST = pathRules(Deno.build.os);

/** Joins and normalizes path segments with this platform's rules (`node:path` `join()`). */
export const join: (...parts: string[]) => string = HOST.join;
/** The folder part of `path` with this platform's rules (`node:path` `dirname()`). */
export const dirname: (path: string) => string = HOST.dirname;
/** Whether `path` is absolute under this platform's rules (`node:path` `isAbsolute()`). */
export const isAbsolute: (path: string) => boolean = HOST.isAbsolute;
