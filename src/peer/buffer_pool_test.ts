import assert from "node:assert/strict";
import { ChunkBuffers, Ring } from "./buffer_pool.ts";
import { TAG_BYTES } from "../crypto/stream.ts";
import { FRAME_HEADER_BYTES } from "../wire/frame.ts";

Deno.test("Ring.next() makes at most `count` items, on first use, and hands them out in turn", () => {
  let made = 0;
  const ring = new Ring(3, () => ({ n: made++ }));
  const first = ring.next();
  assert.equal(made, 1, "one item for one use");
  const second = ring.next();
  const third = ring.next();
  assert.equal(new Set([first, second, third]).size, 3);
  assert.equal(ring.next(), first, "the fourth use gets the first item");
  assert.equal(ring.next(), second);
  assert.equal(made, 3);
  assert.deepEqual(ring.takeAll(), [first, second, third]);
  assert.notEqual(ring.next(), first, "an emptied ring makes new items");
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
