import assert from "node:assert/strict";
import { posix, win32 } from "node:path";
import { dirname, isAbsolute, join, pathRules, POSIX_PATHS, WINDOWS_PATHS } from "./path.ts";

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

// Separators of both kinds, dots, a drive letter and its colon, `?` and a name character: every
// root (device paths `\\.\x`, `\\?\x` too), `.`/`..` segment and separator run the rules tell
// apart, in every order up to 6 long.
const SHORT = allStrings(["a", ".", "/", "\\", ":", "C", "?"], 6);
/** Parts for joins: roots, UNC shares, relative and dotted segments, trailing separators. */
const PARTS = [
  "",
  ".",
  "..",
  "a",
  "a/",
  "a\\",
  "./b",
  "../b",
  "a/../..",
  "/",
  "//",
  "///x",
  "/abs/x",
  "\\",
  "\\\\",
  "\\\\server\\share",
  "//server/share/x",
  "\\\\server",
  "\\\\.\\COM1",
  "//?/C:/x",
  "a:",
  "x:/y",
  "C:",
  "c:\\",
  "C:x\\..\\y",
  "~",
  "dir.part",
  "é ü",
];

Deno.test("POSIX rules give node:path's posix results", () => {
  for (const path of SHORT) {
    assert.equal(POSIX_PATHS.dirname(path), posix.dirname(path), `dirname(${path})`);
    assert.equal(POSIX_PATHS.isAbsolute(path), posix.isAbsolute(path), `isAbsolute(${path})`);
    assert.equal(POSIX_PATHS.join(path), posix.join(path), `join(${path})`);
  }
  for (const a of PARTS) {
    for (const b of PARTS) {
      assert.equal(POSIX_PATHS.join(a, b), posix.join(a, b), `join(${a}, ${b})`);
      assert.equal(POSIX_PATHS.join(a, b, "c"), posix.join(a, b, "c"), `join(${a}, ${b}, c)`);
    }
  }
  assert.equal(POSIX_PATHS.join(), posix.join());
});

Deno.test("Windows rules give node:path's win32 results", () => {
  for (const path of SHORT) {
    assert.equal(WINDOWS_PATHS.dirname(path), win32.dirname(path), `dirname(${path})`);
    assert.equal(WINDOWS_PATHS.isAbsolute(path), win32.isAbsolute(path), `isAbsolute(${path})`);
    assert.equal(WINDOWS_PATHS.join(path), win32.join(path), `join(${path})`);
  }
  for (const a of PARTS) {
    for (const b of PARTS) {
      assert.equal(WINDOWS_PATHS.join(a, b), win32.join(a, b), `join(${a}, ${b})`);
      assert.equal(WINDOWS_PATHS.join(a, b, "c"), win32.join(a, b, "c"), `join(${a}, ${b}, c)`);
    }
  }
  assert.equal(WINDOWS_PATHS.join(), win32.join());
});

Deno.test("the rules know Windows roots: drives, UNC shares, either separator", () => {
  const rules = pathRules("windows");
  assert.equal(
    rules.join("C:\\Users\\me", "AppData", "Roaming", "sfs"),
    "C:\\Users\\me\\AppData\\Roaming\\sfs",
  );
  assert.equal(rules.join("C:/out", "../x.txt"), "C:\\x.txt");
  assert.equal(rules.join("\\\\server\\share", "f"), "\\\\server\\share\\f");
  assert.equal(rules.dirname("\\\\server\\share\\f"), "\\\\server\\share\\");
  assert.equal(rules.dirname("C:\\out\\f.txt"), "C:\\out");
  assert.equal(rules.dirname("C:f.txt"), "C:");
  assert.ok(rules.isAbsolute("C:/x") && rules.isAbsolute("\\x") && !rules.isAbsolute("C:x"));
  assert.equal(pathRules("linux").join("/home/me", ".config", "sfs"), "/home/me/.config/sfs");
  assert.equal(pathRules("darwin").dirname("/a/b/"), "/a");
});

Deno.test("join, dirname and isAbsolute follow this platform's rules", () => {
  const host = Deno.build.os === "windows" ? win32 : posix;
  for (const [a, b] of [["out", "f.txt"], ["../out/", "./f"], ["/tmp", ".f.sfs-part"]]) {
    assert.equal(join(a, b), host.join(a, b));
    assert.equal(dirname(join(a, b)), host.dirname(host.join(a, b)));
    assert.equal(isAbsolute(a), host.isAbsolute(a));
  }
});
