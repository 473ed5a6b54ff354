import assert from "node:assert/strict";
import { type ErrorCode, isSfsError } from "../errors.ts";
import { type Bytes, concat, toHex } from "./bytes.ts";
import { AeadKey, type BackendHint } from "./aead.ts";
import { WEBCRYPTO_AEAD } from "./aead_webcrypto.ts";
import {
  chunkCount,
  chunkLength,
  chunkNonce,
  MIN_CHUNK_SIZE,
  openChunk,
  sealChunk,
  StreamOpener,
  TAG_BYTES,
} from "./stream.ts";

const CHUNK = MIN_CHUNK_SIZE;

function content(size: number): Bytes {
  return Uint8Array.from({ length: size }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
}

function newKey(): Promise<AeadKey> {
  return AeadKey.import(crypto.getRandomValues(new Uint8Array(32)), { backend: WEBCRYPTO_AEAD });
}

/** Seals `data` as a stream the way a sender does. */
async function sealAll(key: AeadKey, data: Bytes, chunkSize = CHUNK): Promise<Bytes[]> {
  const count = chunkCount(data.length, chunkSize);
  const chunks: Bytes[] = [];
  for (let index = 0; index < count; index++) {
    const plaintext = data.subarray(index * chunkSize, index * chunkSize + chunkSize);
    chunks.push(await sealChunk(key, index, index === count - 1, plaintext));
  }
  return chunks;
}

function flip(bytes: Bytes, index: number): Bytes {
  const out = new Uint8Array(bytes);
  out[index < 0 ? out.length + index : index] ^= 0x01;
  return out;
}

function isCode(code: ErrorCode): (err: unknown) => boolean {
  return (err) => isSfsError(err, code);
}

/**
 * Feeds `chunks` to a fresh opener for a file of `size` bytes, then calls finish(); returns the
 * plaintext or throws the first error, as a receiver would.
 */
async function receive(key: AeadKey, size: number, chunks: Bytes[]): Promise<Bytes> {
  const opener = new StreamOpener(key, { size, chunkSize: CHUNK });
  const parts: Bytes[] = [];
  for (const chunk of chunks) parts.push(await opener.open(chunk));
  opener.finish();
  return concat(...parts);
}

Deno.test("StreamOpener opens what sealChunk() sealed, for edge sizes", async (t) => {
  const key = await newKey();
  const sizes: [string, number][] = [
    ["0 bytes", 0],
    ["1 byte", 1],
    ["chunk − 1", CHUNK - 1],
    ["chunk", CHUNK],
    ["chunk + 1", CHUNK + 1],
    ["several chunks", 3 * CHUNK + 5],
  ];
  for (const [name, size] of sizes) {
    await t.step(name, async () => {
      const data = content(size);
      const chunks = await sealAll(key, data);
      assert.equal(chunks.length, Math.max(1, Math.ceil(size / CHUNK)));
      assert.equal(chunks.reduce((n, c) => n + c.length, 0), size + chunks.length * TAG_BYTES);
      const opener = new StreamOpener(key, { size, chunkSize: CHUNK });
      const parts: Bytes[] = [];
      for (const [index, chunk] of chunks.entries()) {
        assert.equal(opener.done, false);
        assert.equal(opener.nextIndex, index);
        parts.push(await opener.open(chunk));
      }
      assert.equal(opener.done, true);
      opener.finish();
      assert.deepEqual(concat(...parts), data);
    });
  }
});

Deno.test("StreamOpener resumes from chunk `first`", async () => {
  const key = await newKey();
  const data = content(3 * CHUNK + 5);
  const chunks = await sealAll(key, data);
  const opener = new StreamOpener(key, { size: data.length, chunkSize: CHUNK, first: 2 });
  assert.equal(opener.nextIndex, 2);
  const parts = [await opener.open(chunks[2]), await opener.open(chunks[3])];
  opener.finish();
  assert.deepEqual(concat(...parts), data.subarray(2 * CHUNK));
});

Deno.test("StreamOpener.open() takes indices in call order when calls overlap", async () => {
  const key = await newKey();
  const data = content(4 * CHUNK);
  const chunks = await sealAll(key, data);
  const opener = new StreamOpener(key, { size: data.length, chunkSize: CHUNK });
  const parts = await Promise.all(chunks.map((chunk) => opener.open(chunk)));
  opener.finish();
  assert.deepEqual(concat(...parts), data);
});

Deno.test("StreamOpener rejects a tampered or rearranged stream", async (t) => {
  const key = await newKey();
  // Whole chunks only, so every ciphertext has the same length and only the nonce can tell
  // a moved chunk from the one that belongs there.
  const size = 3 * CHUNK;
  const [c0, c1, c2] = await sealAll(key, content(size));
  const otherKey = await newKey();
  const cases: [string, Bytes[], ErrorCode][] = [
    ["flipped ciphertext byte", [c0, flip(c1, 5), c2], "CHUNK_AUTH_FAILED"],
    ["flipped tag", [c0, flip(c1, -1), c2], "CHUNK_AUTH_FAILED"],
    ["flipped first byte of the first chunk", [flip(c0, 0), c1, c2], "CHUNK_AUTH_FAILED"],
    ["swapped chunks", [c1, c0, c2], "CHUNK_AUTH_FAILED"],
    ["duplicated chunk", [c0, c0, c1, c2], "CHUNK_AUTH_FAILED"],
    ["dropped middle chunk", [c0, c2], "CHUNK_AUTH_FAILED"],
    ["dropped last chunk", [c0, c1], "TRUNCATED"],
    ["no chunk at all", [], "TRUNCATED"],
    ["last chunk repeated after the end", [c0, c1, c2, c2], "TRAILING_DATA"],
    ["one byte too many", [c0, concat(c1, Uint8Array.of(0)), c2], "CHUNK_AUTH_FAILED"],
    ["one byte too few", [c0, c1.slice(0, -1), c2], "CHUNK_AUTH_FAILED"],
    ["empty chunk", [c0, new Uint8Array(), c2], "CHUNK_AUTH_FAILED"],
    [
      "chunk sealed as last too early",
      [c0, await sealChunk(key, 1, true, content(CHUNK)), c2],
      "CHUNK_AUTH_FAILED",
    ],
    [
      "last chunk sealed as not last",
      [c0, c1, await sealChunk(key, 2, false, content(CHUNK))],
      "CHUNK_AUTH_FAILED",
    ],
    [
      "chunk under another key",
      [c0, await sealChunk(otherKey, 1, false, content(CHUNK)), c2],
      "CHUNK_AUTH_FAILED",
    ],
  ];
  for (const [name, chunks, code] of cases) {
    await t.step(name, async () => {
      await assert.rejects(receive(key, size, chunks), isCode(code));
    });
  }
  await t.step("a properly sealed chunk after the last one", async () => {
    const extra = await sealChunk(key, 3, true, content(CHUNK));
    await assert.rejects(receive(key, size, [c0, c1, c2, extra]), isCode("TRAILING_DATA"));
  });
  await t.step("the empty last chunk of an empty file, repeated", async () => {
    const [empty] = await sealAll(key, new Uint8Array());
    assert.deepEqual(await receive(key, 0, [empty]), new Uint8Array());
    await assert.rejects(receive(key, 0, [empty, empty]), isCode("TRAILING_DATA"));
  });
  await t.step("a stream longer than the manifest says", async () => {
    // A sender claiming 2 chunks but sealing 3: chunk 1 is not marked last.
    await assert.rejects(receive(key, 2 * CHUNK, [c0, c1]), isCode("CHUNK_AUTH_FAILED"));
  });
});

Deno.test("StreamOpener errors are sticky", async (t) => {
  const key = await newKey();
  const size = 3 * CHUNK;
  const [c0, c1, c2] = await sealAll(key, content(size));

  await t.step("after a failed chunk, a valid next chunk fails the same way", async () => {
    const opener = new StreamOpener(key, { size, chunkSize: CHUNK });
    await opener.open(c0);
    await assert.rejects(opener.open(flip(c1, 3)), isCode("CHUNK_AUTH_FAILED"));
    await assert.rejects(opener.open(c2), isCode("CHUNK_AUTH_FAILED"));
    // Retrying the good chunk that failed does not revive the stream either.
    await assert.rejects(opener.open(c1), isCode("CHUNK_AUTH_FAILED"));
    assert.throws(() => opener.finish(), isCode("CHUNK_AUTH_FAILED"));
  });

  await t.step("after a wrong length, the stream stays dead", async () => {
    const opener = new StreamOpener(key, { size, chunkSize: CHUNK });
    await assert.rejects(opener.open(c0.slice(1)), isCode("CHUNK_AUTH_FAILED"));
    await assert.rejects(opener.open(c1), isCode("CHUNK_AUTH_FAILED"));
  });

  await t.step("after TRAILING_DATA, finish() fails too", async () => {
    const opener = new StreamOpener(key, { size, chunkSize: CHUNK });
    for (const chunk of [c0, c1, c2]) await opener.open(chunk);
    await assert.rejects(opener.open(c2), isCode("TRAILING_DATA"));
    assert.throws(() => opener.finish(), isCode("TRAILING_DATA"));
  });

  await t.step("after TRUNCATED, open() fails with TRUNCATED", async () => {
    const opener = new StreamOpener(key, { size, chunkSize: CHUNK });
    await opener.open(c0);
    assert.throws(() => opener.finish(), isCode("TRUNCATED"));
    await assert.rejects(opener.open(c1), isCode("TRUNCATED"));
    assert.throws(() => opener.finish(), isCode("TRUNCATED"));
  });
});

Deno.test("openChunk() rejects a flipped tag, the wrong index and the wrong last flag", async (t) => {
  const key = await newKey();
  const plaintext = content(100);
  const sealed = await sealChunk(key, 7, false, plaintext);
  assert.deepEqual(await openChunk(key, 7, false, sealed), plaintext);
  const cases: [string, number, boolean, Bytes][] = [
    ["flipped tag", 7, false, flip(sealed, -1)],
    ["flipped ciphertext", 7, false, flip(sealed, 0)],
    ["wrong index", 8, false, sealed],
    ["wrong last flag", 7, true, sealed],
    ["no tag", 7, false, sealed.slice(0, -TAG_BYTES)],
  ];
  for (const [name, index, last, ciphertext] of cases) {
    await t.step(name, async () => {
      await assert.rejects(openChunk(key, index, last, ciphertext), isCode("CHUNK_AUTH_FAILED"));
    });
  }
});

Deno.test("chunkNonce() is an 88-bit big-endian index and a last flag", async (t) => {
  const cases: [number, boolean, string][] = [
    [0, false, "000000000000000000000000"],
    [0, true, "000000000000000000000001"],
    [1, false, "000000000000000000000100"],
    [0x0102, true, "000000000000000000010201"],
    [0x0102030405, false, "000000000000010203040500"],
    [Number.MAX_SAFE_INTEGER, true, "000000001fffffffffffff01"],
  ];
  for (const [index, last, hex] of cases) {
    await t.step(`${index}, ${last}`, () => assert.equal(toHex(chunkNonce(index, last)), hex));
  }
  await t.step("refuses indices outside 0 … 2^53 − 1", () => {
    for (const index of [-1, 0.5, 2 ** 53, NaN, Infinity]) {
      assert.throws(() => chunkNonce(index, false), isCode("INTERNAL"));
    }
  });
});

Deno.test("chunkCount() and chunkLength() cut a file as the spec says", () => {
  assert.equal(chunkCount(0, CHUNK), 1);
  assert.equal(chunkCount(1, CHUNK), 1);
  assert.equal(chunkCount(CHUNK, CHUNK), 1);
  assert.equal(chunkCount(CHUNK + 1, CHUNK), 2);
  assert.equal(chunkLength(0, CHUNK, 0), 0);
  assert.equal(chunkLength(CHUNK + 1, CHUNK, 0), CHUNK);
  assert.equal(chunkLength(CHUNK + 1, CHUNK, 1), 1);
  assert.equal(chunkLength(2 * CHUNK, CHUNK, 1), CHUNK);
});

Deno.test("StreamOpener.open() never yields a chunk after a failed one, even in flight", async () => {
  const key = await newKey();
  const chunkSize = MIN_CHUNK_SIZE;
  const size = 3 * chunkSize;
  const sealed = await Promise.all(
    [0, 1, 2].map((i) => sealChunk(key, i, i === 2, new Uint8Array(chunkSize).fill(i))),
  );
  sealed[0][5] ^= 1;
  const opener = new StreamOpener(key, { size, chunkSize });
  // All three decrypt side by side; chunks 1 and 2 are valid on their own.
  const results = await Promise.allSettled(sealed.map((chunk) => opener.open(chunk)));
  assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected", "rejected"]);
  for (const r of results) {
    assert.ok(r.status === "rejected" && isSfsError(r.reason, "CHUNK_AUTH_FAILED"));
  }
});

Deno.test("StreamOpener tells its key how many bytes are left to open", async () => {
  const hints: BackendHint[] = [];
  const choose = (hint: BackendHint) => {
    hints.push(hint);
    return WEBCRYPTO_AEAD;
  };
  const raw = crypto.getRandomValues(new Uint8Array(32));
  using fresh = AeadKey.deferred(raw, { backend: choose });
  new StreamOpener(fresh, { size: 100_000, chunkSize: 16384 });
  await fresh.seal(new Uint8Array(12), new Uint8Array(0));
  using resumed = AeadKey.deferred(raw, { backend: choose });
  new StreamOpener(resumed, { size: 100_000, chunkSize: 16384, first: 2 });
  await resumed.seal(new Uint8Array(12), new Uint8Array(0));
  assert.deepEqual(hints, [{ bytes: 100_000 }, { bytes: 100_000 - 2 * 16384 }]);
});
