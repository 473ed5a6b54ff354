/**
 * `sfs send --exclude GLOB` patterns (docs/design/folders.md F2): a small, fixed subset of
 * gitignore's syntax, so that what people already write for git does what they expect.
 *
 * | pattern         | matches                                                               |
 * | --------------- | --------------------------------------------------------------------- |
 * | `*`             | any run of characters except `/` (also none)                          |
 * | `?`             | one character except `/`                                              |
 * | `**`            | any run of characters including `/`; before a `/` also none at all    |
 * | anything else   | itself, case-sensitively (no character classes, no `\` escapes, no `!`) |
 *
 * A pattern without `/` is matched against the name of every entry at any depth (`*.tmp`,
 * `node_modules`); a pattern with a `/` against the whole path from the shared folder
 * (`build/out`, `docs/**` then `/*.pdf`), a leading `/` only anchoring it. A trailing `/` matches folders
 * only. An excluded folder is not entered. Pure: no I/O.
 *
 * @module
 */
import { SfsError } from "../errors.ts";

/** One parsed `--exclude` pattern. */
export interface ExcludePattern {
  readonly source: string;
  readonly regex: RegExp;
  /** Match the whole relative path (the pattern had a `/`), not just the name. */
  readonly anchored: boolean;
  /** Match folders only (the pattern ended in `/`). */
  readonly foldersOnly: boolean;
}

/** Parses one pattern; SfsError USAGE when it is empty or cannot match anything. */
export function parseExclude(source: string): ExcludePattern {
  let body = source;
  const foldersOnly = body.endsWith("/");
  if (foldersOnly) body = body.slice(0, -1);
  const anchored = body.includes("/");
  if (body.startsWith("/")) body = body.slice(1);
  if (body === "" || body.split("/").includes("")) {
    throw new SfsError("USAGE", `Exclude pattern "${source}" has an empty part`);
  }
  return { source, regex: new RegExp(`^${translate(body)}$`, "u"), anchored, foldersOnly };
}

/** True when an entry at `path` (relative, `/`-separated) is excluded by one of `patterns`. */
export function isExcluded(
  patterns: readonly ExcludePattern[],
  path: string,
  isFolder: boolean,
): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return patterns.some((p) =>
    (!p.foldersOnly || isFolder) && p.regex.test(p.anchored ? path : name)
  );
}

function translate(glob: string): string {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === "*" && glob[i + 1] === "*") {
      // `**/` may match no folder at all, so `a/**/b` matches `a/b`.
      if (glob[i + 2] === "/") {
        out += "(?:.*/)?";
        i += 2;
      } else {
        out += ".*";
        i += 1;
      }
    } else if (ch === "*") {
      out += "[^/]*";
    } else if (ch === "?") {
      out += "[^/]";
    } else {
      out += ch.replace(/[\\^$.|+()[\]{}\-]/g, "\\$&");
    }
  }
  return out;
}
