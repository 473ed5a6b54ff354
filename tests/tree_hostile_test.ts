/**
 * A hostile tree sender against a real `sfs get` (docs/design/folders.md F3.5, F4, F6.2): an
 * authenticated sender whose signed manifest or streams no honest walk would produce. Each is
 * refused with its typed error, and nothing appears outside `--out` or under `DIR/NAME`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir } from "./harness.ts";
import { testHome, testIdentity } from "./identities.ts";
import { errorOf, get, listTree } from "./peers.ts";
import { startTreePeer, type TreeItem, type TreeLies } from "./tree_peer.ts";

const TEXT = new TextEncoder();

function file(path: string, text = "x"): TreeItem {
  return { path, content: TEXT.encode(text) };
}

function folder(path: string): TreeItem {
  return { path, folder: true };
}

Deno.test("sfs get refuses a hostile tree manifest before writing anything", async (t) => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  const alice = await testIdentity("alice");
  // --out sits two levels down, so "../x" or "a/../../x" would land where we look.
  const parent = join(dir.path, "one", "two");
  await Deno.mkdir(parent, { recursive: true });
  const out = join(parent, "out");
  const deep = Array.from({ length: 10_000 }, () => "a").join("/");

  const cases: Array<[string, TreeItem[], string, TreeLies?]> = [
    ["a parent reference: ../x", [file("../x")], "UNSAFE_NAME"],
    ["an absolute path: /etc/x", [file("/etc/x")], "UNSAFE_NAME"],
    ["a traversal inside a folder: a/../../x", [folder("a"), file("a/../../x")], "UNSAFE_NAME"],
    ["a Windows device name: CON", [file("CON")], "UNSAFE_NAME"],
    ["a device name with an extension: a/nul.txt", [folder("a"), file("a/nul.txt")], "UNSAFE_NAME"],
    ["a backslash: a\\..\\x", [file("a\\..\\x")], "UNSAFE_NAME"],
    ["our own suffix: x.sfs-part", [file("x.sfs-part")], "UNSAFE_NAME"],
    ["a duplicate path", [file("x"), file("x")], "NAME_COLLISION"],
    ["two names differing in case", [file("README"), file("readme")], "NAME_COLLISION"],
    ["two Unicode forms of one name", [file("e\u0301"), file("\u00e9")], "NAME_COLLISION"],
    ["a file and a folder of one name", [file("X"), folder("x")], "NAME_COLLISION"],
    // Over 3072 bytes: the entry decoder refuses it before the path is ever split.
    ["a path 10,000 levels deep", [file(deep)], "BAD_MESSAGE"],
    ["a path 129 levels deep", [file(Array(129).fill("d").join("/"))], "UNSAFE_NAME"],
    ["more entries than announced", [file("a"), file("b")], "BAD_MESSAGE", { announced: 1 }],
    ["entries out of order", [file("b"), file("a")], "BAD_MESSAGE"],
    ["a file without its folder", [file("a/b")], "BAD_MESSAGE"],
  ];
  for (const [what, items, code, lies] of cases) {
    await t.step(`${what}: ${code}`, async () => {
      const before = await listTree(dir.path);
      await using hostile = await startTreePeer(alice, "share", items, lies);
      const result = await get(bob, hostile.ticket, out);
      assert.notEqual(result.code, 0, result.stderr);
      assert.equal(errorOf(result).code, code, result.stderr);
      // Refused before any file: no tree, no part folder, no proof, no lock in --out.
      assert.deepEqual(await listTree(out), []);
      const outRel = join("one", "two", "out");
      assert.deepEqual((await listTree(dir.path)).filter((p) => p !== outRel), before);
      assert.equal(hostile.receipts, 0);
      await Deno.remove(out, { recursive: true }).catch(() => {});
    });
  }
});

Deno.test("sfs get refuses a file longer or shorter than its manifest entry", async (t) => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  const alice = await testIdentity("alice");
  const big = new Uint8Array(300 * 1024).fill(7);
  const cases: Array<[string, TreeItem[], string]> = [
    // The stream carries what the manifest does not: its chunk lengths give it away.
    ["the last file longer than listed", [file("a", "ok"), {
      path: "b",
      content: big,
      listedSize: 256 * 1024,
    }], "CHUNK_AUTH_FAILED"],
    ["a middle file longer than listed", [
      { path: "a", content: TEXT.encode("0123456789"), listedSize: 5 },
      file("b", "ok"),
    ], "CHUNK_AUTH_FAILED"],
    [
      "a file shorter than listed",
      [{ path: "a", content: TEXT.encode("abc"), listedSize: 4 }],
      "CHUNK_AUTH_FAILED",
    ],
  ];
  let n = 0;
  for (const [what, items, code] of cases) {
    await t.step(`${what}: ${code}`, async () => {
      await using hostile = await startTreePeer(alice, "share", items);
      const out = join(dir.path, `out-${n++}`);
      const result = await get(bob, hostile.ticket, out);
      assert.notEqual(result.code, 0, result.stderr);
      assert.equal(errorOf(result).code, code, result.stderr);
      // No tree and no proof; at most the private part folder, for a resume.
      const left = await listTree(out);
      assert.ok(!left.includes("share") && !left.includes("share.sfs-proof"), left.join());
      assert.deepEqual(
        (await listTree(dir.path)).filter((p) => !p.startsWith("out-") && !p.startsWith("home-")),
        [],
      );
    });
  }
});

Deno.test("sfs get refuses a tree whose file does not hash to its manifest entry", async () => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  const alice = await testIdentity("alice");
  // A sender whose manifest lists the SHA-256 of other content: entryOf hashes `content`, so
  // the lie is told by streaming other bytes of the same length.
  const items: TreeItem[] = [file("a", "same length 1")];
  await using hostile = await startTreePeer(alice, "share", items, {
    streamInstead: new Map([[0, TEXT.encode("same length 2")]]),
  });
  const out = join(dir.path, "out");
  const result = await get(bob, hostile.ticket, out);
  assert.equal(result.code, 3, result.stderr);
  assert.equal(errorOf(result).code, "HASH_MISMATCH");
  assert.deepEqual(await listTree(out), [], "a file wrong as a whole keeps nothing");
});

Deno.test("sfs get refuses a tree manifest its sender cannot vouch for", async (t) => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  const alice = await testIdentity("alice");
  const mallory = await testIdentity("mallory");
  const items = [folder("d"), file("d/a")];
  const cases: Array<[string, TreeLies, string]> = [
    ["a manifest naming another owner", {
      ownerFingerprint: mallory.public.fingerprint,
    }, "KEY_MISMATCH"],
    ["a manifest signature that does not verify", { badSignature: true }, "BAD_SIGNATURE"],
    // The reply echoes the id asked for, but the manifest is another share's.
    ["another share under the id asked for", {
      otherShareId: crypto.getRandomValues(new Uint8Array(16)),
    }, "MANIFEST_MISMATCH"],
  ];
  let n = 0;
  for (const [what, lies, code] of cases) {
    await t.step(`${what}: ${code}`, async () => {
      await using hostile = await startTreePeer(alice, "share", items, lies);
      const out = join(dir.path, `out-${n++}`);
      const result = await get(bob, hostile.ticket, out);
      assert.equal(result.code, 3, result.stderr);
      assert.equal(errorOf(result).code, code);
      assert.deepEqual(await listTree(out), [], "nothing kept");
    });
  }
});
