import assert from "node:assert/strict";
import { isSfsError } from "../errors.ts";
import { isExcluded, parseExclude } from "./exclude_glob.ts";
import { TreePathChecker } from "./tree_paths.ts";
import { type TreeEntry, type WalkOptions, walkTree } from "./tree_walk.ts";

/** A temporary folder, removed when the test's `using` scope ends. */
function tempTree(): { path: string } & Disposable {
  const path = Deno.makeTempDirSync({ prefix: "sfs-walk-" });
  return { path, [Symbol.dispose]: () => Deno.removeSync(path, { recursive: true }) };
}

function write(root: string, relative: string, text = "x"): void {
  const path = `${root}/${relative}`;
  Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  Deno.writeTextFileSync(path, text);
}

async function collect(root: string, options?: WalkOptions): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [];
  for await (const entry of walkTree(root, options)) entries.push(entry);
  return entries;
}

const listing = (entries: TreeEntry[]) =>
  entries.map((e) => `${e.kind === "folder" ? "d" : "f"} ${e.path}`);

Deno.test("walkTree() yields files and folders, empty ones too, in canonical order", async () => {
  using tree = tempTree();
  write(tree.path, "b.txt");
  write(tree.path, "B/inner/deep.txt");
  write(tree.path, "a/x.txt");
  write(tree.path, "a b/space.txt");
  write(tree.path, "\u00e9t\u00e9/\u{1f600}.txt");
  write(tree.path, "\u00e9t\u00e9/\uff21.txt");
  write(tree.path, "empty-file", "");
  Deno.mkdirSync(`${tree.path}/empty-folder`);
  const entries = await collect(tree.path);
  assert.deepEqual(listing(entries), [
    "d B",
    "d B/inner",
    "f B/inner/deep.txt",
    "d a",
    "f a/x.txt",
    "d a b",
    "f a b/space.txt",
    "f b.txt",
    "f empty-file",
    "d empty-folder",
    "d \u00e9t\u00e9",
    "f \u00e9t\u00e9/\uff21.txt",
    "f \u00e9t\u00e9/\u{1f600}.txt",
  ]);
  // What the sender walks is what the receiver's checker accepts.
  const checker = new TreePathChecker();
  for (const e of entries) checker.add(e.path, e.kind === "folder");
  assert.equal(entries.find((e) => e.path === "empty-file")?.info.size, 0);
});

Deno.test("walkTree() never follows symlinks and counts what it skips by kind", async () => {
  using tree = tempTree();
  using outside = tempTree();
  write(outside.path, "secret.txt");
  write(tree.path, "dir/real.txt");
  Deno.symlinkSync(`${outside.path}/secret.txt`, `${tree.path}/to-outside-file`);
  Deno.symlinkSync(`${tree.path}/dir`, `${tree.path}/to-inside-folder`);
  Deno.symlinkSync(`${tree.path}/missing`, `${tree.path}/dangling`);
  const mkfifo = new Deno.Command("mkfifo", { args: [`${tree.path}/pipe`] });
  const fifo = (await mkfifo.output()).success;
  write(tree.path, "bad:name.txt");
  write(tree.path, "CON");
  const walk = walkTree(tree.path);
  const entries: TreeEntry[] = [];
  for await (const entry of walk) entries.push(entry);
  assert.deepEqual(listing(entries), ["d dir", "f dir/real.txt"]);
  assert.deepEqual(walk.skipped, {
    symlink: 3,
    device: 0,
    socket: 0,
    fifo: fifo ? 1 : 0,
    unsafeName: 2,
    other: 0,
    excluded: 0,
  });
});

Deno.test("walkTree() leaves out --exclude matches and does not enter excluded folders", async () => {
  using tree = tempTree();
  write(tree.path, "keep.txt");
  write(tree.path, "drop.tmp");
  write(tree.path, "src/drop.tmp");
  write(tree.path, "node_modules/pkg/index.js");
  write(tree.path, "build/out/a.bin");
  write(tree.path, "build/keep.txt");
  write(tree.path, "docs/a/b/c.pdf");
  write(tree.path, "docs/top.pdf");
  const walk = walkTree(tree.path, {
    exclude: ["*.tmp", "node_modules", "/build/out", "docs/**/*.pdf"],
  });
  const entries: TreeEntry[] = [];
  for await (const entry of walk) entries.push(entry);
  assert.deepEqual(listing(entries), [
    "d build",
    "f build/keep.txt",
    "d docs",
    "d docs/a",
    "d docs/a/b",
    "f keep.txt",
    "d src",
  ]);
  assert.equal(walk.skipped.excluded, 6);
});

Deno.test("parseExclude() patterns match like gitignore's", () => {
  const cases: Array<[string, string, boolean, boolean]> = [
    ["*.log", "a/b/x.log", false, true],
    ["*.log", "x.log.txt", false, false],
    ["a?c", "abc", false, true],
    ["a?c", "a/c", false, false],
    ["a/*", "a/b", false, true],
    ["a/*", "a/b/c", false, false],
    ["a/**", "a/b/c", false, true],
    ["a/**/c", "a/c", false, true],
    ["a/**/c", "a/x/y/c", false, true],
    ["cache/", "cache", true, true],
    ["cache/", "cache", false, false],
    ["x.y", "xzy", false, false],
    ["(a)+", "(a)+", false, true],
  ];
  for (const [pattern, path, isFolder, want] of cases) {
    assert.equal(isExcluded([parseExclude(pattern)], path, isFolder), want, `${pattern} ${path}`);
  }
  assert.throws(() => parseExclude(""), (err) => isSfsError(err, "USAGE"));
  assert.throws(() => parseExclude("a//b"), (err) => isSfsError(err, "USAGE"));
});

Deno.test("walkTree() refuses names of one folder that differ only in case", async () => {
  using tree = tempTree();
  write(tree.path, "dir/README");
  write(tree.path, "dir/readme");
  await assert.rejects(collect(tree.path), (err) => isSfsError(err, "NAME_COLLISION"));
  // Excluding one of them is the way out.
  assert.equal((await collect(tree.path, { exclude: ["dir/readme"] })).length, 2);
});

Deno.test("walkTree() stops at its depth and path bounds with TREE_LIMIT", async () => {
  using tree = tempTree();
  write(tree.path, "a/b/c/d.txt");
  await assert.rejects(collect(tree.path, { maxDepth: 3 }), (e) => isSfsError(e, "TREE_LIMIT"));
  assert.equal((await collect(tree.path, { maxDepth: 4 })).length, 4);
  await assert.rejects(
    collect(tree.path, { maxPathBytes: 8 }),
    (e) => isSfsError(e, "TREE_LIMIT"),
  );
  await assert.rejects(
    collect(tree.path, { maxFolderEntries: 0 }),
    (e) => isSfsError(e, "TREE_LIMIT"),
  );
});

Deno.test("walkTree() refuses a root that is not a folder", async () => {
  using tree = tempTree();
  write(tree.path, "file.txt");
  await assert.rejects(
    collect(`${tree.path}/file.txt`),
    (err) => isSfsError(err, "NOT_A_FOLDER"),
  );
});
