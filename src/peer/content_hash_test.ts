import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { isSfsError } from "../errors.ts";
import { toHex } from "../crypto/bytes.ts";
import { hashContent, hasherAt } from "./content_hash.ts";

const INTERVAL = 16 * 1024;

async function withFile(
  content: Uint8Array,
  use: (path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sfs-content-hash-" });
  try {
    const path = join(dir, "f.bin");
    await Deno.writeFile(path, content);
    await use(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function random(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

Deno.test("hashContent() keeps one state per whole interval and the SHA-256 of the file", async (t) => {
  for (const size of [0, 1, INTERVAL - 1, INTERVAL, INTERVAL + 1, 3 * INTERVAL + 5]) {
    await t.step(`${size} bytes`, async () => {
      const content = random(size);
      await withFile(content, async (path) => {
        using file = await Deno.open(path);
        const hashed = await hashContent(file, { interval: INTERVAL });
        assert.equal(hashed.size, size);
        assert.equal(Buffer.from(hashed.sha256).toString("hex"), sha256Hex(content));
        assert.equal(hashed.midstates.length, Math.floor(size / INTERVAL));
      });
    });
  }
});

Deno.test("hashContent() without states (a tree's files) gives the same SHA-256 and keeps none", async (t) => {
  // Issue 11: a tree never resumes from the states, and the `node:crypto` Hash each one needs held
  // native memory per file until a major GC; without states the hasher is src/crypto/sha256.ts's.
  for (const size of [0, 1, INTERVAL, 3 * INTERVAL + 5]) {
    await t.step(`${size} bytes`, async () => {
      const content = random(size);
      await withFile(content, async (path) => {
        using file = await Deno.open(path);
        const hashed = await hashContent(file, {
          interval: INTERVAL,
          keepStates: false,
          // A file that grew since its `fstat` is still read to its end.
          expectedSize: Math.floor(size / 2),
        });
        assert.equal(hashed.size, size);
        assert.equal(Buffer.from(hashed.sha256).toString("hex"), sha256Hex(content));
        assert.deepEqual(hashed.midstates, []);
      });
    });
  }
});

Deno.test("hasherAt() resumes the file's SHA-256 at any offset and leaves the handle there", async (t) => {
  const size = 3 * INTERVAL + 5;
  const content = random(size);
  await withFile(content, async (path) => {
    using file = await Deno.open(path);
    const hashed = await hashContent(file, { interval: INTERVAL });
    const offsets = [0, 1, INTERVAL - 1, INTERVAL, INTERVAL + 1, 3 * INTERVAL, size - 1, size];
    for (const offset of offsets) {
      await t.step(`offset ${offset}`, async () => {
        const hasher = await hasherAt(file, hashed, offset, "f.bin");
        // The rest as a sender would read it for sending, from where hasherAt left the handle.
        const rest = new Uint8Array(size - offset);
        let filled = 0;
        while (filled < rest.length) filled += (await file.read(rest.subarray(filled)))!;
        assert.deepEqual(rest, content.subarray(offset));
        hasher.update(rest);
        assert.equal(toHex(await hasher.digest()), sha256Hex(content));
      });
    }
    await t.step("the kept states are not used up", async () => {
      const hasher = await hasherAt(file, hashed, 2 * INTERVAL, "f.bin");
      hasher.update(content.subarray(2 * INTERVAL));
      assert.equal(toHex(await hasher.digest()), sha256Hex(content));
    });
  });
});

Deno.test("hasherAt() reports FILE_CHANGED when the file is now shorter than the offset", async () => {
  const content = random(2 * INTERVAL + 100);
  await withFile(content, async (path) => {
    using file = await Deno.open(path);
    const hashed = await hashContent(file, { interval: INTERVAL });
    await Deno.truncate(path, INTERVAL + 10);
    await assert.rejects(
      hasherAt(file, hashed, 2 * INTERVAL + 50, "f.bin"),
      (err) => isSfsError(err, "FILE_CHANGED"),
    );
  });
});
