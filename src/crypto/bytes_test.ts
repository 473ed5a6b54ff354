import assert from "node:assert/strict";
import {
  concat,
  constantTimeEqual,
  fromBase32,
  fromBase64,
  fromHex,
  sha256,
  toBase32,
  toBase64,
  toHex,
  utf8,
} from "./bytes.ts";

/** Inputs of every length from 0 to 11 with varied bytes, so each padding case appears. */
const SAMPLES: Uint8Array[] = Array.from(
  { length: 12 },
  (_, n) => Uint8Array.from({ length: n }, (_, i) => (i * 73 + n * 29 + 0xf0) & 0xff),
);

Deno.test("toHex() and fromHex() round-trip every length", () => {
  for (const bytes of SAMPLES) assert.deepEqual(fromHex(toHex(bytes)), bytes);
  assert.equal(toHex(Uint8Array.of(0, 0x0f, 0xa0, 0xff)), "000fa0ff");
});

Deno.test("fromHex() accepts upper case and rejects odd lengths and non-hex", async (t) => {
  assert.deepEqual(fromHex("A0fF"), Uint8Array.of(0xa0, 0xff));
  for (const text of ["a", "abc", "0g", "0x00", " 00", "00 ", "+0", "-1"]) {
    await t.step(JSON.stringify(text), () => assert.equal(fromHex(text), undefined));
  }
});

Deno.test("toBase64() and fromBase64() round-trip every length", () => {
  for (const bytes of SAMPLES) assert.deepEqual(fromBase64(toBase64(bytes)), bytes);
  assert.equal(toBase64(utf8("sfs")), "c2Zz");
  // Large inputs round-trip too.
  const big = Uint8Array.from({ length: 100_000 }, (_, i) => i & 0xff);
  assert.deepEqual(fromBase64(toBase64(big)), big);
});

Deno.test("fromBase64() rejects non-canonical and malformed text", async (t) => {
  const cases: [string, string][] = [
    ["missing padding", "YQ"],
    ["non-zero padding bits", "YR=="],
    ["non-zero padding bits, one pad", "YWJ="],
    ["url-safe alphabet", "-_8="],
    ["whitespace", "YW Jj"],
    ["whitespace, a multiple of 4", "YWJj    YWJj"],
    ["line breaks", "YWJj\r\n\r\nYWJj"],
    ["only padding", "===="],
    ["too much padding", "YQ==="],
    ["padding in the middle", "YQ==YQ=="],
    ["length not a multiple of 4", "YWJjZ"],
  ];
  for (const [name, text] of cases) {
    await t.step(name, () => assert.equal(fromBase64(text), undefined));
  }
});

Deno.test("toBase32() and fromBase32() round-trip every length", () => {
  for (const bytes of SAMPLES) assert.deepEqual(fromBase32(toBase32(bytes)), bytes);
  // RFC 4648 §10 test vectors, lower case and unpadded.
  const rfc: [string, string][] = [
    ["", ""],
    ["f", "my"],
    ["fo", "mzxq"],
    ["foo", "mzxw6"],
    ["foob", "mzxw6yq"],
    ["fooba", "mzxw6ytb"],
    ["foobar", "mzxw6ytboi"],
  ];
  for (const [plain, encoded] of rfc) {
    assert.equal(toBase32(utf8(plain)), encoded);
    assert.deepEqual(fromBase32(encoded), utf8(plain));
  }
});

Deno.test("fromBase32() accepts upper case and rejects non-canonical text", async (t) => {
  assert.deepEqual(fromBase32("MZXW6"), utf8("foo"));
  const cases: [string, string][] = [
    ["padding", "my======"],
    ["non-zero leftover bits", "mz"],
    ["impossible length", "m"],
    ["impossible length 3", "mzx"],
    ["digit outside the alphabet", "mzx1"],
    ["digit 8", "mzx8"],
    ["dash", "mz-xq"],
  ];
  for (const [name, text] of cases) {
    await t.step(name, () => assert.equal(fromBase32(text), undefined));
  }
});

Deno.test("constantTimeEqual() compares contents and lengths", () => {
  assert.equal(constantTimeEqual(new Uint8Array(), new Uint8Array()), true);
  assert.equal(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3)), true);
  assert.equal(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4)), false);
  assert.equal(constantTimeEqual(Uint8Array.of(0, 2, 3), Uint8Array.of(1, 2, 3)), false);
  assert.equal(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3)), false);
  assert.equal(constantTimeEqual(Uint8Array.of(0x80), Uint8Array.of(0x00)), false);
});

Deno.test("concat() joins parts into a new array", () => {
  const a = Uint8Array.of(1, 2);
  const out = concat(a, new Uint8Array(), Uint8Array.of(3));
  assert.deepEqual(out, Uint8Array.of(1, 2, 3));
  out[0] = 9;
  assert.equal(a[0], 1);
  assert.deepEqual(concat(), new Uint8Array());
});

Deno.test("sha256() matches the FIPS 180-2 test vector", async () => {
  assert.equal(
    toHex(await sha256(utf8("abc"))),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});
