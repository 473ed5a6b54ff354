import assert from "node:assert/strict";
import { DEFAULT_MAX_ENTRIES, HashCache, MIN_AGE_MS } from "./hash_cache.ts";

/** A temporary folder, removed when the test's `using` scope ends. */
function tempDir(): { path: string } & Disposable {
  const path = Deno.makeTempDirSync({ prefix: "sfs-hash-cache-" });
  return { path, [Symbol.dispose]: () => Deno.removeSync(path, { recursive: true }) };
}

const HASH_A = new Uint8Array(32).fill(0xaa);
const HASH_B = new Uint8Array(32).fill(0xbb);
/** A hashing start long after any file a test just wrote: old enough to cache. */
const LATER = Date.now() + 60_000;

Deno.test("HashCache keeps a hash across save() and load() until the file changes", async () => {
  using dir = tempDir();
  const cachePath = `${dir.path}/hash-cache.bin`;
  const file = `${dir.path}/data`;
  await Deno.writeTextFile(file, "content");
  const before = await Deno.stat(file);
  const cache = await HashCache.load(cachePath);
  assert.equal(cache.get(before), undefined);
  cache.set(before, HASH_A, LATER);
  await cache.save();
  assert.equal((await Deno.stat(cachePath)).mode! & 0o777, 0o600);

  const again = await HashCache.load(cachePath);
  assert.deepEqual(again.get(await Deno.stat(file)), HASH_A);
  // New content of another size: the size differs (and mtime/ctime too).
  await Deno.writeTextFile(file, "other content");
  assert.equal(again.get(await Deno.stat(file)), undefined);
  // Same size, only the modification time changed.
  await Deno.writeTextFile(file, "content");
  await Deno.utime(file, before.atime!, new Date(before.mtime!.getTime() - 5000));
  assert.equal(again.get(await Deno.stat(file)), undefined);
});

Deno.test("HashCache.set() skips a file changed just before hashing began", async () => {
  using dir = tempDir();
  const file = `${dir.path}/data`;
  await Deno.writeTextFile(file, "content");
  const info = await Deno.stat(file);
  const cache = await HashCache.load(`${dir.path}/hash-cache.bin`);
  cache.set(info, HASH_A, info.mtime!.getTime() + MIN_AGE_MS - 1);
  assert.equal(cache.get(info), undefined);
  cache.set(info, HASH_A, Math.max(info.mtime!.getTime(), info.ctime!.getTime()) + MIN_AGE_MS);
  assert.deepEqual(cache.get(info), HASH_A);
});

Deno.test("HashCache drops the least recently used record past its bound", async () => {
  using dir = tempDir();
  const infos: Deno.FileInfo[] = [];
  for (const name of ["a", "b", "c"]) {
    await Deno.writeTextFile(`${dir.path}/${name}`, name);
    infos.push(await Deno.stat(`${dir.path}/${name}`));
  }
  const cachePath = `${dir.path}/hash-cache.bin`;
  const cache = await HashCache.load(cachePath, { maxEntries: 2 });
  cache.set(infos[0], HASH_A, LATER);
  cache.set(infos[1], HASH_B, LATER);
  cache.get(infos[0]);
  cache.set(infos[2], HASH_B, LATER);
  assert.equal(cache.size, 2);
  assert.equal(cache.get(infos[1]), undefined);
  await cache.save();
  const again = await HashCache.load(cachePath, { maxEntries: 2 });
  assert.deepEqual(again.get(infos[0]), HASH_A);
  assert.deepEqual(again.get(infos[2]), HASH_B);
});

Deno.test("HashCache.load() reads a damaged or planted file as an empty cache", async (t) => {
  using dir = tempDir();
  const cachePath = `${dir.path}/hash-cache.bin`;
  await Deno.writeTextFile(`${dir.path}/data`, "content");
  const info = await Deno.stat(`${dir.path}/data`);
  const good = await HashCache.load(cachePath);
  good.set(info, HASH_A, LATER);
  await good.save();
  const bytes = await Deno.readFile(cachePath);
  const cases: Array<[string, Uint8Array]> = [
    ["a truncated record", bytes.subarray(0, bytes.length - 1)],
    ["another magic", bytes.with(0, 0x53)],
    ["JSON", new TextEncoder().encode('{"__proto__": {"polluted": true}}')],
    ["a file over the bound", new Uint8Array(8 + (DEFAULT_MAX_ENTRIES + 1) * 72)],
    ["an empty file", new Uint8Array()],
  ];
  for (const [name, planted] of cases) {
    await t.step(name, async () => {
      await Deno.writeFile(cachePath, planted);
      const cache = await HashCache.load(cachePath);
      assert.equal(cache.size, 0);
      assert.equal(cache.get(info), undefined);
    });
  }
  await t.step("a folder in its place", async () => {
    await Deno.remove(cachePath);
    await Deno.mkdir(cachePath);
    assert.equal((await HashCache.load(cachePath)).size, 0);
  });
});
