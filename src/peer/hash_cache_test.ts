import assert from "node:assert/strict";
import { DEFAULT_MAX_ENTRIES, HashCache } from "./hash_cache.ts";
import { MIN_AGE_MS } from "./content_stamp.ts";

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

Deno.test("HashCache holds its records without an array buffer each (memory per file)", async () => {
  using dir = tempDir();
  const cache = await HashCache.load(`${dir.path}/hash-cache.bin`);
  const records = 20_000;
  const hash = new Uint8Array(32);
  const info = (i: number) =>
    ({
      isFile: true,
      dev: 2049,
      ino: 1_000_000 + i,
      size: 5000 + i,
      mtime: new Date(1_700_000_000_000 + i),
      ctime: new Date(1_700_000_000_000 + i),
    }) as Deno.FileInfo;
  const before = Deno.memoryUsage().heapUsed + Deno.memoryUsage().external;
  for (let i = 0; i < records; i++) {
    hash[0] = i & 0xff;
    hash[1] = i >> 8;
    cache.set(info(i), hash, LATER);
  }
  // Each record's own Uint8Array held ~900 bytes of RSS; as read from the file, a record is 72.
  const grew = Deno.memoryUsage().heapUsed + Deno.memoryUsage().external - before;
  assert.ok(grew < records * 512, `heap and external memory grew by ${grew} bytes`);
  assert.equal(cache.size, records);
  const back = cache.get(info(300));
  assert.deepEqual([back?.length, back?.[0], back?.[1]], [32, 300 & 0xff, 300 >> 8]);
  await cache.save();
  const again = await HashCache.load(`${dir.path}/hash-cache.bin`);
  assert.deepEqual(
    again.get(info(12_345))?.subarray(0, 2),
    new Uint8Array([12_345 & 0xff, 12_345 >> 8]),
  );
});

Deno.test("HashCache holds 100,000 records in about 90 bytes each (issue 12: RSS per process)", async () => {
  using dir = tempDir();
  const cachePath = `${dir.path}/hash-cache.bin`;
  const records = 100_000;
  await writeMadeUpCache(cachePath, records);
  const used = () => Deno.memoryUsage().heapUsed + Deno.memoryUsage().external;
  const before = used();
  const cache = await HashCache.load(cachePath);
  const grew = used() - before;
  assert.equal(cache.size, records);
  // A Map of a string key and value per record: ~24 MB of heap and external memory here (and
  // twice that in RSS); the records as read are 7.2 MB.
  assert.ok(grew < 12 * 1024 * 1024, `heap and external memory grew by ${grew} bytes`);
  const info = madeUpInfo(77_777);
  assert.deepEqual(cache.get(info), new Uint8Array(32).fill(77_777 % 256));
  // A sender lets go of it once saved (`using`): its memory goes back at once.
  const external = Deno.memoryUsage().external;
  cache[Symbol.dispose]();
  assert.ok(external - Deno.memoryUsage().external > 7_000_000, "the records' memory is back");
  assert.equal(cache.size, 0);
  assert.equal(cache.get(info), undefined);
});

Deno.test("HashCache drops the oldest of a full cache in place instead of growing it", async () => {
  using dir = tempDir();
  const cachePath = `${dir.path}/hash-cache.bin`;
  // Past 2,048 records the slack before dropping (an eighth) is more than the room a load leaves.
  const max = 4096;
  await writeMadeUpCache(cachePath, max);
  const cache = await HashCache.load(cachePath, { maxEntries: max });
  const capacity = cache.capacity;
  assert.equal(cache.size, max);
  const hash = (i: number) => new Uint8Array(32).fill(i % 256);
  for (let i = max; i < 3 * max; i++) {
    cache.set(madeUpInfo(i), hash(i), LATER);
    assert.equal(cache.capacity, capacity, `grew at record ${i}`);
  }
  // The youngest stay: the last one set, and the ones just before it.
  for (const i of [3 * max - 1, 3 * max - 100, 3 * max - 900]) {
    assert.deepEqual(cache.get(madeUpInfo(i)), hash(i), `record ${i}`);
  }
  assert.equal(cache.get(madeUpInfo(0)), undefined);
});

Deno.test("HashCache keeps the most recently used records, with a little slack before it drops", async () => {
  using dir = tempDir();
  const cachePath = `${dir.path}/hash-cache.bin`;
  const info = (i: number) =>
    ({
      isFile: true,
      dev: 2049,
      ino: 500 + i,
      size: 10 + i,
      mtime: new Date(1_700_000_000_000),
      ctime: new Date(1_700_000_000_000),
    }) as Deno.FileInfo;
  const hash = (i: number) => new Uint8Array(32).fill(i);
  const cache = await HashCache.load(cachePath, { maxEntries: 16 });
  for (let i = 0; i < 40; i++) {
    cache.set(info(i), hash(i), LATER);
    if (i % 10 === 9) assert.deepEqual(cache.get(info(0)), hash(0), "record 0 kept young");
    assert.ok(cache.size <= 16 + 2, `${cache.size} records`);
  }
  await cache.save();
  const again = await HashCache.load(cachePath, { maxEntries: 16 });
  assert.equal(again.size, 16);
  // Record 0 (used last at i = 39) and the 15 set last.
  const kept = [0, ...Array.from({ length: 15 }, (_, k) => 25 + k)];
  for (let i = 0; i < 40; i++) {
    assert.deepEqual(again.get(info(i)), kept.includes(i) ? hash(i) : undefined, `record ${i}`);
  }
});

/** Writes a cache file of `count` made-up records (inode 1,000,000 + i, hash bytes all i % 256). */
async function writeMadeUpCache(path: string, count: number): Promise<void> {
  const bytes = new Uint8Array(8 + count * 72);
  bytes.set(new TextEncoder().encode("sfshash1"));
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < count; i++) {
    const at = 8 + i * 72;
    [2049, 1_000_000 + i, 5000 + i, 1_700_000_000_000 + i, 1_700_000_000_000].forEach((n, k) =>
      view.setBigUint64(at + 8 * k, BigInt(n))
    );
    bytes.fill(i % 256, at + 40, at + 72);
  }
  await Deno.writeFile(path, bytes);
}

/** The `stat` of made-up record `i` of {@link writeMadeUpCache}. */
function madeUpInfo(i: number): Deno.FileInfo {
  return {
    isFile: true,
    dev: 2049,
    ino: 1_000_000 + i,
    size: 5000 + i,
    mtime: new Date(1_700_000_000_000 + i),
    ctime: new Date(1_700_000_000_000),
  } as Deno.FileInfo;
}

Deno.test("HashCache.load({ only }) holds just those files and save() keeps every other record", async () => {
  using dir = tempDir();
  const cachePath = `${dir.path}/hash-cache.bin`;
  await writeMadeUpCache(cachePath, 3000);
  const missing = madeUpInfo(5000);
  const cache = await HashCache.load(cachePath, { only: [madeUpInfo(1234), missing] });
  assert.equal(cache.size, 1, "the one found; no placeholder for the missing one");
  assert.deepEqual(cache.get(madeUpInfo(1234)), new Uint8Array(32).fill(1234 % 256));
  assert.equal(cache.get(missing), undefined);
  assert.equal(cache.get(madeUpInfo(7)), undefined, "not asked for: not read");
  cache.set(missing, HASH_A, LATER);
  await cache.save();
  const whole = await HashCache.load(cachePath);
  assert.equal(whole.size, 3001);
  for (const i of [0, 7, 1233, 1234, 1235, 2999]) {
    assert.deepEqual(whole.get(madeUpInfo(i)), new Uint8Array(32).fill(i % 256), `record ${i}`);
  }
  assert.deepEqual(whole.get(missing), HASH_A);
});

Deno.test("HashCache.load({ only }) of a full cache drops the oldest on save()", async () => {
  using dir = tempDir();
  const cachePath = `${dir.path}/hash-cache.bin`;
  await writeMadeUpCache(cachePath, 100);
  const fresh = [100, 101, 102].map(madeUpInfo);
  const cache = await HashCache.load(cachePath, {
    maxEntries: 100,
    only: [madeUpInfo(50), ...fresh],
  });
  assert.ok(cache.get(madeUpInfo(50)), "record 50 used again");
  fresh.forEach((info) => cache.set(info, HASH_B, LATER));
  await cache.save();
  const whole = await HashCache.load(cachePath, { maxEntries: 100 });
  assert.equal(whole.size, 100);
  // Four in memory (the youngest); of the file's others the 96 youngest: 3 to 99 but 50.
  for (let i = 0; i < 103; i++) {
    const expected = i >= 100 ? HASH_B : i >= 3 ? new Uint8Array(32).fill(i) : undefined;
    assert.deepEqual(whole.get(madeUpInfo(i)), expected, `record ${i}`);
  }
});

Deno.test("HashCache.load({ only }) of a missing or damaged file holds nothing", async (t) => {
  using dir = tempDir();
  const cachePath = `${dir.path}/hash-cache.bin`;
  await t.step("missing", async () => {
    const cache = await HashCache.load(cachePath, { only: [madeUpInfo(1)] });
    assert.equal(cache.size, 0);
    assert.equal(cache.get(madeUpInfo(1)), undefined, "a placeholder is never a hit");
  });
  await t.step("cut inside a record", async () => {
    await writeMadeUpCache(cachePath, 10);
    await Deno.truncate(cachePath, 8 + 9 * 72 + 30);
    const cache = await HashCache.load(cachePath, { only: [madeUpInfo(1)] });
    assert.equal(cache.size, 0);
    assert.equal(cache.get(madeUpInfo(1)), undefined);
  });
});

Deno.test("HashCache.save() writes a hit back only when its record was in the older half", async (t) => {
  using dir = tempDir();
  const cachePath = `${dir.path}/hash-cache.bin`;
  await writeMadeUpCache(cachePath, 100);
  const lastIno = async () => {
    const bytes = await Deno.readFile(cachePath);
    return Number(new DataView(bytes.buffer).getBigUint64(bytes.length - 72 + 8));
  };
  for (const only of [true, false]) {
    await t.step(`${only ? "partial" : "whole"} load: a young record`, async () => {
      const before = await Deno.stat(cachePath);
      const cache = await HashCache.load(cachePath, {
        maxEntries: 100,
        ...(only ? { only: [madeUpInfo(70)] } : {}),
      });
      assert.deepEqual(cache.get(madeUpInfo(70)), new Uint8Array(32).fill(70));
      await cache.save();
      assert.equal((await Deno.stat(cachePath)).ino, before.ino, "not written again");
    });
    const old = only ? 10 : 20;
    await t.step(`${only ? "partial" : "whole"} load: an old record`, async () => {
      const cache = await HashCache.load(cachePath, {
        maxEntries: 100,
        ...(only ? { only: [madeUpInfo(old)] } : {}),
      });
      assert.deepEqual(cache.get(madeUpInfo(old)), new Uint8Array(32).fill(old));
      await cache.save();
      assert.equal(await lastIno(), 1_000_000 + old, "written back as the youngest");
      assert.equal((await HashCache.load(cachePath)).size, 100);
    });
  }
});
