import assert from "node:assert/strict";
import { isSfsError } from "../errors.ts";
import { TreePart } from "./tree_part.ts";

/** A temporary folder, removed when the test's `using` scope ends. */
function tempDir(): { path: string } & Disposable {
  const path = Deno.makeTempDirSync({ prefix: "sfs-tree-part-" });
  return { path, [Symbol.dispose]: () => Deno.removeSync(path, { recursive: true }) };
}

/** Every path under `root`, relative, sorted: what a test expects to exist and nothing more. */
function listing(root: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(root)) {
    const path = prefix + entry.name;
    out.push(entry.isDirectory ? `${path}/` : path);
    if (entry.isDirectory) out.push(...listing(`${root}/${entry.name}`, `${path}/`));
  }
  return out.sort();
}

async function writeFile(part: TreePart, path: string, text: string, executable = false) {
  using file = await part.createFile(path, executable);
  await file.write(new TextEncoder().encode(text));
}

Deno.test("TreePart builds a tree in the part folder and publishes it as DIR/NAME", async () => {
  using dir = tempDir();
  const out = `${dir.path}/out`;
  const part = await TreePart.create(out, "share");
  await part.addFolder("docs");
  await part.addFolder("docs/empty");
  await writeFile(part, "docs/a.txt", "a");
  await writeFile(part, "run.sh", "#!/bin/sh\n", true);
  assert.deepEqual(listing(out), [
    ".share.sfs-part/",
    ".share.sfs-part/tree/",
    ".share.sfs-part/tree/docs/",
    ".share.sfs-part/tree/docs/a.txt",
    ".share.sfs-part/tree/docs/empty/",
    ".share.sfs-part/tree/run.sh",
  ]);
  assert.equal((await Deno.stat(part.partPath)).mode! & 0o777, 0o700);
  assert.equal(await part.publish(), `${out}/share`);
  assert.deepEqual(listing(out), [
    "share/",
    "share/docs/",
    "share/docs/a.txt",
    "share/docs/empty/",
    "share/run.sh",
  ]);
  assert.equal((await Deno.stat(`${out}/share/run.sh`)).mode! & 0o100, 0o100);
  assert.equal((await Deno.stat(`${out}/share/docs/a.txt`)).mode! & 0o111, 0);
});

Deno.test("TreePart writes nothing outside DIR/NAME for a hostile path", async (t) => {
  using dir = tempDir();
  const out = `${dir.path}/out`;
  const part = await TreePart.create(out, "share");
  await part.addFolder("a");
  for (const path of ["../x", "/etc/x", "a/../../x", "a/../../../x", "CON", "a\\..\\..\\x"]) {
    await t.step(path, async () => {
      await assert.rejects(part.createFile(path, false), (e) => isSfsError(e, "UNSAFE_NAME"));
      await assert.rejects(part.addFolder(path), (e) => isSfsError(e, "UNSAFE_NAME"));
    });
  }
  assert.deepEqual(listing(dir.path), [
    "out/",
    "out/.share.sfs-part/",
    "out/.share.sfs-part/tree/",
    "out/.share.sfs-part/tree/a/",
  ]);
  await part.discard();
  assert.deepEqual(listing(out), []);
});

Deno.test("TreePart refuses an unsafe share name, an existing tree and a leftover part folder", async () => {
  using dir = tempDir();
  await assert.rejects(TreePart.create(dir.path, ".."), (e) => isSfsError(e, "UNSAFE_NAME"));
  await assert.rejects(TreePart.create(dir.path, "nul.txt"), (e) => isSfsError(e, "UNSAFE_NAME"));
  await Deno.mkdir(`${dir.path}/share`);
  await assert.rejects(TreePart.create(dir.path, "share"), (e) => isSfsError(e, "EXISTS"));
  // A leftover part folder, or anything planted under its name, is not written into.
  await Deno.symlink("/tmp", `${dir.path}/.other.sfs-part`);
  await assert.rejects(TreePart.create(dir.path, "other"), (e) => isSfsError(e, "EXISTS"));
});

Deno.test("TreePart with force replaces an existing tree only when it publishes", async () => {
  using dir = tempDir();
  await Deno.mkdir(`${dir.path}/share/old`, { recursive: true });
  await Deno.writeTextFile(`${dir.path}/share/old/file`, "old");
  const part = await TreePart.create(dir.path, "share", { force: true });
  await writeFile(part, "new", "new");
  assert.deepEqual(listing(`${dir.path}/share`), ["old/", "old/file"]);
  await part.publish();
  assert.deepEqual(listing(dir.path), ["share/", "share/new"]);
});

Deno.test("TreePart.createFile() never replaces a file that exists", async () => {
  using dir = tempDir();
  const part = await TreePart.create(dir.path, "share");
  await writeFile(part, "a", "first");
  await assert.rejects(part.createFile("a", false), Deno.errors.AlreadyExists);
  await part.discard();
});
