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
  let done!: () => void;
  pool.giveBackAfter(new Promise<void>((resolve) => done = resolve), b);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(third, undefined, "given back only once its use settled");
  done();
  await waiting;
  assert.equal(third, b);
});

Deno.test("BufferPool.giveBackAfter() keeps a buffer whose use failed", async () => {
  const pool = new BufferPool(1, 4);
  const only = await pool.take();
  const failed = Promise.reject(new Error("write failed"));
  pool.giveBackAfter(failed, only);
  await failed.catch(() => {});
  let taken = false;
  pool.take().then(() => taken = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(taken, false);
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
