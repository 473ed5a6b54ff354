import assert from "node:assert/strict";
import { type ErrorCode, isSfsError } from "../errors.ts";
import { ByteReader, ByteWriter } from "./encoding.ts";

/** Asserts that `fn` throws an SfsError with `code`. */
function assertCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (err) => isSfsError(err, code));
}

function reader(...bytes: number[]): ByteReader {
  return new ByteReader(Uint8Array.from(bytes), "test");
}

Deno.test("ByteWriter and ByteReader round-trip every field type", () => {
  const bytes = new ByteWriter()
    .u8(0xab)
    .u16(0xbeef)
    .u32(0xdeadbeef)
    .u64(Number.MAX_SAFE_INTEGER)
    .raw(Uint8Array.of(1, 2, 3))
    .bytes16(Uint8Array.of(4, 5))
    .bytes32(Uint8Array.of(6))
    .text("héllo ✓")
    .list([7, 8, 9], (w, item) => w.u8(item))
    .finish();
  const r = new ByteReader(bytes, "test");
  assert.equal(r.u8(), 0xab);
  assert.equal(r.u16(), 0xbeef);
  assert.equal(r.u32(), 0xdeadbeef);
  assert.equal(r.u64(), Number.MAX_SAFE_INTEGER);
  assert.deepEqual(r.raw(3), Uint8Array.of(1, 2, 3));
  assert.deepEqual(r.bytes16(), Uint8Array.of(4, 5));
  assert.deepEqual(r.bytes32(10), Uint8Array.of(6));
  assert.equal(r.text(), "héllo ✓");
  assert.deepEqual(r.list(3, (x) => x.u8()), [7, 8, 9]);
  assert.equal(r.remaining, 0);
  r.end();
});

Deno.test("ByteWriter writes big-endian integers and length prefixes", () => {
  const bytes = new ByteWriter().u16(0x0102).u32(0x03040506).u64(0x0708090a0b0c).bytes16(
    Uint8Array.of(0xff),
  ).text("").finish();
  assert.deepEqual(
    bytes,
    Uint8Array.of(1, 2, 3, 4, 5, 6, 0, 0, 7, 8, 9, 10, 11, 12, 0, 1, 0xff, 0, 0),
  );
});

Deno.test("ByteWriter refuses values that do not fit their field", async (t) => {
  const cases: [string, () => unknown][] = [
    ["u8 256", () => new ByteWriter().u8(256)],
    ["u8 -1", () => new ByteWriter().u8(-1)],
    ["u16 65536", () => new ByteWriter().u16(0x10000)],
    ["u32 2^32", () => new ByteWriter().u32(2 ** 32)],
    ["u64 2^53", () => new ByteWriter().u64(2 ** 53)],
    ["u64 fraction", () => new ByteWriter().u64(1.5)],
    ["u16 NaN", () => new ByteWriter().u16(NaN)],
    ["bytes16 of 65536 bytes", () => new ByteWriter().bytes16(new Uint8Array(0x10000))],
  ];
  for (const [name, fn] of cases) {
    await t.step(name, () => assertCode(fn, "INTERNAL"));
  }
});

Deno.test("ByteReader methods reject short input with BAD_MESSAGE", async (t) => {
  const cases: [string, () => unknown][] = [
    ["u8 of nothing", () => reader().u8()],
    ["u16 of 1 byte", () => reader(1).u16()],
    ["u32 of 3 bytes", () => reader(1, 2, 3).u32()],
    ["u64 of 7 bytes", () => reader(0, 0, 0, 0, 0, 0, 0).u64()],
    ["raw(4) of 3 bytes", () => reader(1, 2, 3).raw(4)],
    ["bytes16 without its length", () => reader(0).bytes16()],
    ["bytes16 shorter than its length", () => reader(0, 3, 1, 2).bytes16()],
    ["bytes32 without its length", () => reader(0, 0, 0).bytes32(10)],
    ["bytes32 shorter than its length", () => reader(0, 0, 0, 2, 1).bytes32(10)],
    ["text shorter than its length", () => reader(0, 2, 0x61).text()],
    ["list without its count", () => reader(0).list(5, (r) => r.u8())],
    ["list shorter than its count", () => reader(0, 2, 1).list(5, (r) => r.u8())],
  ];
  for (const [name, fn] of cases) {
    await t.step(name, () => assertCode(fn, "BAD_MESSAGE"));
  }
});

Deno.test("ByteReader.end() rejects trailing bytes", () => {
  const r = reader(1, 2);
  r.u8();
  assertCode(() => r.end(), "BAD_MESSAGE");
  r.u8();
  r.end();
});

Deno.test("ByteReader checks maximum lengths before slicing", async (t) => {
  // Each length prefix claims more than the maximum *and* more than is there: the maximum
  // must be what fails, before any attempt to read that many bytes.
  await t.step("bytes16 over its max, with all its bytes present", () => {
    const bytes = new ByteWriter().bytes16(new Uint8Array(0xffff)).finish();
    assertCode(() => new ByteReader(bytes, "test").bytes16(10), "BAD_MESSAGE");
  });
  await t.step("bytes32 of 4 GiB", () => {
    assertCode(() => reader(0xff, 0xff, 0xff, 0xff).bytes32(1024), "BAD_MESSAGE");
  });
  await t.step("text over its max", () => assertCode(() => reader(0, 5).text(4), "BAD_MESSAGE"));
  await t.step("list over its max reads no item", () => {
    let calls = 0;
    const items = new ByteWriter().list(new Array(100).fill(1), (w, x) => w.u8(x)).finish();
    const read = (r: ByteReader) => {
      calls++;
      return r.u8();
    };
    assertCode(() => new ByteReader(items, "test").list(3, read), "BAD_MESSAGE");
    assert.equal(calls, 0);
  });
  await t.step("a field exactly at its max is accepted", () => {
    assert.deepEqual(reader(0, 2, 7, 8).bytes16(2), Uint8Array.of(7, 8));
    assert.deepEqual(reader(0, 0, 0, 1, 9).bytes32(1), Uint8Array.of(9));
    assert.equal(reader(0, 1, 0x61).text(1), "a");
    assert.deepEqual(reader(0, 1, 5).list(1, (r) => r.u8()), [5]);
  });
  await t.step("a field one over its max is rejected even when present", () => {
    assertCode(() => reader(0, 3, 7, 8, 9).bytes16(2), "BAD_MESSAGE");
    assertCode(() => reader(0, 2, 0x61, 0x62).text(1), "BAD_MESSAGE");
    assertCode(() => reader(0, 2, 5, 6).list(1, (r) => r.u8()), "BAD_MESSAGE");
  });
});

Deno.test("ByteReader.text() rejects invalid UTF-8", async (t) => {
  const cases: [string, number[]][] = [
    ["lone continuation byte", [0x80]],
    ["truncated sequence", [0xc3]],
    ["overlong encoding of '/'", [0xc0, 0xaf]],
    ["UTF-16 surrogate", [0xed, 0xa0, 0x80]],
    ["above U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
    ["byte 0xff", [0xff]],
  ];
  for (const [name, bytes] of cases) {
    await t.step(name, () => {
      assertCode(() => reader(0, bytes.length, ...bytes).text(), "BAD_MESSAGE");
    });
  }
  // A byte order mark is valid UTF-8 and must survive (the decoder must not strip it).
  assert.equal(reader(0, 3, 0xef, 0xbb, 0xbf).text(), "\ufeff");
});

Deno.test("ByteReader.u64() rejects values above 2^53 − 1", async (t) => {
  await t.step("2^53 − 1 is accepted", () => {
    assert.equal(reader(0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff).u64(), 2 ** 53 - 1);
  });
  await t.step(
    "2^53",
    () => assertCode(() => reader(0, 0x20, 0, 0, 0, 0, 0, 0).u64(), "BAD_MESSAGE"),
  );
  await t.step("2^64 − 1", () => {
    assertCode(() => reader(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff).u64(), "BAD_MESSAGE");
  });
});

Deno.test("ByteReader reads a subarray at its own offset", () => {
  const backing = Uint8Array.of(0xaa, 0, 1, 0xbb);
  const r = new ByteReader(backing.subarray(1, 3), "test");
  assert.equal(r.u16(), 1);
  r.end();
});

Deno.test("ByteReader.raw() returns a copy the caller may keep", () => {
  const input = Uint8Array.of(1, 2, 3);
  const out = new ByteReader(input, "test").raw(3);
  input[0] = 9;
  assert.deepEqual(out, Uint8Array.of(1, 2, 3));
});

Deno.test("ByteReader.fail() throws BAD_MESSAGE", () => {
  assertCode(() => reader().fail("reason"), "BAD_MESSAGE");
});
