import assert from "node:assert/strict";
import { BufferPool, ChunkBuffers } from "./buffer_pool.ts";
import { TAG_BYTES } from "../crypto/stream.ts";
import { FRAME_HEADER_BYTES } from "../wire/frame.ts";

Deno.test("BufferPool.take() makes at most `count` buffers, then waits for one back", async () => {
  const pool = new BufferPool(2, 8);
  const a = await pool.take();
  const b = await pool.take();
  assert.notEqual(a, b);
  assert.equal(a.length, 8);
  let third: Uint8Array | undefined;
  const waiting = pool.take().then((buffer) => third = buffer);
  await Promise.resolve();
  assert.equal(third, undefined);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(third, undefined, "waits while both are out");
  pool.giveBack(b);
  await waiting;
  assert.equal(third, b);
  pool.giveBack(a);
  assert.equal(await pool.take(), a, "a buffer given back with nobody waiting is kept");
});

Deno.test("ChunkBuffers.next() hands out `count` pairs in turn, then frees them all", () => {
  const buffers = new ChunkBuffers(2, 8);
  const first = buffers.next();
  const second = buffers.next();
  assert.notEqual(first.plaintext, second.plaintext);
  assert.equal(first.plaintext.length, 8);
  assert.equal(first.frame.length, 8 + TAG_BYTES);
  assert.equal(first.frame.byteOffset, FRAME_HEADER_BYTES, "room for the frame header");
  assert.equal(buffers.next(), first);
  assert.equal(buffers.next(), second);
  buffers.release();
  assert.ok(first.plaintext.buffer.detached && first.frame.buffer.detached);
});
