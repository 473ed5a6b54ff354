/**
 * The receiving side of a tree against the in-process sender of tests/tree_peer.ts: what `sfs get`
 * builds (content, folders, modes, times), the proof it keeps and `sfs verify` on it, `--force`,
 * `--no-proof`, `--verbose` events, and resume per file.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runSfs, sha256File, startSfs, tempDir } from "./harness.ts";
import { testHome, testIdentity } from "./identities.ts";
import { doneOf, errorOf, get, listTree, startProxy } from "./peers.ts";
import { fetchFile } from "../src/peer/receiver.ts";
import { isSfsError } from "../src/errors.ts";
import { parseTicket } from "../src/peer/ticket.ts";
import { startTreePeer, type TreeItem } from "./tree_peer.ts";
import { toHex } from "../src/crypto/bytes.ts";
import { formatFingerprint } from "../src/crypto/identity.ts";
import { MessageType } from "../src/wire/messages.ts";

const TEXT = new TextEncoder();
const MTIME = 1_650_000_000_000;

/** A small tree with every kind of entry a manifest has. */
function sampleTree(): TreeItem[] {
  const big = new Uint8Array(600 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 251;
  return [
    { path: "a b", folder: true, mtime: MTIME },
    { path: "a b/big.bin", content: big, mtime: MTIME + 1000 },
    { path: "a b/empty-folder", folder: true, mtime: MTIME + 2000 },
    { path: "a b/empty.txt", content: new Uint8Array(0), mtime: MTIME + 3000 },
    { path: "run.sh", content: TEXT.encode("#!/bin/sh\necho hi\n"), executable: true },
    { path: "ünï cödé ✓.txt", content: TEXT.encode("unicode"), mtime: MTIME + 4000 },
  ];
}

Deno.test("sfs get builds the tree, keeps its proof, and sfs verify checks it", async (t) => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  const alice = await testIdentity("alice");
  const items = sampleTree();
  await using peer = await startTreePeer(alice, "share", items);
  const out = join(dir.path, "out");
  const result = await get(bob, peer.ticket, out, ["--verbose"]);
  const done = doneOf(result);

  await t.step("the done event and the file events", () => {
    assert.equal(done.kind, "tree");
    assert.equal(done.path, join(out, "share"));
    assert.equal(done.files, 4);
    assert.equal(done.bytes, 600 * 1024 + 18 + 7);
    assert.equal(done.manifest_hash, toHex(peer.manifestHash));
    assert.equal(done.proof, join(out, "share.sfs-proof"));
    const files = result.events.filter((e) => e.event === "file").map((e) => e.path);
    assert.deepEqual(files, ["a b/big.bin", "a b/empty.txt", "run.sh", "ünï cödé ✓.txt"]);
    assert.equal(peer.receipts, 1, "the receiver signed its receipt");
  });
  await t.step("the tree on disk", async () => {
    assert.deepEqual(await listTree(out), [
      "share",
      "share.sfs-proof",
      join("share", "a b"),
      join("share", "a b", "big.bin"),
      join("share", "a b", "empty-folder"),
      join("share", "a b", "empty.txt"),
      join("share", "run.sh"),
      join("share", "ünï cödé ✓.txt"),
    ]);
    for (const item of items) {
      const path = join(out, "share", item.path);
      const info = await Deno.lstat(path);
      assert.equal(info.mtime?.getTime(), item.mtime ?? 1_600_000_000_000, item.path);
      if ("folder" in item) {
        assert.ok(info.isDirectory);
        continue;
      }
      assert.equal(
        await sha256File(path),
        toHex(
          new Uint8Array(
            await crypto.subtle.digest("SHA-256", item.content as Uint8Array<ArrayBuffer>),
          ),
        ),
      );
      assert.equal((info.mode! & 0o100) !== 0, item.executable ?? false, item.path);
    }
  });
  await t.step("sfs verify on the intact tree", async () => {
    const fingerprint = formatFingerprint(alice.public.fingerprint);
    const verified = await runSfs(
      ["verify", join(out, "share"), "--owner", fingerprint, "--json"],
      { home: bob },
    );
    assert.equal(verified.code, 0, verified.stderr);
    const event = verified.events.find((e) => e.event === "verified")!;
    assert.equal(event.differences, 0);
    assert.equal(event.manifestHash, toHex(peer.manifestHash));
  });
  await t.step("sfs verify on a modified tree", async () => {
    await Deno.writeTextFile(join(out, "share", "run.sh"), "#!/bin/sh\nrm -rf ~\n");
    await Deno.writeTextFile(join(out, "share", "added.txt"), "extra");
    await Deno.remove(join(out, "share", "a b", "empty.txt"));
    const verified = await runSfs(["verify", join(out, "share"), "--json"], { home: bob });
    assert.equal(verified.code, 3, verified.stderr);
    assert.equal(errorOf(verified).code, "HASH_MISMATCH");
    assert.equal(verified.events.find((e) => e.event === "verified")!.differences, 3);
  });
});

Deno.test("sfs get refuses an existing tree or proof up front, and --force replaces them", async () => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  const alice = await testIdentity("alice");
  await using peer = await startTreePeer(alice, "share", sampleTree());
  const out = join(dir.path, "out");
  await Deno.mkdir(join(out, "share"), { recursive: true });
  await Deno.writeTextFile(join(out, "share", "old.txt"), "old");

  const refused = await get(bob, peer.ticket, out);
  assert.equal(errorOf(refused).code, "EXISTS");
  assert.deepEqual(await listTree(out), ["share", join("share", "old.txt")]);
  assert.equal(peer.requests.length, 1);

  await Deno.remove(join(out, "share"), { recursive: true });
  await Deno.writeTextFile(join(out, "share.sfs-proof"), "someone's evidence");
  assert.equal(errorOf(await get(bob, peer.ticket, out)).code, "EXISTS");
  // Without a proof the old one is not in the way, and stays.
  doneOf(await get(bob, peer.ticket, out, ["--no-proof"]));
  assert.equal(await Deno.readTextFile(join(out, "share.sfs-proof")), "someone's evidence");

  await Deno.writeTextFile(join(out, "share", "stray.txt"), "stray");
  const forced = doneOf(await get(bob, peer.ticket, out, ["--force"]));
  assert.equal(forced.proof, join(out, "share.sfs-proof"));
  assert.ok(!(await listTree(out)).includes(join("share", "stray.txt")));
  const verified = await runSfs(["verify", join(out, "share")], { home: bob });
  assert.equal(verified.code, 0, verified.stderr);
});

Deno.test("sfs get resumes a tree per file: kept files are not asked for again", async () => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  const alice = await testIdentity("alice");
  const items: TreeItem[] = [{ path: "d", folder: true }];
  for (let i = 0; i < 40; i++) {
    items.push({ path: `d/f${String(i).padStart(2, "0")}`, content: TEXT.encode(`file ${i}`) });
  }
  items.push({ path: "e", folder: true }, { path: "e/last", content: TEXT.encode("last") });
  // The first connection ends after 25 files, in the middle of the tree.
  await using peer = await startTreePeer(alice, "share", items, { stopAfterFiles: 25 });
  const out = join(dir.path, "out");

  const first = await get(bob, peer.ticket, out);
  assert.equal(first.code, 4, first.stderr);
  assert.equal(errorOf(first).code, "CONNECTION_CLOSED");
  assert.ok((await listTree(out)).includes(".share.sfs-part"), "the part folder is kept");
  assert.ok(!(await listTree(out)).includes("share"));

  const second = await get(bob, peer.ticket, out);
  const done = doneOf(second);
  assert.match(second.stderr, /Resuming "share" at entry 27 of 43/);
  assert.equal(done.files, 41);
  assert.ok((done.resumed_from as number) > 0, JSON.stringify(done));
  // The rerun asked with TREE_GET from the 26th file on, holding the manifest.
  const resumed = peer.requests[1];
  assert.equal(resumed.type, MessageType.TREE_GET);
  assert.equal(resumed.entry, 26);
  assert.equal(resumed.offset, 0);
  assert.ok(resumed.held);
  assert.deepEqual((await listTree(out)).filter((p) => !p.startsWith("share")), []);
  for (const item of items) {
    if ("folder" in item) continue;
    assert.equal(
      await Deno.readTextFile(join(out, "share", item.path)),
      new TextDecoder().decode(item.content),
    );
  }
  const verified = await runSfs(["verify", join(out, "share")], { home: bob });
  assert.equal(verified.code, 0, verified.stderr);
});

Deno.test("sfs get starts a tree over when its part folder was tampered with", async () => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  const alice = await testIdentity("alice");
  const items: TreeItem[] = [];
  for (let i = 0; i < 10; i++) items.push({ path: `f${i}`, content: TEXT.encode(`file ${i}`) });
  await using peer = await startTreePeer(alice, "share", items, { stopAfterFiles: 5 });
  const out = join(dir.path, "out");
  assert.equal((await get(bob, peer.ticket, out)).code, 4);
  // A kept file changed size: the rerun must not trust the part folder.
  await Deno.writeTextFile(join(out, ".share.sfs-part", "tree", "f1"), "longer than before");
  const rerun = await get(bob, peer.ticket, out);
  const done = doneOf(rerun);
  assert.equal(done.files, 10);
  assert.match(rerun.stderr, /Starting "share" over/);
  assert.equal(await Deno.readTextFile(join(out, "share", "f1")), "file 1");
  assert.equal(peer.requests.at(-1)!.type, MessageType.GET, "the fresh start asks from 0");
});

Deno.test("sfs get ignores a part folder whose name is no share name (no lock outside --out, no failure)", async () => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  const alice = await testIdentity("alice");
  const items: TreeItem[] = [];
  for (let i = 0; i < 10; i++) items.push({ path: `f${i}`, content: TEXT.encode(`file ${i}`) });
  await using peer = await startTreePeer(alice, "share", items, { stopAfterFiles: 5 });
  const out = join(dir.path, "out");
  assert.equal((await get(bob, peer.ticket, out)).code, 4);
  // Someone who can write in --out plants the interrupted download's state under ".." (the
  // folder `....sfs-part`) and "" (`.sfs-part`): neither names a share.
  const part = join(out, ".share.sfs-part");
  await Deno.mkdir(join(out, ".sfs-part"), { mode: 0o700 });
  await Deno.copyFile(join(part, "state"), join(out, ".sfs-part", "state"));
  await Deno.rename(part, join(out, "....sfs-part"));
  const rerun = await get(bob, peer.ticket, out);
  assert.equal(doneOf(rerun).files, 10);
  assert.equal(await Deno.readTextFile(join(out, "share", "f1")), "file 1");
});

Deno.test("fetchFile() resumes a tree inside a large file, from its last checkpointed chunk", async () => {
  await using dir = await tempDir();
  const bob = await testIdentity("bob");
  const alice = await testIdentity("alice");
  const big = new Uint8Array(8 * 256 * 1024 + 1000).map((_, i) => (i * 7 + (i >> 16)) & 0xff);
  const items: TreeItem[] = [
    { path: "a.txt", content: TEXT.encode("first") },
    { path: "big.bin", content: big },
    { path: "z.txt", content: TEXT.encode("last") },
  ];
  await using peer = await startTreePeer(alice, "share", items);
  // Cut the first connection about five chunks into the big file.
  await using proxy = startProxy(portOf(peer.ticket), { cutAfterBytes: 5 * 256 * 1024 + 20_000 });
  const out = join(dir.path, "out");
  const options = {
    fileId: peer.shareId,
    expectedFingerprint: alice.public.fingerprint,
    outDir: out,
    // A checkpoint after every chunk, so the cut keeps all but the chunks in flight.
    checkpointEvery: { bytes: 1 },
  };
  const first = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  await assert.rejects(fetchFile(first, bob, options), (e) => isSfsError(e, "CONNECTION_CLOSED"));
  const second = await Deno.connect({ hostname: "127.0.0.1", port: portOf(peer.ticket) });
  const reports: number[] = [];
  const result = await fetchFile(second, bob, { ...options, onProgress: (b) => reports.push(b) });
  assert.equal(result.kind, "tree");
  const resumed = peer.requests.at(-1)!;
  assert.equal(resumed.type, MessageType.TREE_GET);
  assert.equal(resumed.entry, 1, "from the big file");
  assert.ok(resumed.offset > 0 && resumed.offset % (256 * 1024) === 0, String(resumed.offset));
  // The first report is what the first run left, before any byte of this one (the rate's base).
  assert.equal(reports[0], "first".length + resumed.offset);
  assert.deepEqual(await Deno.readFile(join(out, "share", "big.bin")), big);
  assert.equal(await Deno.readTextFile(join(out, "share", "z.txt")), "last");
});

Deno.test("fetchFile() records the verified chunks of the file a cut interrupted, with no checkpoint inside it", async () => {
  await using dir = await tempDir();
  const bob = await testIdentity("bob");
  const alice = await testIdentity("alice");
  const big = new Uint8Array(8 * 256 * 1024 + 1000).map((_, i) => (i * 5 + (i >> 12)) & 0xff);
  const items: TreeItem[] = [
    { path: "a.txt", content: TEXT.encode("first") },
    { path: "big.bin", content: big },
  ];
  await using peer = await startTreePeer(alice, "share", items);
  await using proxy = startProxy(portOf(peer.ticket), { cutAfterBytes: 5 * 256 * 1024 + 20_000 });
  const out = join(dir.path, "out");
  const options = {
    fileId: peer.shareId,
    expectedFingerprint: alice.public.fingerprint,
    outDir: out,
    // No checkpoint while the big file streams: what the cut leaves is recorded when it fails.
    checkpointEvery: { bytes: 2 ** 40, ms: 3_600_000 },
  };
  const first = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  await assert.rejects(fetchFile(first, bob, options), (e) => isSfsError(e, "CONNECTION_CLOSED"));
  const second = await Deno.connect({ hostname: "127.0.0.1", port: portOf(peer.ticket) });
  await fetchFile(second, bob, options);
  const resumed = peer.requests.at(-1)!;
  assert.equal(resumed.type, MessageType.TREE_GET);
  assert.equal(resumed.entry, 1, "from the big file");
  assert.ok(resumed.offset > 0 && resumed.offset % (256 * 1024) === 0, String(resumed.offset));
  assert.deepEqual(await Deno.readFile(join(out, "share", "big.bin")), big);
});

function portOf(ticket: string): number {
  return parseTicket(ticket).port;
}

Deno.test("sfs get stops a tree on SIGINT keeping its verified files, exits 130 and resumes", async () => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  const alice = await testIdentity("alice");
  const items: TreeItem[] = [];
  const name = (i: number) => `f${String(i).padStart(2, "0")}`;
  for (let i = 0; i < 20; i++) items.push({ path: name(i), content: TEXT.encode(`file ${i}`) });
  await using peer = await startTreePeer(alice, "share", items, { stallAfterFiles: 12 });
  const out = join(dir.path, "out");
  await using receiver = startSfs(["get", peer.ticket, "--out", out, "--json", "--verbose"], {
    home: bob,
  });
  await receiver.nextEvent((e) => e.event === "file" && e.files_done === 12);
  receiver.kill("SIGINT");
  const status = await receiver.status;
  await receiver.drained();
  assert.equal(status.code, 130, receiver.stderrText());
  const interrupted = errorOf({ code: 130, stdout: "", stderr: receiver.stderrText(), events: [] });
  assert.equal(interrupted.code, "INTERRUPTED");
  assert.deepEqual(await listTree(out), [".share.sfs-part", ...(await partFiles(out))]);

  const done = doneOf(await get(bob, peer.ticket, out));
  assert.equal(done.files, 20);
  assert.equal(peer.requests.at(-1)!.type, MessageType.TREE_GET);
  assert.equal(peer.requests.at(-1)!.entry, 12, "the 12 verified files are kept");
  for (let i = 0; i < 20; i++) {
    assert.equal(await Deno.readTextFile(join(out, "share", name(i))), `file ${i}`);
  }
});

/** What a kept part folder holds, as listTree shows it. */
async function partFiles(out: string): Promise<string[]> {
  return (await listTree(join(out, ".share.sfs-part"))).map((p) => join(".share.sfs-part", p));
}

Deno.test("sfs get finishes a tree whose every file arrived but whose FINAL did not", async () => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  const alice = await testIdentity("alice");
  const items: TreeItem[] = [
    { path: "a", content: TEXT.encode("first") },
    { path: "b", folder: true },
    { path: "b/c", content: new Uint8Array(300 * 1024).fill(3) },
    { path: "d", folder: true },
  ];
  await using peer = await startTreePeer(alice, "share", items, { noFinal: true });
  const out = join(dir.path, "out");
  const first = await get(bob, peer.ticket, out);
  assert.equal(errorOf(first).code, "CONNECTION_CLOSED", first.stderr);
  const done = doneOf(await get(bob, peer.ticket, out));
  // Asked again for the last chunk of the last file, so the sender signs this session.
  const resumed = peer.requests.at(-1)!;
  assert.equal(resumed.type, MessageType.TREE_GET);
  assert.deepEqual([resumed.entry, resumed.offset], [2, 256 * 1024]);
  assert.equal(done.resumed_from, 5 + 256 * 1024);
  assert.deepEqual(
    await Deno.readFile(join(out, "share", "b", "c")),
    new Uint8Array(300 * 1024).fill(3),
  );
  assert.ok((await Deno.lstat(join(out, "share", "d"))).isDirectory);
});
