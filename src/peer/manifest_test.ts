import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { isSfsError } from "../errors.ts";
import { ByteWriter } from "../crypto/encoding.ts";
import { testIdentity } from "../../tests/identities.ts";
import {
  encodeManifestEntry,
  encodeManifestHeader,
  encodeManifestPage,
  type ManifestEntry,
  ManifestHasher,
  type ManifestHeader,
  manifestPages,
  signManifest,
  verifyManifest,
} from "./manifest.ts";
import { ManifestReader } from "./manifest_reader.ts";
import { walkTree } from "./tree_walk.ts";

/** The owner: a test identity, made once per run (RSA-3072 keygen takes ~1.5 s). */
const ownerIdentity = () => testIdentity("alice");

const ZERO = new Uint8Array(32);
const folder = (path: string, mtime = 0): ManifestEntry => ({
  path,
  kind: "folder",
  executable: false,
  size: 0,
  mtime,
  sha256: ZERO,
});
const file = (path: string, size = 1, executable = false): ManifestEntry => ({
  path,
  kind: "file",
  executable,
  size,
  mtime: 1_790_000_000_000,
  sha256: new Uint8Array(32).fill(size & 0xff),
});

function header(entries: readonly ManifestEntry[], over: Partial<ManifestHeader> = {}) {
  return {
    ownerFingerprint: new Uint8Array(32).fill(7),
    name: "photos",
    root: "folder" as const,
    createdAt: 1_790_000_000_000,
    entryCount: entries.length,
    totalBytes: entries.reduce((sum, e) => sum + e.size, 0),
    ...over,
  };
}

async function pagesOf(entries: ManifestEntry[], maxPageBytes?: number): Promise<Uint8Array[]> {
  const pages: Uint8Array[] = [];
  for await (const page of manifestPages(entries, { maxPageBytes })) pages.push(page);
  return pages;
}

/** Reads every page; returns the entries and the hash, or throws the first error. */
function readAll(headerBytes: Uint8Array, pages: Uint8Array[]) {
  const reader = new ManifestReader(headerBytes);
  const entries = pages.flatMap((page) => reader.readPage(page));
  return { entries, hash: reader.finish() };
}

Deno.test("ManifestReader reads back what manifestPages() cut into pages", async () => {
  const entries = [
    file("a.txt", 5, true),
    folder("docs", 1234),
    folder("docs/empty"),
    file("docs/r\u00e9sum\u00e9 2026.pdf", 300),
    file("z", 0),
  ];
  const headerBytes = encodeManifestHeader(header(entries));
  for (const max of [80, 200, undefined]) {
    const pages = await pagesOf(entries, max);
    if (max === 80) assert.equal(pages.length, 5);
    const read = readAll(headerBytes, pages);
    assert.deepEqual(read.entries, entries);
    // The hash is over header ‖ entries, whatever the pages: computed here independently.
    const expected = createHash("sha256").update("sfs/v1/manifest\0").update(headerBytes);
    for (const e of entries) expected.update(encodeManifestEntry(e));
    assert.deepEqual(read.hash, new Uint8Array(expected.digest()));
  }
});

Deno.test("ManifestReader refuses a hostile manifest", async (t) => {
  const good = [folder("a"), file("a/b")];
  const cases: Array<[string, string, ManifestEntry[], Partial<ManifestHeader>?]> = [
    ["../x", "UNSAFE_NAME", [file("../x")]],
    ["/etc/x", "UNSAFE_NAME", [file("/etc/x")]],
    ["a/../../x", "UNSAFE_NAME", [folder("a"), file("a/../../x")]],
    ["CON", "UNSAFE_NAME", [file("CON")]],
    ["a duplicate path", "NAME_COLLISION", [file("x"), file("x")]],
    ["case-colliding paths", "NAME_COLLISION", [file("X"), file("x")]],
    // Refused by the field's length bound before the path is even decoded.
    ["10,000 levels deep", "BAD_MESSAGE", [file(Array(10_000).fill("a").join("/"))]],
    ["129 levels deep", "UNSAFE_NAME", [file(Array(129).fill("a").join("/"))]],
    ["more entries than announced", "BAD_MESSAGE", good, { entryCount: 1 }],
    ["fewer entries than announced", "BAD_MESSAGE", good, { entryCount: 3 }],
    ["sizes that do not add up", "BAD_MESSAGE", good, { totalBytes: 2 }],
    ["a single file under another name", "BAD_MESSAGE", [file("other")], { root: "file" }],
  ];
  for (const [name, code, entries, over] of cases) {
    await t.step(name, () => {
      // Encoded by hand where the encoder itself would refuse, like a hostile sender would.
      const writer = new ByteWriter().u64(0).u16(entries.length);
      for (const e of entries) {
        writer.text(e.path).u8(e.kind === "file" ? 1 : 2).u8(e.executable ? 1 : 0).u64(e.size)
          .u64(e.mtime).raw(e.sha256);
      }
      const headerBytes = encodeManifestHeader(header(entries, over));
      assert.throws(
        () => readAll(headerBytes, [writer.finish()]),
        (err) => isSfsError(err, code as "BAD_MESSAGE"),
      );
    });
  }
});

Deno.test("ManifestReader refuses malformed pages with BAD_MESSAGE", async (t) => {
  const entries = [folder("a"), file("a/b", 3)];
  const headerBytes = encodeManifestHeader(header(entries));
  const page = encodeManifestPage(0, entries);
  const cases: Array<[string, Uint8Array[]]> = [
    ["a page starting at the wrong entry", [encodeManifestPage(1, entries)]],
    ["an empty page", [new ByteWriter().u64(0).u16(0).finish(), page]],
    ["trailing bytes", [Uint8Array.of(...page, 0)]],
    ["a cut page", [page.subarray(0, page.length - 1)]],
    ["unknown flag bits", [page.with(page.length - 49, 2)]],
    // Page header 10, path length 2, "a" 1, type 1, flags 1, then the size's 8 bytes.
    ["a folder with a size", [page.with(10 + 2 + 1 + 1 + 1 + 7, 1)]],
    ["a folder with a hash", [page.with(10 + 2 + 1 + 1 + 1 + 8 + 8, 1)]],
    ["an unknown entry type", [page.with(10 + 2 + 1, 3)]],
  ];
  for (const [name, pages] of cases) {
    await t.step(name, () => {
      assert.throws(() => readAll(headerBytes, pages), (err) => isSfsError(err, "BAD_MESSAGE"));
    });
  }
});

Deno.test("verifyManifest() checks the owner named in the header, then both signatures", async () => {
  const identity = await ownerIdentity();
  const entries = [file("a", 2)];
  const h = header(entries, { ownerFingerprint: identity.public.fingerprint });
  const headerBytes = encodeManifestHeader(h);
  const hash = new ManifestHasher(headerBytes).update(encodeManifestEntry(entries[0])).digest();
  const signatures = await signManifest(identity, hash);
  await verifyManifest(identity.public, h, hash, signatures);
  await assert.rejects(
    verifyManifest(identity.public, header(entries), hash, signatures),
    (err) => isSfsError(err, "KEY_MISMATCH"),
  );
  await assert.rejects(
    verifyManifest(identity.public, h, hash.with(0, hash[0] ^ 1), signatures),
    (err) => isSfsError(err, "BAD_SIGNATURE"),
  );
  await assert.rejects(
    verifyManifest(identity.public, h, hash, { ed25519: signatures.ed25519 }),
    (err) => isSfsError(err, "BAD_SIGNATURE"),
  );
});

Deno.test("a manifest of a real folder walk reads back and verifies", async () => {
  const root = await Deno.makeTempDir({ prefix: "sfs-manifest-" });
  try {
    await Deno.mkdir(`${root}/sub/empty`, { recursive: true });
    await Deno.writeTextFile(`${root}/run.sh`, "#!/bin/sh\n", { mode: 0o755 });
    await Deno.writeTextFile(`${root}/sub/notes.txt`, "hello");
    const entries: ManifestEntry[] = [];
    for await (const e of walkTree(root)) {
      const content = e.kind === "file" ? await Deno.readFile(`${root}/${e.path}`) : undefined;
      entries.push({
        path: e.path,
        kind: e.kind,
        executable: e.kind === "file" && ((e.info.mode ?? 0) & 0o111) !== 0,
        size: content?.length ?? 0,
        mtime: e.kind === "file" ? Math.max(0, e.info.mtime?.getTime() ?? 0) : 0,
        sha256: content ? new Uint8Array(createHash("sha256").update(content).digest()) : ZERO,
      });
    }
    const identity = await ownerIdentity();
    const h = header(entries, { ownerFingerprint: identity.public.fingerprint, name: "share" });
    const headerBytes = encodeManifestHeader(h);
    const hasher = new ManifestHasher(headerBytes);
    for (const e of entries) hasher.update(encodeManifestEntry(e));
    const signatures = await signManifest(identity, hasher.digest());
    const read = readAll(headerBytes, await pagesOf(entries));
    assert.deepEqual(read.entries.map((e) => [e.path, e.kind, e.executable, e.size]), [
      ["run.sh", "file", true, 10],
      ["sub", "folder", false, 0],
      ["sub/empty", "folder", false, 0],
      ["sub/notes.txt", "file", false, 5],
    ]);
    await verifyManifest(identity.public, h, read.hash, signatures);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
