import assert from "node:assert/strict";
import { posix, win32 } from "node:path";
import {
  basename,
  dirname,
  isAbsolute,
  join,
  pathRules,
  POSIX_PATHS,
  resolve,
  WINDOWS_PATHS,
} from "./path.ts";

/** Every string of up to `max` characters over `alphabet`. */
function allStrings(alphabet: readonly string[], max: number): string[] {
  const found = [""];
  let last = [""];
  for (let length = 1; length <= max; length++) {
    last = last.flatMap((prefix) => alphabet.map((c) => prefix + c));
    found.push(...last);
  }
  return found;
}

/** Folders as a user may name them (`--out`, SFS_HOME, XDG_CONFIG_HOME): roots, dots, doubles. */
const POSIX_FOLDERS = [
  "/",
  "/tmp",
  "/tmp/",
  "/tmp//out",
  "out",
  "out/",
  "./out",
  "../out",
  "a/../b",
  "a/./b/..",
  ".",
  "..",
  "../..",
  "/..",
  "~",
  "é ü",
];
const WINDOWS_FOLDERS = [
  ...POSIX_FOLDERS,
  "C:\\",
  "C:/",
  "c:\\Users\\me",
  "C:\\Users\\me\\",
  "C:/out/../x",
  "C:",
  "C:rel",
  "C:..\\x",
  "\\",
  "\\out",
  "\\\\server\\share",
  "\\\\server\\share\\",
  "//server/share/d",
  "\\\\server\\share\\d\\..\\..",
  "out\\sub",
  ".\\out",
  "..\\out",
];
/** Names sfs appends: checked names (no separators, not `.` or `..`), its own suffixes. */
const NAMES = ["f.txt", ".f.txt.sfs-part", "state", "é ü", "a b", "x.sfs-proof"];

/** Each rule set, the `node:path` flavour it must agree with, and the folders to try. */
const RULES = [
  { label: "POSIX", rules: POSIX_PATHS, node: posix, folders: POSIX_FOLDERS },
  { label: "Windows", rules: WINDOWS_PATHS, node: win32, folders: WINDOWS_FOLDERS },
];

for (const { label, rules, node, folders } of RULES) {
  Deno.test(`${label} joins of a folder and checked names are node:path's`, () => {
    for (const folder of folders) {
      for (const name of NAMES) {
        const joined = rules.join(folder, name);
        assert.equal(joined, node.join(folder, name), `join(${folder}, ${name})`);
        assert.equal(rules.join(folder, name, "x"), node.join(folder, name, "x"));
        assert.equal(rules.dirname(joined), node.dirname(joined), `dirname(${joined})`);
        assert.equal(rules.basename(joined), node.basename(joined), `basename(${joined})`);
      }
    }
    assert.equal(rules.join(), ".");
  });
}

Deno.test("POSIX join and basename of a folder alone are node:path's", () => {
  for (const folder of POSIX_FOLDERS) {
    assert.equal(POSIX_PATHS.join(folder), posix.join(folder).replace(/(.)\/$/, "$1"));
    assert.equal(POSIX_PATHS.basename(folder), posix.basename(folder), `basename(${folder})`);
  }
});

Deno.test("isAbsolute() is node:path's on every short string, under both rules", () => {
  for (const path of allStrings(["a", ".", "/", "\\", ":", "C"], 5)) {
    assert.equal(POSIX_PATHS.isAbsolute(path), posix.isAbsolute(path), `posix ${path}`);
    assert.equal(WINDOWS_PATHS.isAbsolute(path), win32.isAbsolute(path), `win32 ${path}`);
  }
});

Deno.test("the rules know Windows roots: drives, UNC shares, either separator", () => {
  const rules = pathRules("windows");
  assert.equal(
    rules.join("C:\\Users\\me", "AppData", "Roaming", "sfs"),
    "C:\\Users\\me\\AppData\\Roaming\\sfs",
  );
  assert.equal(rules.join("C:/out", "../x.txt"), "C:\\x.txt");
  assert.equal(rules.join("\\\\server\\share", "f"), "\\\\server\\share\\f");
  // Separators meeting at a joint never make a UNC share.
  assert.equal(rules.join("\\", "\\server\\share"), "\\server\\share");
  assert.equal(rules.dirname("\\\\server\\share\\f"), "\\\\server\\share\\");
  assert.equal(rules.dirname("C:\\out\\f.txt"), "C:\\out");
  assert.equal(rules.dirname("C:f.txt"), "C:");
  assert.ok(rules.isAbsolute("C:/x") && rules.isAbsolute("\\x") && !rules.isAbsolute("C:x"));
  assert.equal(pathRules("linux").join("/home/me", ".config", "sfs"), "/home/me/.config/sfs");
  assert.equal(pathRules("darwin").dirname("/a/b/"), "/a");
  assert.equal(pathRules("darwin").dirname("f"), ".");
});

Deno.test("join, dirname and isAbsolute follow this platform's rules", () => {
  const host = Deno.build.os === "windows" ? win32 : posix;
  for (const [a, b] of [["out", "f.txt"], ["../out/", "f"], ["/tmp", ".f.sfs-part"]]) {
    assert.equal(join(a, b), host.join(a, b));
    assert.equal(dirname(join(a, b)), host.dirname(host.join(a, b)));
    assert.equal(isAbsolute(a), host.isAbsolute(a));
  }
});

Deno.test("resolve() of paths a user types is node:path's, and so is the share name from it", () => {
  const host = Deno.build.os === "windows" ? win32 : posix;
  const typed = [".", "..", "./", "dir", "dir/", "dir/..", "a/b/../c", "../x/./y", "/", "/tmp/../"];
  for (const path of [...typed, Deno.cwd()]) {
    assert.equal(resolve(path), host.resolve(path), path);
    assert.equal(basename(resolve(path)), host.basename(host.resolve(path)), path);
  }
});
