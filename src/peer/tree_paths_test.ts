import assert from "node:assert/strict";
import { isSfsError } from "../errors.ts";
import {
  checkTreePath,
  compareNames,
  componentProblem,
  foldKey,
  MAX_TREE_DEPTH,
  TreePathChecker,
} from "./tree_paths.ts";

Deno.test("checkTreePath() splits safe relative paths", () => {
  assert.deepEqual(checkTreePath("a"), ["a"]);
  assert.deepEqual(checkTreePath("docs/r\u00e9sum\u00e9 2026.pdf"), [
    "docs",
    "r\u00e9sum\u00e9 2026.pdf",
  ]);
  assert.deepEqual(checkTreePath(".config/..hidden"), [".config", "..hidden"]);
  assert.deepEqual(checkTreePath("emoji/\u{1f600}\u200d.txt"), ["emoji", "\u{1f600}\u200d.txt"]);
  assert.equal(checkTreePath(Array(MAX_TREE_DEPTH).fill("d").join("/")).length, MAX_TREE_DEPTH);
});

Deno.test("checkTreePath() refuses hostile paths with UNSAFE_NAME", async (t) => {
  const hostile: Array<[string, string]> = [
    ["a parent reference", "../x"],
    ["an absolute path", "/etc/x"],
    ["a parent reference inside", "a/../../x"],
    ["a dot component", "a/./x"],
    ["an empty path", ""],
    ["an empty component", "a//x"],
    ["a trailing separator", "a/"],
    ["a Windows separator", "a\\..\\x"],
    ["a Windows drive", "C:/x"],
    ["a drive-relative name", "C:x"],
    ["an NTFS stream", "a.txt:secret"],
    ["CON", "CON"],
    ["a device with an extension", "dir/nul.txt"],
    ["COM1 in lower case", "com1"],
    ["a NUL byte", "a\u0000b"],
    ["an escape sequence", "\u001b]0;title\u0007"],
    ["a newline", "a\nb"],
    ["a bidi override", "invoice\u202etxt.exe"],
    ["a lone surrogate", "a\ud800"],
    ["a trailing dot", "name."],
    ["a trailing space", "dir /x"],
    ["a part file", "x.sfs-part"],
    ["a proof in upper case", "x.SFS-PROOF"],
    ["a component over 255 bytes", "\u00e9".repeat(128)],
    ["a path over 3072 bytes", Array(40).fill("x".repeat(100)).join("/")],
    ["10,000 levels deep", Array(10_000).fill("a").join("/")],
    ["one level too deep", Array(MAX_TREE_DEPTH + 1).fill("d").join("/")],
  ];
  for (const [name, path] of hostile) {
    await t.step(name, () => {
      assert.throws(() => checkTreePath(path), (err) => isSfsError(err, "UNSAFE_NAME"));
    });
  }
});

Deno.test("componentProblem() is what the walk skips on", () => {
  assert.equal(componentProblem("notes.txt"), undefined);
  assert.equal(componentProblem("console.txt"), undefined);
  assert.notEqual(componentProblem("12:30.txt"), undefined);
  assert.notEqual(componentProblem("aux .txt"), undefined);
});

Deno.test("compareNames() orders by UTF-8 bytes, not UTF-16 units", () => {
  const names = ["\u{1f600}", "\uff21", "b", "B", "a", "ab", "\u00e9"];
  const bytes = (s: string) => Array.from(new TextEncoder().encode(s));
  const byBytes = [...names].sort((x, y) => {
    const [a, b] = [bytes(x), bytes(y)];
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  });
  assert.deepEqual([...names].sort(compareNames), byBytes);
  // The case the fix-up exists for: U+FF21 sorts before U+1F600 in UTF-8, after it in UTF-16.
  assert.ok(compareNames("\uff21", "\u{1f600}") < 0);
});

Deno.test("foldKey() folds case and Unicode form", () => {
  assert.equal(foldKey("README"), foldKey("readme"));
  assert.equal(foldKey("e\u0301"), foldKey("\u00c9"));
  assert.equal(foldKey("stra\u00dfe"), foldKey("STRASSE"));
  assert.equal(foldKey("\u212a"), foldKey("k"));
  assert.notEqual(foldKey("a"), foldKey("b"));
});

/** Adds `[path, isFolder]` entries in turn; returns the error of the one that fails. */
function firstError(entries: Array<[string, boolean]>): unknown {
  const checker = new TreePathChecker();
  for (const [path, isFolder] of entries) {
    try {
      checker.add(path, isFolder);
    } catch (err) {
      return err;
    }
  }
  return undefined;
}

Deno.test("TreePathChecker.add() accepts a tree in canonical order", () => {
  assert.equal(
    firstError([
      ["B", false],
      ["a", true],
      ["a/b", true],
      ["a/b/c.txt", false],
      ["a/b2", true],
      ["a/c", false],
      ["empty", true],
      ["z", false],
    ]),
    undefined,
  );
});

Deno.test("TreePathChecker.add() refuses manifests a hostile sender could make", async (t) => {
  const cases: Array<[string, string, Array<[string, boolean]>]> = [
    ["a duplicate path", "NAME_COLLISION", [["a", false], ["a", false]]],
    ["a case collision", "NAME_COLLISION", [["README", false], ["readme", false]]],
    ["a folder and a file colliding", "NAME_COLLISION", [["Docs", true], ["docs", false]]],
    ["an NFC/NFD collision", "NAME_COLLISION", [["e\u0301", false], ["\u00e9", false]]],
    ["a collision deeper down", "NAME_COLLISION", [
      ["d", true],
      ["d/X", true],
      ["d/X/1", false],
      ["d/x", false],
    ]],
    ["entries out of order", "BAD_MESSAGE", [["b", false], ["a", false]]],
    ["a file without its folder", "BAD_MESSAGE", [["a/b", false]]],
    ["a file inside a file", "BAD_MESSAGE", [["a", false], ["a/b", false]]],
    ["a return into a left folder", "BAD_MESSAGE", [
      ["a", true],
      ["b", true],
      ["a/x", false],
    ]],
    ["a traversal after good entries", "UNSAFE_NAME", [["a", true], ["a/../../x", false]]],
  ];
  for (const [name, code, entries] of cases) {
    await t.step(name, () => {
      const err = firstError(entries);
      assert.ok(isSfsError(err, code as "UNSAFE_NAME"), `got ${err}`);
    });
  }
});

Deno.test("TreePathChecker.add() refuses a folder with more entries than a walk can list", () => {
  // The collision keys of a folder's children are held until the folder is left: without a
  // bound, one folder of a hostile manifest could hold ten million of them in memory.
  const checker = new TreePathChecker({ maxFolderEntries: 3 });
  checker.add("d", true);
  for (const name of ["a", "b", "c"]) checker.add(`d/${name}`, false);
  assert.throws(() => checker.add("d/e", false), (e) => isSfsError(e, "BAD_MESSAGE"));
  // The root counts the same way; a sibling folder starts its own count.
  const root = new TreePathChecker({ maxFolderEntries: 2 });
  root.add("a", true);
  root.add("a/x", false);
  root.add("a/y", false);
  root.add("b", false);
  assert.throws(() => root.add("c", false), (e) => isSfsError(e, "BAD_MESSAGE"));
});
