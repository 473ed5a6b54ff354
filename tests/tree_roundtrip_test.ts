/**
 * Folders end to end with the real CLI on both sides (issue 11): `sfs send DIR` and `sfs get`
 * through a ticket, through an index name and through the relay; symlinks neither followed nor
 * recreated; 10,000 small files; resume in the middle of a tree; `sfs verify` on the result.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runSfs, type SfsEvent, sha256File, startSfs, tempDir } from "./harness.ts";
import { testHome } from "./identities.ts";
import { doneOf, errorOf, get, listTree, startProxy, withPort } from "./peers.ts";
import { registeredHome, sfs, startServer } from "./index_fixture.ts";

const TEXT = new TextEncoder();

/** A tree with nested and empty folders, an empty file, unicode and space names, an executable. */
async function makeTree(root: string): Promise<void> {
  await Deno.mkdir(join(root, "docs", "deep", "deeper"), { recursive: true });
  await Deno.mkdir(join(root, "empty folder"));
  const big = new Uint8Array(700 * 1024).map((_, i) => (i * 13 + (i >> 11)) & 0xff);
  const files: Array<[string, Uint8Array]> = [
    ["a b.txt", TEXT.encode("with a space")],
    ["docs/r\u00e9sum\u00e9 \u2713.txt", TEXT.encode("unicode name")],
    ["docs/deep/big.bin", big],
    ["docs/deep/deeper/\u65e5\u672c.md", TEXT.encode("# \u65e5\u672c")],
    ["empty.txt", new Uint8Array()],
    ["run.sh", TEXT.encode("#!/bin/sh\necho hi\n")],
  ];
  for (const [path, content] of files) await Deno.writeFile(join(root, path), content);
  await Deno.chmod(join(root, "run.sh"), 0o755);
}

/** Every entry under `root` with its kind, content hash and executable bit. */
async function snapshot(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const path of await listTree(root)) {
    const full = join(root, path);
    const info = await Deno.lstat(full);
    if (info.isSymlink) out.push(`${path} -> link`);
    else if (info.isDirectory) out.push(`${path}/`);
    else out.push(`${path} ${await sha256File(full)} ${(info.mode! & 0o111) !== 0 ? "x" : "-"}`);
  }
  return out;
}

/** Starts `sfs send ARGS… --listen 127.0.0.1:0 --json` as `home`; returns it with its ready event. */
async function send(home: string, args: string[], env: Record<string, string> = {}) {
  const proc = startSfs(["send", ...args, "--listen", "127.0.0.1:0", "--json"], { home, env });
  const ready = await proc.nextEvent((e) => e.event === "ready", 60_000);
  return { proc, ready };
}

Deno.test("sfs send DIR and sfs get rebuild the tree; symlinks are neither followed nor recreated", async (t) => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testHome(dir.path, "bob");
  const source = join(dir.path, "project");
  await makeTree(source);
  const expected = await snapshot(source);
  // One link to a file outside the tree, one to a folder inside it.
  const secret = join(dir.path, "secret.txt");
  await Deno.writeTextFile(secret, "not to be shared");
  await Deno.symlink(secret, join(source, "outside-link"));
  await Deno.symlink("docs", join(source, "inside-link"));

  const { proc, ready } = await send(alice, [source]);
  await using _sender = proc;
  const skipped = proc.events.find((e) => e.event === "skipped") as SfsEvent | undefined;
  const out = join(dir.path, "out");
  const result = await get(bob, String(ready.ticket), out);
  const done = doneOf(result);

  await t.step("the done event describes the tree and its proof", () => {
    assert.equal(done.kind, "tree");
    assert.equal(done.path, join(out, "project"));
    assert.equal(done.files, 6);
    assert.equal(done.proof, join(out, "project.sfs-proof"));
    assert.equal(typeof done.manifest_hash, "string");
    // The sender says once what it skipped: the two links.
    assert.equal(skipped?.symlink, 2, JSON.stringify(skipped));
  });
  await t.step("the same tree, without the links or anything they point to", async () => {
    assert.deepEqual(await snapshot(join(out, "project")), expected);
    // No entry for either link, so nothing they point to either (the snapshot was taken first).
    assert.deepEqual((await listTree(out)).filter((p) => !p.startsWith("project")), []);
  });
  await t.step("the sender records the signed receipt", async () => {
    const sent = await proc.nextEvent((e) => e.event === "sent", 10_000);
    assert.equal(typeof sent.receipt, "string");
  });
  await t.step("sfs verify: intact, then modified", async () => {
    const tree = join(out, "project");
    const intact = await runSfs(["verify", tree, "--json"], { home: bob });
    assert.equal(intact.code, 0, intact.stderr);
    await Deno.writeTextFile(join(tree, "docs", "deep", "big.bin"), "replaced");
    await Deno.symlink("/etc/passwd", join(tree, "planted"));
    const modified = await runSfs(["verify", tree, "--json"], { home: bob });
    assert.equal(modified.code, 3, modified.stderr);
    assert.equal(errorOf(modified).code, "HASH_MISMATCH");
    assert.equal(modified.events.find((e) => e.event === "verified")!.differences, 2);
  });
});

Deno.test("sfs get receives 10,000 small files as one share", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testHome(dir.path, "bob");
  const source = join(dir.path, "many");
  // Every tenth file empty, the others a few bytes naming themselves.
  const contentOf = (f: number, i: number) => i % 10 === 0 ? "" : `${f}/${i}`;
  // The ten folders are written, and later read back, side by side: the files are independent.
  const folders = Array.from({ length: 10 }, (_, f) => f);
  await Promise.all(folders.map(async (f) => {
    const folder = join(source, `folder-${f}`);
    await Deno.mkdir(folder, { recursive: true });
    for (let i = 0; i < 1000; i++) await Deno.writeTextFile(join(folder, `f${i}`), contentOf(f, i));
  }));
  const { proc, ready } = await send(alice, [source]);
  await using _sender = proc;
  const out = join(dir.path, "out");
  const done = doneOf(await get(bob, String(ready.ticket), out));
  assert.equal(done.files, 10_000);
  // sfs verify re-hashes the tree against the proof while this process reads it back itself.
  const verifying = runSfs(["verify", join(out, "many")], { home: bob });
  const counts = await Promise.all(folders.map(async (f) => {
    let count = 0;
    for await (const entry of Deno.readDir(join(out, "many", `folder-${f}`))) {
      const i = Number(entry.name.slice(1));
      const text = await Deno.readTextFile(join(out, "many", `folder-${f}`, entry.name));
      assert.equal(text, contentOf(f, i));
      count++;
    }
    return count;
  }));
  assert.equal(counts.reduce((a, b) => a + b), 10_000);
  const verified = await verifying;
  assert.equal(verified.code, 0, verified.stderr);
});

Deno.test("sfs get resumes a real tree in its middle after the connection is cut", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testHome(dir.path, "bob");
  const source = join(dir.path, "photos");
  await Deno.mkdir(source);
  const content = (i: number) => new Uint8Array(40 * 1024).fill(i);
  for (let i = 0; i < 60; i++) {
    await Deno.writeFile(join(source, `img-${String(i).padStart(2, "0")}.raw`), content(i));
  }
  const { proc, ready } = await send(alice, [source]);
  await using _sender = proc;
  // The first attempt goes through a proxy that cuts the stream about half way (2.4 MB).
  await using proxy = startProxy(Number(ready.port), { cutAfterBytes: 1_200_000 });
  const out = join(dir.path, "out");
  const first = await get(bob, withPort(String(ready.ticket), proxy.port), out);
  assert.notEqual(first.code, 0, first.stderr);
  assert.ok(
    ["CONNECTION_CLOSED", "TRUNCATED"].includes(errorOf(first).code),
    errorOf(first).code,
  );
  assert.deepEqual(await listTree(out).then((l) => l.filter((p) => !p.startsWith("."))), []);

  const second = await get(bob, String(ready.ticket), out);
  const done = doneOf(second);
  assert.ok(Number(done.resumed_from) >= 20 * 40 * 1024, JSON.stringify(done));
  assert.equal(done.files, 60);
  for (let i = 0; i < 60; i++) {
    const name = `img-${String(i).padStart(2, "0")}.raw`;
    assert.deepEqual(await Deno.readFile(join(out, "photos", name)), content(i), name);
  }
  assert.deepEqual(await listTree(out).then((l) => l.filter((p) => !p.startsWith("photos"))), []);
  const verified = await runSfs(["verify", join(out, "photos")], { home: bob });
  assert.equal(verified.code, 0, verified.stderr);
});

Deno.test("sfs get NAME fetches a folder through the index, directly and through the relay", async (t) => {
  await using dir = await tempDir();
  await using server = await startServer(dir.path);
  const alice = await registeredHome(dir.path, server, "alice");
  const bob = await registeredHome(dir.path, server, "bob");
  const source = join(dir.path, "bundle");
  await makeTree(source);
  const expected = await snapshot(source);
  const { proc } = await send(alice, [source], { SFS_PASSWORD: "correct horse battery staple" });
  await using _sender = proc;
  for (const route of ["--direct", "--relay"]) {
    await t.step(route, async () => {
      const out = join(dir.path, `out${route}`);
      const result = await sfs(bob, ["get", "bundle", "--out", out, route, "--yes", "--json"]);
      const done = doneOf(result);
      assert.equal(done.kind, "tree");
      assert.equal(done.route, route.slice(2));
      assert.deepEqual(await snapshot(join(out, "bundle")), expected);
      // Bob pinned alice's key when he fetched by name: verify names her without --owner.
      const verified = await runSfs(["verify", join(out, "bundle"), "--json"], { home: bob });
      assert.equal(verified.code, 0, verified.stderr);
      const event = verified.events.find((e) => e.event === "verified")!;
      assert.deepEqual(event.pinnedAs, [{ server: server.address, user: "alice" }]);
    });
  }
});
