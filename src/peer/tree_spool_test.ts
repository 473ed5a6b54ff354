import assert from "node:assert/strict";
import { encodeManifestEntry, type ManifestEntry } from "./manifest.ts";
import { ManifestReader } from "./manifest_reader.ts";
import { spooledEntries, spoolPages } from "./tree_spool.ts";
import { isSfsError } from "../errors.ts";
import { encodeManifestHeader } from "./manifest.ts";

/** A spool file of `count` file entries under `dir`, each with a long path; returns its path. */
function writeSpool(dir: string, count: number): { path: string; entries: ManifestEntry[] } {
  const entries: ManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  const folder = `folder-${"x".repeat(150)}`;
  entries.push({
    path: folder,
    kind: "folder",
    executable: false,
    size: 0,
    mtime: 0,
    sha256: new Uint8Array(32),
  });
  for (let i = 0; i < count; i++) {
    const name = `${folder}/file-${String(i).padStart(6, "0")}`;
    entries.push({
      path: name,
      kind: "file",
      executable: false,
      size: 1,
      mtime: i,
      sha256: new Uint8Array(32).fill(i & 0xff),
    });
  }
  for (const entry of entries) parts.push(encodeManifestEntry(entry));
  const path = `${dir}/spool`;
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  Deno.writeFileSync(path, all);
  return { path, entries };
}

Deno.test("spoolPages() cuts the spool into full pages that read back to its entries", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "sfs-tree-spool-" });
  try {
    const { path, entries } = writeSpool(dir, 300);
    const header = encodeManifestHeader({
      ownerFingerprint: new Uint8Array(32),
      name: "share",
      root: "folder",
      createdAt: 1,
      entryCount: entries.length,
      totalBytes: 300,
    });
    const reader = new ManifestReader(header);
    const read: ManifestEntry[] = [];
    const sizes: number[] = [];
    for await (const page of spoolPages(path, 4096)) {
      sizes.push(page.length);
      read.push(...reader.readPage(page));
    }
    reader.finish();
    assert.deepEqual(read.map((e) => e.path), entries.map((e) => e.path));
    assert.ok(sizes.every((size) => size <= 4096));
    // Each page but the last is full: the next entry would not have fitted.
    assert.ok(sizes.slice(0, -1).every((size) => size > 4096 - 200), `${sizes}`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("spoolPages() makes no native buffer per entry or per block beyond its pages", async () => {
  // Issue 11: each entry was copied into its own array and kept until its page was full, and
  // each 1 MiB block of the spool was joined to the rest of the last one in fresh buffers: native
  // memory that only a major GC frees, ~10 MB for 40,000 entries of ~200 bytes beyond the pages
  // themselves. Read into one buffer and laid out in one page buffer, well under 4 MiB.
  const dir = Deno.makeTempDirSync({ prefix: "sfs-tree-spool-" });
  try {
    const { path } = writeSpool(dir, 40_000);
    const before = Deno.memoryUsage().external;
    let most = before;
    let pages = 0;
    let pageBytes = 0;
    for await (const page of spoolPages(path)) {
      pages++;
      pageBytes += page.length;
      most = Math.max(most, Deno.memoryUsage().external - pageBytes);
    }
    assert.ok(pages > 20);
    const grew = most - before;
    assert.ok(grew < 4 * 1024 * 1024, `external memory grew by ${grew} bytes beyond the pages`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("spooledEntries() reports a spool cut inside an entry instead of ending early", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { path, entries } = writeSpool(dir, 3);
    const whole = await Deno.readFile(path);
    await Deno.writeFile(path, whole.subarray(0, whole.length - 10));
    await Deno.writeFile(`${dir}/ids`, new Uint8Array(24 * entries.length));
    const read: string[] = [];
    await assert.rejects(
      async () => {
        for await (const built of spooledEntries(path, `${dir}/ids`, (p) => p)) {
          read.push(built.entry.path);
        }
      },
      (err) => isSfsError(err, "INTERNAL"),
    );
    assert.equal(read.length, entries.length - 1, "every whole entry came out first");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
