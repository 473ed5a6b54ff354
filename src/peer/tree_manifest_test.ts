import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { testIdentity } from "../../tests/identities.ts";
import { isSfsError } from "../errors.ts";
import { HashCache } from "./hash_cache.ts";
import { verifyManifest } from "./manifest.ts";
import { ManifestReader } from "./manifest_reader.ts";
import { buildManifest } from "./tree_manifest.ts";

/** A temporary folder, removed when the test's `using` scope ends. */
function tempDir(): { path: string } & Disposable {
  const path = Deno.makeTempDirSync({ prefix: "sfs-tree-manifest-" });
  return { path, [Symbol.dispose]: () => Deno.removeSync(path, { recursive: true }) };
}

const sha256 = (text: string) => new Uint8Array(createHash("sha256").update(text).digest());
/** A clock well after the test's files were written, so the hash cache accepts them. */
const LATER = () => Date.now() + 60_000;

Deno.test("buildManifest() signs a folder whose pages read back to the same hash", async () => {
  using dir = tempDir();
  const root = `${dir.path}/share`;
  await Deno.mkdir(`${root}/sub/empty`, { recursive: true });
  for (let i = 0; i < 30; i++) await Deno.writeTextFile(`${root}/sub/f${i}.txt`, `file ${i}`);
  await Deno.writeTextFile(`${root}/run.sh`, "#!/bin/sh\n", { mode: 0o755 });
  await Deno.symlink(`${root}/run.sh`, `${root}/link`);
  const identity = await testIdentity("alice");
  await using built = await buildManifest(root, identity, { spoolDir: dir.path });
  assert.equal(built.header.name, "share");
  assert.equal(built.header.entryCount, 33);
  assert.equal(built.skipped.symlink, 1);
  const reader = new ManifestReader(built.headerBytes);
  const entries = [];
  let pages = 0;
  for await (const page of built.pages({ maxPageBytes: 512 })) {
    entries.push(...reader.readPage(page));
    pages++;
  }
  assert.ok(pages > 3, `${pages} pages`);
  assert.deepEqual(reader.finish(), built.manifestHash);
  await verifyManifest(identity.public, built.header, built.manifestHash, built.signatures);
  const run = entries.find((e) => e.path === "run.sh");
  assert.deepEqual([run?.executable, run?.sha256], [true, sha256("#!/bin/sh\n")]);
  assert.deepEqual(entries.find((e) => e.path === "sub/f7.txt")?.sha256, sha256("file 7"));
});

Deno.test("buildManifest() takes hashes from the cache the second time", async () => {
  using dir = tempDir();
  const root = `${dir.path}/share`;
  await Deno.mkdir(root);
  for (let i = 0; i < 5; i++) await Deno.writeTextFile(`${root}/f${i}`, `content ${i}`);
  const identity = await testIdentity("alice");
  const cache = await HashCache.load(`${dir.path}/hash-cache.bin`);
  const options = { spoolDir: dir.path, cache, now: LATER };
  let cached = -1;
  const onProgress = (p: { cachedFiles: number }) => cached = p.cachedFiles;
  await using cold = await buildManifest(root, identity, { ...options, onProgress });
  assert.equal(cached, 0);
  await using warm = await buildManifest(root, identity, { ...options, onProgress });
  assert.equal(cached, 5);
  // The same tree at another time: the entries, cached hashes included, are byte for byte equal.
  const pagesOf = async (built: typeof cold) => {
    const pages: Uint8Array[] = [];
    for await (const page of built.pages()) pages.push(page);
    return pages;
  };
  assert.deepEqual(await pagesOf(warm), await pagesOf(cold));
});

Deno.test("buildManifest() makes a one-entry manifest for a single file", async () => {
  using dir = tempDir();
  const file = `${dir.path}/report.pdf`;
  await Deno.writeTextFile(file, "the report");
  const identity = await testIdentity("alice");
  await using built = await buildManifest(file, identity, { spoolDir: dir.path });
  const reader = new ManifestReader(built.headerBytes);
  const entries = [];
  for await (const page of built.pages()) entries.push(...reader.readPage(page));
  assert.deepEqual(reader.finish(), built.manifestHash);
  assert.equal(built.header.root, "file");
  assert.deepEqual(entries.map((e) => [e.path, e.size]), [["report.pdf", 10]]);
});

Deno.test("buildManifest() removes its spool when disposed or when it fails", async () => {
  using dir = tempDir();
  const spoolDir = `${dir.path}/spool`;
  await Deno.mkdir(spoolDir);
  await Deno.writeTextFile(`${dir.path}/CON`, "a device name on Windows");
  const identity = await testIdentity("alice");
  await assert.rejects(
    buildManifest(`${dir.path}/CON`, identity, { spoolDir }),
    (err) => isSfsError(err, "USAGE"),
  );
  {
    await using _built = await buildManifest(`${dir.path}/CON`, identity, {
      spoolDir,
      name: "con-file",
    });
  }
  assert.deepEqual([...Deno.readDirSync(spoolDir)], []);
});

Deno.test("buildManifest() hashes small files without a megabyte buffer each", async () => {
  // Issue 11: a fresh 1 MiB read buffer per small file is native (external) memory that only a
  // later GC frees, and it grew the sender's peak RSS with the number of files. Eight small files
  // in flight held at least 8 MiB of it; sized to the files, the walk adds well under 4 MiB.
  using dir = tempDir();
  const root = `${dir.path}/share`;
  await Deno.mkdir(root);
  for (let i = 0; i < 200; i++) await Deno.writeTextFile(`${root}/f${i}.txt`, `small file ${i}`);
  const identity = await testIdentity("alice");
  const before = Deno.memoryUsage().external;
  let most = before;
  await using built = await buildManifest(root, identity, {
    spoolDir: dir.path,
    onProgress: () => most = Math.max(most, Deno.memoryUsage().external),
  });
  assert.equal(built.header.entryCount, 200);
  const grew = most - before;
  assert.ok(grew < 4 * 1024 * 1024, `external memory grew by ${grew} bytes`);
});

Deno.test("buildManifest() writes its spool as it goes, holding no entries", async () => {
  // Issue 11: entries waited in memory, each its own small array, until 1 MiB of them had
  // collected, so a 10,000-file tree held all of its entries to the end of the walk. 800 folders
  // of long names are over 100 KB of entries: part of them must be on disk before the last.
  using dir = tempDir();
  const root = `${dir.path}/share`;
  const spoolDir = `${dir.path}/spool`;
  await Deno.mkdir(spoolDir);
  for (let i = 0; i < 800; i++) {
    await Deno.mkdir(`${root}/${"x".repeat(100)}${i}`, { recursive: true });
  }
  const spooled = () => {
    let bytes = 0;
    for (const e of Deno.readDirSync(spoolDir)) {
      bytes += Deno.statSync(`${spoolDir}/${e.name}`).size;
    }
    return bytes;
  };
  let onDisk = 0;
  const identity = await testIdentity("alice");
  await using built = await buildManifest(root, identity, {
    spoolDir,
    onProgress: (progress) => {
      if (progress.entries === 799) onDisk = spooled();
    },
  });
  assert.equal(built.header.entryCount, 800);
  assert.ok(onDisk > 0, "nothing spooled before the last entry");
});

Deno.test("buildManifest() stops at a manifest larger than a receiver takes (TREE_LIMIT)", async () => {
  using dir = tempDir();
  const root = `${dir.path}/share`;
  await Deno.mkdir(root);
  for (let i = 0; i < 20; i++) await Deno.writeTextFile(`${root}/f${i}.txt`, `file ${i}`);
  const identity = await testIdentity("alice");
  // 20 entries of 57–58 bytes each.
  await assert.rejects(
    buildManifest(root, identity, { spoolDir: dir.path, maxManifestBytes: 1000 }),
    (e) => isSfsError(e, "TREE_LIMIT"),
  );
  // The spool went with the refusal; just under the limit, the same folder is fine.
  assert.deepEqual([...Deno.readDirSync(dir.path)].map((e) => e.name), ["share"]);
  await using built = await buildManifest(root, identity, {
    spoolDir: dir.path,
    maxManifestBytes: 2000,
  });
  assert.equal(built.header.entryCount, 20);
});
