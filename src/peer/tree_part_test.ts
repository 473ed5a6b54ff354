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
  const part = await TreePart.create(out, "share", { proof: false });
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
  const part = await TreePart.create(dir.path, "share", { force: true, proof: false });
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

Deno.test("TreePart.publish() keeps the manifest as DIR/NAME.sfs-proof, or none without a proof", async (t) => {
  for (const proof of [true, false]) {
    await t.step(proof ? "with a proof" : "--no-proof", async () => {
      using dir = tempDir();
      const part = await TreePart.create(dir.path, "share", { proof });
      {
        using manifest = await part.createManifest();
        await manifest.write(new TextEncoder().encode("signed"));
      }
      await writeFile(part, "a", "a");
      await part.publish();
      const expected = proof ? ["share.sfs-proof", "share/", "share/a"] : ["share/", "share/a"];
      assert.deepEqual(listing(dir.path), expected);
      if (proof) assert.equal(Deno.readTextFileSync(`${dir.path}/share.sfs-proof`), "signed");
    });
  }
});

Deno.test("TreePart refuses an existing proof up front unless forced or none is wanted", async () => {
  using dir = tempDir();
  await Deno.writeTextFile(`${dir.path}/share.sfs-proof`, "someone's evidence");
  await assert.rejects(TreePart.create(dir.path, "share"), (e) => isSfsError(e, "EXISTS"));
  assert.deepEqual(listing(dir.path), ["share.sfs-proof"]);
  const part = await TreePart.create(dir.path, "share", { proof: false });
  await part.discard();
  const forced = await TreePart.create(dir.path, "share", { force: true });
  await forced.discard();
});

Deno.test("TreePart.reopen() continues a part folder of ours and refuses anything else", async (t) => {
  using dir = tempDir();
  const part = await TreePart.create(dir.path, "share");
  (await part.createManifest()).close();
  await part.addFolder("d");
  await writeFile(part, "d/done", "12345");
  await writeFile(part, "d/half", "0123456789");

  await t.step("a part folder of ours", async () => {
    const again = await TreePart.reopen(dir.path, "share");
    assert.ok(again instanceof TreePart);
    assert.equal(await again.checkDone("d/done", 5), undefined);
    assert.notEqual(await again.checkDone("d/done", 6), undefined);
    assert.notEqual(await again.checkDone("d/missing", 0), undefined);
    const file = await again.reopenFile("d/half", 4);
    assert.ok(file instanceof Deno.FsFile);
    file.close();
    assert.equal(Deno.readTextFileSync(`${part.partPath}/tree/d/half`), "0123");
    assert.ok("reason" in (await again.reopenFile("d/half", 5) as object));
  });
  await t.step("a file in progress with a second name", async () => {
    await Deno.link(`${part.partPath}/tree/d/half`, `${dir.path}/elsewhere`);
    const again = await TreePart.reopen(dir.path, "share") as TreePart;
    assert.ok("reason" in (await again.reopenFile("d/half", 0) as object));
    assert.ok(await again.checkDone("d/half", 4) !== undefined);
    await Deno.remove(`${dir.path}/elsewhere`);
  });
  await t.step("a part folder others may write to", async () => {
    await Deno.chmod(part.partPath, 0o777);
    assert.ok("reason" in await TreePart.reopen(dir.path, "share"));
    await Deno.chmod(part.partPath, 0o700);
  });
  await t.step("a link in place of the part folder", async () => {
    await Deno.rename(part.partPath, `${dir.path}/real`);
    await Deno.symlink(`${dir.path}/real`, part.partPath);
    assert.ok("reason" in await TreePart.reopen(dir.path, "share"));
    await TreePart.discardStale(dir.path, "share");
    // Only the link went, never what it pointed to.
    assert.ok((await Deno.lstat(`${dir.path}/real/tree/d/done`)).isFile);
  });
});

Deno.test("TreePart.publish() leaves no proof behind when the tree cannot be renamed into place", async () => {
  using dir = tempDir();
  const part = await TreePart.create(dir.path, "share");
  {
    using manifest = await part.createManifest();
    await manifest.write(new TextEncoder().encode("signed"));
  }
  await writeFile(part, "a", "a");
  // The rename of `tree/` fails (here: it is gone); the proof was already linked by then.
  await Deno.remove(`${part.partPath}/tree`, { recursive: true });
  await assert.rejects(part.publish());
  await part.discard();
  // A proof without its tree would make the next get refuse the name (EXISTS) for nothing.
  assert.deepEqual(listing(dir.path), []);
});

Deno.test("TreePart.publish() never replaces what appears under DIR/NAME after its check", async (t) => {
  const races: Array<[string, (final: string) => Promise<void>]> = [
    ["an empty folder of someone else", async (final) => {
      await Deno.remove(final);
      await Deno.mkdir(final);
    }],
    ["a file put into the name it made", async (final) => {
      await Deno.writeTextFile(`${final}/theirs`, "theirs");
    }],
    ["a link in its place", async (final) => {
      await Deno.remove(final);
      await Deno.symlink("/tmp", final);
    }],
  ];
  for (const [name, race] of races) {
    await t.step(name, async () => {
      using dir = tempDir();
      const final = `${dir.path}/share`;
      const part = await TreePart.create(dir.path, "share", {
        onPublish: async () => {
          // Before the fix the name was free here: make the folder the race needs.
          if (!await Deno.lstat(final).catch(() => undefined)) await Deno.mkdir(final);
          await race(final);
        },
      });
      {
        using manifest = await part.createManifest();
        await manifest.write(new TextEncoder().encode("signed"));
      }
      await writeFile(part, "a", "a");
      await assert.rejects(part.publish(), (e) => isSfsError(e, "EXISTS"));
      // What they made is still there, and the tree is not under their name.
      const left = listing(dir.path).filter((path) => !path.startsWith(".share.sfs-part/"));
      assert.ok(!left.includes("share/a"), JSON.stringify(left));
      assert.ok(!left.includes("share.sfs-proof"), JSON.stringify(left));
      assert.ok((await Deno.lstat(final)).isDirectory || (await Deno.lstat(final)).isSymlink);
      await part.discard();
    });
  }
});
