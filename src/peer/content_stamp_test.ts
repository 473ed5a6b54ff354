import assert from "node:assert/strict";
import { join } from "node:path";
import { hasStamp, MIN_AGE_MS, settledStampOf, stampOf } from "./content_stamp.ts";

async function withFile(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "f.bin");
    await Deno.writeFile(path, new Uint8Array([1, 2, 3]));
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Deno gives the change time in whole seconds: a change must fall in a later second to show. */
function nextSecond(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1100));
}

Deno.test("stampOf() gives every field of a regular file and nothing for a folder", async () => {
  await withFile(async (path) => {
    const info = await Deno.stat(path);
    assert.deepEqual(stampOf(info), {
      dev: info.dev,
      ino: info.ino,
      size: 3,
      mtimeMs: info.mtime!.getTime(),
      ctimeMs: info.ctime!.getTime(),
    });
    assert.equal(stampOf(await Deno.stat(join(path, ".."))), undefined);
  });
});

Deno.test("settledStampOf() needs MIN_AGE_MS without a change before the hash began", async () => {
  await withFile(async (path) => {
    const info = await Deno.stat(path);
    const changed = Math.max(info.mtime!.getTime(), info.ctime!.getTime());
    assert.equal(settledStampOf(info, changed + MIN_AGE_MS - 1), undefined);
    assert.deepEqual(settledStampOf(info, changed + MIN_AGE_MS), stampOf(info));
    // A file changed "in the future" (a clock set back) is never settled.
    assert.equal(settledStampOf(info, changed - 5000), undefined);
  });
});

Deno.test("hasStamp() sees an edit with the modification time put back, a chmod and a swap", async () => {
  await withFile(async (path) => {
    const before = await Deno.stat(path);
    const stamp = stampOf(before)!;
    assert.ok(hasStamp(await Deno.stat(path), stamp));
    await nextSecond();
    await Deno.writeFile(path, new Uint8Array([9, 2, 3]));
    await Deno.utime(path, before.atime!, before.mtime!);
    const edited = await Deno.stat(path);
    assert.equal(edited.size, before.size);
    assert.equal(edited.mtime!.getTime(), before.mtime!.getTime());
    assert.equal(hasStamp(edited, stamp), false, "the change time moved");

    const again = stampOf(edited)!;
    await nextSecond();
    await Deno.chmod(path, 0o600);
    assert.equal(hasStamp(await Deno.stat(path), again), false, "chmod moves it too");

    const other = join(path, "..", "other.bin");
    await Deno.writeFile(other, new Uint8Array([9, 2, 3]));
    const now = stampOf(await Deno.stat(path))!;
    await Deno.rename(other, path);
    assert.equal(hasStamp(await Deno.stat(path), now), false, "another inode");
  });
});
