/**
 * The sending side of folders and multi-path shares (docs/PROTOCOL.md §7.6–§7.9), against a real
 * `sfs send` process over real sockets. The receiver is tests/send_tree_peer.ts, built from the
 * codecs, so these tests pin the sender's wire behaviour: the manifest and its pages, the file
 * streams back to back, resume and WANT, FILE_CHANGED before a changed file's last chunk, FINAL,
 * and the signed receipt the `sent` event carries.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type ErrorCode, isSfsError } from "../src/errors.ts";
import { type Bytes, fromBase64, fromHex } from "../src/crypto/bytes.ts";
import { formatFingerprint, parseFingerprint } from "../src/crypto/identity.ts";
import { DEFAULT_CHUNK_SIZE } from "../src/crypto/stream.ts";
import { decodeMessage, type Manifest, MessageType, type Receipt } from "../src/wire/messages.ts";
import { initiate } from "../src/wire/handshake.ts";
import { connect } from "../src/net/connect.ts";
import { verifyFileManifest } from "../src/peer/file_manifest.ts";
import { verifyReceiptFile } from "../src/peer/receipt.ts";
import { runSfs, type SfsProcess, startSfs, tempDir } from "./harness.ts";
import { errorOf } from "./peers.ts";
import { testHome, testIdentity } from "./identities.ts";
import { fetchTree } from "./send_tree_peer.ts";

const TEXT = new TextEncoder();

interface TreeReady {
  port: number;
  id: string;
  fingerprint: string;
  ticket: string;
  kind?: string;
  manifest_hash?: string;
}

/** Starts `sfs send ARGS… --json` as alice; returns it with its `ready` event. */
async function send(home: string, args: string[]): Promise<{ proc: SfsProcess; ready: TreeReady }> {
  const proc = startSfs(["send", ...args, "--listen", "127.0.0.1:0", "--json"], { home });
  const ready = await proc.nextEvent((e) => e.event === "ready") as unknown as TreeReady;
  return { proc, ready };
}

function target(ready: TreeReady) {
  return {
    port: ready.port,
    shareId: fromHex(ready.id)!,
    senderFingerprint: parseFingerprint(ready.fingerprint),
  };
}

/** Bytes that differ from chunk to chunk (a swapped chunk would show). */
function pattern(length: number): Bytes {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + (i >> 12)) & 0xff);
}

/** A folder with nested and empty folders, an empty file, an executable, unicode and spaces. */
async function makeTree(root: string): Promise<Map<string, Bytes>> {
  const files = new Map<string, Bytes>([
    ["a b.txt", TEXT.encode("with a space")],
    ["docs/r\u00e9sum\u00e9.txt", TEXT.encode("unicode name")],
    ["docs/deep/big.bin", pattern(2 * DEFAULT_CHUNK_SIZE + 77)],
    ["empty.txt", new Uint8Array()],
    ["run.sh", TEXT.encode("#!/bin/sh\necho hi\n")],
  ]);
  await Deno.mkdir(join(root, "docs", "deep"), { recursive: true });
  await Deno.mkdir(join(root, "nothing"));
  for (const [path, content] of files) await Deno.writeFile(join(root, path), content);
  await Deno.chmod(join(root, "run.sh"), 0o755);
  await Deno.symlink("/etc/hostname", join(root, "outside-link"));
  await Deno.symlink("docs", join(root, "inside-link"));
  return files;
}

Deno.test("sfs send DIR serves the manifest, its pages and every file back to back, then FINAL", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testIdentity("bob");
  const root = join(dir.path, "holiday");
  await Deno.mkdir(root);
  const files = await makeTree(root);
  const { proc, ready } = await send(alice, [root]);
  await using _sender = proc;
  assert.equal(ready.kind, "tree");
  assert.equal(ready.ticket.split("\n").length, 1, "one ticket");
  const skipped = proc.events.find((e) => e.event === "skipped");
  assert.equal(skipped?.symlink, 2, "both symlinks skipped, counted once");

  const got = await fetchTree(bob, target(ready));
  assert.equal(got.manifest.entry, 0);
  assert.ok(got.manifest.pagesFollow);
  assert.deepEqual(
    got.entries.map((e) => e.path),
    [
      "a b.txt",
      "docs",
      "docs/deep",
      "docs/deep/big.bin",
      "docs/r\u00e9sum\u00e9.txt",
      "empty.txt",
      "nothing",
      "run.sh",
    ],
  );
  assert.equal(got.entries.find((e) => e.path === "run.sh")?.executable, true);
  assert.equal(got.files.size, files.size);
  for (const [path, content] of files) assert.deepEqual(got.files.get(path), content, path);
  // Nothing but chunks between the pages and FINAL: no message, no round trip per file.
  const afterPages = got.trace.slice(got.trace.lastIndexOf(MessageType.MANIFEST_PAGE) + 1);
  assert.deepEqual(afterPages.slice(0, -1).filter((t) => t !== 0), []);
  assert.equal(afterPages.at(-1), MessageType.FINAL);

  const sent = await proc.nextEvent((e) => e.event === "sent");
  assert.equal(sent.receiver, formatFingerprint(bob.public.fingerprint));
  const receipt = decodeMessage(MessageType.RECEIPT, fromBase64(String(sent.receipt))!);
  assert.ok(receipt.type === MessageType.RECEIPT);
  assert.deepEqual(receipt.manifestHash, got.manifestHash);
  assert.deepEqual(receipt.receiverFingerprint, bob.public.fingerprint);
  const stored = await verifyReceiptFile(fromBase64(String(sent.receipt_file))!);
  assert.deepEqual(stored.receipt, receipt, "the stored form checks offline");
  const hashed = proc.events.find((e) => e.event === "hashing" && e.done === true);
  assert.deepEqual([hashed?.files, hashed?.entries], [5, 8], "hashing progress, to the end");
});

Deno.test("sfs send A B C --name X shares the paths as the top entries of one tree", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testIdentity("bob");
  await Deno.mkdir(join(dir.path, "photos", "raw"), { recursive: true });
  await Deno.writeTextFile(join(dir.path, "photos", "a.jpg"), "jpeg");
  await Deno.writeTextFile(join(dir.path, "photos", "raw", "a.cr2"), "raw");
  await Deno.writeTextFile(join(dir.path, "notes.txt"), "notes");
  await Deno.writeTextFile(join(dir.path, "Zeta.md"), "z");
  const { proc, ready } = await send(alice, [
    join(dir.path, "notes.txt"),
    join(dir.path, "photos"),
    join(dir.path, "Zeta.md"),
    "--name",
    "bundle",
    "--exclude",
    "raw/",
  ]);
  await using _sender = proc;
  const got = await fetchTree(bob, target(ready));
  assert.deepEqual(got.entries.map((e) => e.path), [
    "Zeta.md",
    "notes.txt",
    "photos",
    "photos/a.jpg",
  ]);
  assert.equal(new TextDecoder().decode(got.files.get("photos/a.jpg")), "jpeg");
  const skipped = proc.events.find((e) => e.event === "skipped");
  assert.equal(skipped?.excluded, 1);
});

Deno.test("sfs send refuses two paths with one name in the share, before hashing", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  await Deno.mkdir(join(dir.path, "one"));
  await Deno.mkdir(join(dir.path, "two"));
  await Deno.writeTextFile(join(dir.path, "one", "Same.txt"), "1");
  await Deno.writeTextFile(join(dir.path, "two", "same.txt"), "2");
  const result = await runSfs([
    "send",
    join(dir.path, "one", "Same.txt"),
    join(dir.path, "two", "same.txt"),
    "--listen",
    "127.0.0.1:0",
    "--json",
  ], { home: alice });
  assert.notEqual(result.code, 0);
  assert.ok(!result.events.some((e) => e.event === "ready"), "no ticket");
  assert.equal(errorOf(result).code, "NAME_COLLISION");
});

Deno.test("TREE_GET resumes at an entry and byte, without pages when the manifest is held", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testIdentity("bob");
  const root = join(dir.path, "holiday");
  await Deno.mkdir(root);
  const files = await makeTree(root);
  const { proc, ready } = await send(alice, [root]);
  await using _sender = proc;
  const first = await fetchTree(bob, target(ready));
  const big = first.entries.findIndex((e) => e.path === "docs/deep/big.bin");
  const resumed = await fetchTree(bob, {
    ...target(ready),
    request: {
      kind: "tree-get",
      entry: big,
      offset: DEFAULT_CHUNK_SIZE,
      manifestHash: first.manifestHash,
    },
    knownEntries: first.entries,
  });
  assert.equal(resumed.manifest.pagesFollow, false);
  assert.ok(!resumed.trace.includes(MessageType.MANIFEST_PAGE));
  assert.deepEqual(
    [...resumed.files.keys()],
    ["docs/deep/big.bin", "docs/r\u00e9sum\u00e9.txt", "empty.txt", "run.sh"],
  );
  assert.deepEqual(
    resumed.files.get("docs/deep/big.bin"),
    files.get("docs/deep/big.bin")!.subarray(DEFAULT_CHUNK_SIZE),
  );
  await proc.nextEvent((e) => e.event === "sent");
  await proc.nextEvent((e) => e.event === "sent");

  await assert.rejects(
    fetchTree(bob, {
      ...target(ready),
      request: { kind: "tree-get", entry: big, offset: 1000 },
    }),
    (e) => isSfsError(e, "BAD_MESSAGE"),
    "an offset that is not a chunk boundary",
  );
});

Deno.test("WANT asks for some files only, and the sender streams exactly those", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testIdentity("bob");
  const root = join(dir.path, "holiday");
  await Deno.mkdir(root);
  await makeTree(root);
  const { proc, ready } = await send(alice, [root]);
  await using _sender = proc;
  // Entries: 0 "a b.txt", 1 docs, 2 docs/deep, 3 big.bin, 4 résumé, 5 empty, 6 nothing, 7 run.sh.
  const got = await fetchTree(bob, {
    ...target(ready),
    request: { kind: "tree-get", entry: 0, offset: 0, want: [{ first: 4, count: 2 }] },
  });
  assert.deepEqual([...got.files.keys()], ["docs/r\u00e9sum\u00e9.txt", "empty.txt"]);
});

Deno.test("a file changed after sharing gets FILE_CHANGED instead of its last chunk", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testIdentity("bob");
  const root = join(dir.path, "holiday");
  await Deno.mkdir(root);
  await makeTree(root);
  const { proc, ready } = await send(alice, [root]);
  await using _sender = proc;
  // The last byte of a three-chunk file, its size and modification time kept.
  const big = join(root, "docs", "deep", "big.bin");
  const before = await Deno.stat(big);
  const content = await Deno.readFile(big);
  content[content.length - 1] ^= 0xff;
  await Deno.writeFile(big, content);
  await Deno.utime(big, before.atime!, before.mtime!);

  const trace: number[] = [];
  await assert.rejects(
    fetchTree(bob, { ...target(ready), trace }),
    (e) => isSfsError(e, "FILE_CHANGED"),
  );
  const pages = trace.lastIndexOf(MessageType.MANIFEST_PAGE);
  // "a b.txt" (one chunk), then two of big.bin's three chunks, then the ERROR.
  assert.equal(trace.slice(pages + 1).filter((t) => t === 0).length, 3);
  const failed = await proc.nextEvent((e) => e.event === "transfer_failed");
  assert.equal(failed.code, "FILE_CHANGED");
  // The share is served no more: the next request gets FILE_CHANGED before any manifest.
  const again: number[] = [];
  await assert.rejects(
    fetchTree(bob, { ...target(ready), trace: again }),
    (e) => isSfsError(e, "FILE_CHANGED"),
  );
  assert.deepEqual(again, []);
});

Deno.test("a file swapped for a symlink after sharing is not followed", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testIdentity("bob");
  const root = join(dir.path, "share");
  await Deno.mkdir(root);
  await Deno.writeTextFile(join(root, "a.txt"), "secret-size");
  await Deno.writeTextFile(join(dir.path, "other.txt"), "other-bytes");
  const { proc, ready } = await send(alice, [root]);
  await using _sender = proc;
  await Deno.remove(join(root, "a.txt"));
  await Deno.symlink(join(dir.path, "other.txt"), join(root, "a.txt"));
  const trace: number[] = [];
  await assert.rejects(
    fetchTree(bob, { ...target(ready), trace }),
    (e) => isSfsError(e, "FILE_CHANGED"),
  );
  assert.ok(!trace.includes(0), "not one chunk of the symlink's target");
});

Deno.test("the sender refuses a receipt that does not check, and reports no delivery", async (t) => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testIdentity("bob");
  const carol = await testIdentity("carol");
  const root = join(dir.path, "share");
  await Deno.mkdir(root);
  await Deno.writeTextFile(join(root, "a.txt"), "a");
  const { proc, ready } = await send(alice, [root]);
  await using _sender = proc;
  const cases: [string, (r: Receipt) => Receipt, string][] = [
    ["signed over other fields", (r) => ({ ...r, receivedAt: r.receivedAt + 1 }), "BAD_SIGNATURE"],
    [
      "naming another manifest",
      (r) => ({ ...r, manifestHash: new Uint8Array(32) }),
      "HASH_MISMATCH",
    ],
    [
      "naming another receiver",
      (r) => ({ ...r, receiverFingerprint: carol.public.fingerprint }),
      "KEY_MISMATCH",
    ],
  ];
  for (const [name, tamper, code] of cases) {
    await t.step(name, async () => {
      await fetchTree(bob, { ...target(ready), tamperReceipt: tamper });
      const failed = await proc.nextEvent((e) =>
        e.event === "transfer_failed" || e.event === "sent"
      );
      assert.equal(failed.event, "transfer_failed");
      assert.equal(failed.code, code);
    });
  }
});

Deno.test("sfs send FILE signs the file's one-entry manifest in MANIFEST", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testIdentity("bob");
  const file = join(dir.path, "notes.txt");
  await Deno.writeTextFile(file, "hello");
  await Deno.chmod(file, 0o755);
  const { proc, ready } = await send(alice, [file]);
  await using _sender = proc;
  const conn = await connect({ host: "127.0.0.1", port: ready.port });
  const channel = await initiate(conn, bob, {
    early: { type: MessageType.GET, fileId: fromHex(ready.id)!, offset: 0 },
    verifyResponder: () => {},
  });
  try {
    const manifest = await channel.expect(MessageType.MANIFEST) as Manifest;
    assert.equal(manifest.executable, true);
    assert.equal(manifest.mtime, (await Deno.stat(file)).mtime!.getTime());
    const verified = await verifyFileManifest(channel.peer, manifest);
    assert.ok(verified, "a portable name is signed");
    assert.equal(verified.header.root, "file");
    await assert.rejects(
      verifyFileManifest(channel.peer, { ...manifest, mtime: manifest.mtime + 1 }),
      (e) => isSfsError(e, "BAD_SIGNATURE"),
    );
  } finally {
    channel.close();
  }
});

Deno.test("a manifest larger than one page goes out in several MANIFEST_PAGE records", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testIdentity("bob");
  const root = join(dir.path, "many");
  await Deno.mkdir(root);
  // 2,000 entries of ~150 bytes each: over 256 KiB of entries.
  const long = "n".repeat(100);
  for (let i = 0; i < 2000; i++) {
    await Deno.writeFile(join(root, `${long}-${String(i).padStart(4, "0")}`), new Uint8Array());
  }
  const { proc, ready } = await send(alice, [root]);
  await using _sender = proc;
  const got = await fetchTree(bob, target(ready));
  const pages = got.trace.filter((t) => t === MessageType.MANIFEST_PAGE).length;
  assert.equal(pages, 2);
  assert.equal(got.entries.length, 2000);
  assert.equal(got.files.size, 2000);
});

Deno.test("the sender refuses a tree request it cannot serve, with BAD_MESSAGE or NOT_FOUND", async (t) => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testIdentity("bob");
  const root = join(dir.path, "share");
  await Deno.mkdir(root);
  await Deno.writeTextFile(join(root, "a.txt"), "a");
  await Deno.mkdir(join(root, "b"));
  const file = join(dir.path, "single.txt");
  await Deno.writeTextFile(file, "single");
  const { proc, ready } = await send(alice, [root]);
  await using _sender = proc;
  const { proc: fileProc, ready: fileReady } = await send(alice, [file]);
  await using _fileSender = fileProc;
  const cases: [string, Parameters<typeof fetchTree>[1], ErrorCode][] = [
    ["an entry past the end", {
      ...target(ready),
      request: { kind: "tree-get", entry: 3, offset: 0 },
    }, "BAD_MESSAGE"],
    ["an offset inside a folder", {
      ...target(ready),
      request: { kind: "tree-get", entry: 1, offset: DEFAULT_CHUNK_SIZE },
    }, "BAD_MESSAGE"],
    ["a WANT with a start point", {
      ...target(ready),
      request: { kind: "tree-get", entry: 1, offset: 0, want: [] },
    }, "BAD_MESSAGE"],
    ["a WANT past the last entry", {
      ...target(ready),
      request: { kind: "tree-get", entry: 0, offset: 0, want: [{ first: 1, count: 2 }] },
    }, "BAD_MESSAGE"],
    ["TREE_GET for a single file", {
      ...target(fileReady),
      request: { kind: "tree-get", entry: 0, offset: 0 },
    }, "NOT_FOUND"],
  ];
  for (const [name, how, code] of cases) {
    await t.step(name, async () => {
      await assert.rejects(fetchTree(bob, how), (e) => isSfsError(e, code));
    });
  }
});

Deno.test("a single file's sent event carries the real receiver's signed receipt", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bobHome = await testHome(dir.path, "bob");
  const bob = await testIdentity("bob");
  const file = join(dir.path, "notes.txt");
  await Deno.writeTextFile(file, "hello");
  const { proc, ready } = await send(alice, [file]);
  await using _sender = proc;
  const got = await runSfs(["get", ready.ticket, "--out", join(dir.path, "out"), "--json"], {
    home: bobHome,
  });
  assert.equal(got.code, 0, got.stderr);
  const sent = await proc.nextEvent((e) => e.event === "sent");
  const receipt = decodeMessage(MessageType.RECEIPT, fromBase64(String(sent.receipt))!);
  assert.ok(receipt.type === MessageType.RECEIPT);
  assert.deepEqual(receipt.shareId, fromHex(ready.id));
  assert.deepEqual(receipt.receiverFingerprint, bob.public.fingerprint);
  assert.notDeepEqual(receipt.manifestHash, new Uint8Array(32), "the one-entry manifest's hash");
});

Deno.test("Ctrl-C while a folder is hashed leaves no manifest spool in SFS_HOME", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const root = join(dir.path, "many");
  await Deno.mkdir(root);
  for (let i = 0; i < 3000; i++) {
    await Deno.writeFile(join(root, `f${i}`), pattern(4096));
  }
  const proc = startSfs(["send", root, "--listen", "127.0.0.1:0", "--json"], { home: alice });
  await using _sender = proc;
  await proc.nextEvent((e) => e.event === "hashing");
  proc.kill("SIGINT");
  const status = await proc.status;
  assert.ok(!proc.events.some((e) => e.event === "ready"), "stopped while hashing");
  assert.notEqual(status.code, 0);
  const left = [];
  for await (const entry of Deno.readDir(alice)) {
    if (entry.name.startsWith("manifest-")) left.push(entry.name);
  }
  assert.deepEqual(left, []);
});
