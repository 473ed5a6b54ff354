import assert from "node:assert/strict";
import { join } from "node:path";
import { isSfsError } from "../errors.ts";
import { PartFile, type PartInfo } from "./part_file.ts";
import { STATE_FILE_BYTES } from "./resume_state.ts";
import { TargetLock } from "./target_lock.ts";

const INFO: PartInfo = {
  fileId: new Uint8Array(16).fill(1),
  sender: new Uint8Array(32).fill(2),
  sha256: new Uint8Array(32).fill(3),
  size: 100_000,
  chunkSize: 16384,
  name: "f.bin",
};

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sfs-part-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A part file holding `bytes`, with progress recorded. */
async function partWith(dir: string, bytes: Uint8Array): Promise<PartFile> {
  const part = await PartFile.create(dir, "f.bin", false, INFO);
  await part.write(bytes);
  await part.checkpoint();
  return part;
}

Deno.test("PartFile.create() reserves the state file at its full size and rewrites it in place", async () => {
  await withDir(async (dir) => {
    const part = await PartFile.create(dir, "f.bin", false, INFO);
    const before = await Deno.lstat(part.statePath);
    assert.equal(before.size, STATE_FILE_BYTES);
    await part.write(new Uint8Array(10));
    await part.checkpoint();
    const after = await Deno.lstat(part.statePath);
    assert.equal(after.ino, before.ino, "the same file, rewritten");
    assert.equal(after.size, STATE_FILE_BYTES);
    assert.equal(JSON.parse(await Deno.readTextFile(part.statePath)).verified, 10);
    await part.discard();
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  });
});

Deno.test("PartFile of a one-chunk file keeps no state: publish leaves the file, keep nothing", async (t) => {
  const one = { ...INFO, size: INFO.chunkSize };
  await t.step("publish", async () => {
    await withDir(async (dir) => {
      const stale = join(dir, "f.bin.sfs-state");
      await Deno.writeTextFile(stale, "an earlier run's state");
      const part = await PartFile.create(dir, "f.bin", false, one);
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["f.bin.sfs-part"]);
      await part.write(new Uint8Array(10));
      await part.publish();
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["f.bin"]);
    });
  });
  await t.step("keep", async () => {
    await withDir(async (dir) => {
      const part = await PartFile.create(dir, "f.bin", false, one);
      await part.write(new Uint8Array(10));
      await part.keep();
      assert.deepEqual([...Deno.readDirSync(dir)], [], "no part without a state to resume it");
    });
  });
});

Deno.test("PartFile.keep() after a failed rewind keeps the reopened part and its state", async () => {
  await withDir(async (dir) => {
    const part = await partWith(dir, new Uint8Array(20_000));
    await part.keep();
    const reopened = await PartFile.reopen(dir, "f.bin", false, 20_000);
    assert.ok(reopened instanceof PartFile);
    const failure = new Error("rehash failed");
    await assert.rejects(
      reopened.rewind(20_000, INFO, () => {
        throw failure;
      }),
      (err) => err === failure,
    );
    await reopened.keep();
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(left, ["f.bin.sfs-part", "f.bin.sfs-state"]);
    const again = await PartFile.reopen(dir, "f.bin", false, 20_000);
    assert.ok(again instanceof PartFile, "a later run may still resume");
    again.close();
  });
});

Deno.test("PartFile.publish() refuses a part file replaced after it was verified", async (t) => {
  const cases: Array<[string, (part: PartFile, foreign: string) => Promise<void>]> = [
    ["by another file", (part, foreign) => Deno.rename(foreign, part.partPath)],
    ["by a symlink", async (part, foreign) => {
      await Deno.remove(part.partPath);
      await Deno.symlink(foreign, part.partPath);
    }],
  ];
  for (const [what, swap] of cases) {
    await t.step(what, async () => {
      await withDir(async (dir) => {
        const part = await partWith(dir, new TextEncoder().encode("verified"));
        const foreign = join(dir, "foreign.txt");
        await Deno.writeTextFile(foreign, "never verified");
        const keep = join(dir, "keep.txt");
        await Deno.link(foreign, keep);
        await swap(part, foreign);
        await assert.rejects(part.publish(), (err) => isSfsError(err, "IO"));
        await assert.rejects(Deno.lstat(part.finalPath), Deno.errors.NotFound);
        // Nothing of someone else's is deleted or changed on the way out.
        await part.discard();
        assert.equal(await Deno.readTextFile(keep), "never verified");
        assert.ok(await Deno.lstat(part.partPath), "the swapped-in entry is not ours to remove");
      });
    });
  }
});

Deno.test("PartFile.reopen() refuses what an earlier run did not leave, without changing it", async (t) => {
  const cases: Array<[string, (part: string, outside: string) => Promise<void>, RegExp]> = [
    ["a symlink", (part, outside) => Deno.symlink(outside, part), /link/],
    ["a hard link", (part, outside) => Deno.link(outside, part), /other names/],
    ["a folder", (part) => Deno.mkdir(part), /not a regular file/],
    ["a short file", (part) => Deno.writeTextFile(part, "x"), /shorter/],
  ];
  for (const [what, plant, reason] of cases) {
    await t.step(what, async () => {
      await withDir(async (dir) => {
        const outside = join(dir, "outside.txt");
        await Deno.writeTextFile(outside, "someone else's bytes");
        await plant(join(dir, "f.bin.sfs-part"), outside);
        const result = await PartFile.reopen(dir, "f.bin", false, 4);
        assert.ok(!(result instanceof PartFile));
        assert.match(result.reason, reason);
        assert.equal(await Deno.readTextFile(outside), "someone else's bytes");
      });
    });
  }
  await t.step("a file of another user", async () => {
    await withDir(async (dir) => {
      const path = join(dir, "f.bin.sfs-part");
      await Deno.writeTextFile(path, "someone else's bytes");
      try {
        await Deno.chown(path, 4242, null);
      } catch (err) {
        if (err instanceof Deno.errors.PermissionDenied) return; // Needs root; checked in CI.
        throw err;
      }
      const result = await PartFile.reopen(dir, "f.bin", false, 4);
      assert.ok(!(result instanceof PartFile));
      assert.match(result.reason, /another user/);
    });
  });
  await t.step("the control: a part file of ours is reopened", async () => {
    await withDir(async (dir) => {
      await Deno.writeTextFile(join(dir, "f.bin.sfs-part"), "our bytes");
      const result = await PartFile.reopen(dir, "f.bin", false, 4);
      assert.ok(result instanceof PartFile);
      result.close();
    });
  });
});

Deno.test("TargetLock.acquire() refuses a second holder with BUSY until the first releases", async () => {
  await withDir(async (dir) => {
    const target = join(dir, "f.bin");
    const first = await TargetLock.acquire(target);
    await assert.rejects(TargetLock.acquire(target), (err) => isSfsError(err, "BUSY"));
    await first.release();
    assert.deepEqual([...Deno.readDirSync(dir)], [], "the lock file goes with the lock");
    const second = await TargetLock.acquire(target);
    await second.release();
  });
});

Deno.test("TargetLock.acquire() replaces a symlink planted as the lock file, leaving its target", async () => {
  await withDir(async (dir) => {
    const outside = join(dir, "outside.txt");
    await Deno.writeTextFile(outside, "keep");
    await Deno.symlink(outside, join(dir, "f.bin.sfs-lock"));
    const lock = await TargetLock.acquire(join(dir, "f.bin"));
    assert.ok((await Deno.lstat(join(dir, "f.bin.sfs-lock"))).isFile);
    await lock.release();
    assert.equal(await Deno.readTextFile(outside), "keep");
  });
});
