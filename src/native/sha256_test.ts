/** The SHA-256 hashers: FIPS 180-2 answers, split updates, misuse, choice. */
import assert from "node:assert/strict";
import { type ErrorCode, isSfsError } from "../errors.ts";
import { type Bytes, toHex, utf8 } from "../crypto/bytes.ts";
import {
  BUFFERED_SHA256_MAX,
  BufferedSha256,
  portableSha256,
  type Sha256Hasher,
} from "../crypto/sha256.ts";
import { NodeSha256 } from "../crypto/sha256_node.ts";
import { OpenSslSha256 } from "../crypto/sha256_openssl.ts";
import { backendChoice, loadLibcrypto } from "./libcrypto.ts";
import { OPENSSL_REQUIRED } from "./test_backends.ts";

const LIBCRYPTO = loadLibcrypto();
if (OPENSSL_REQUIRED) assert.ok(LIBCRYPTO, "libcrypto 3 did not load: run with deno task test");

/** Each hasher under test, by name. */
const HASHERS: [string, () => Sha256Hasher][] = [
  ["buffered", () => new BufferedSha256()],
  ["node", () => new NodeSha256()],
  ...(LIBCRYPTO ? [["openssl", LIBCRYPTO.sha256] as [string, () => Sha256Hasher]] : []),
];

/** FIPS 180-2 appendix B, and the empty message. */
const KNOWN_ANSWERS: [string, Bytes, string][] = [
  ["empty", new Uint8Array(0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
  ["abc", utf8("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
  [
    "448 bits",
    utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  ],
  [
    "one million a",
    new Uint8Array(1_000_000).fill(0x61),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  ],
];

function isCode(code: ErrorCode): (err: unknown) => boolean {
  return (err) => isSfsError(err, code);
}

Deno.test("Sha256Hasher.digest() gives the FIPS 180-2 answers, whole and split", async (t) => {
  for (const [name, make] of HASHERS) {
    for (const [what, message, expected] of KNOWN_ANSWERS) {
      await t.step(`${name}: ${what}`, async () => {
        const whole = make();
        whole.update(message);
        assert.equal(toHex(await whole.digest()), expected);
        // Uneven pieces.
        const split = make();
        for (let i = 0, offset = 0; offset < message.length; i++) {
          const piece = message.subarray(offset, offset + 1 + ((i * 7919) % 65_537));
          offset += piece.length;
          split.update(piece);
        }
        assert.equal(toHex(await split.digest()), expected);
      });
    }
  }
});

Deno.test("Sha256Hasher is spent after its digest", async () => {
  for (const [name, make] of HASHERS) {
    const hasher = make();
    await hasher.digest();
    assert.throws(() => hasher.update(new Uint8Array(1)), isCode("INTERNAL"), name);
    await assert.rejects(hasher.digest(), isCode("INTERNAL"), name);
  }
});

Deno.test("Sha256Hasher.copy() goes on independently of its original", async (t) => {
  const [head, tailA, tailB] = [utf8("abc"), utf8("dbcdecdefdefg"), new Uint8Array(70_000)];
  const expected = async (...parts: Bytes[]) => {
    const whole = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (whole.set(p, at), at + p.length), 0);
    return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", whole)));
  };
  for (const [name, make] of HASHERS) {
    await t.step(name, async () => {
      const original = make();
      original.update(head);
      const twin = original.copy();
      original.update(tailA);
      twin.update(tailB);
      const again = twin.copy();
      assert.equal(toHex(await twin.digest()), await expected(head, tailB));
      assert.equal(toHex(await original.digest()), await expected(head, tailA));
      assert.equal(toHex(await again.digest()), await expected(head, tailB));
      assert.throws(() => original.copy(), isCode("INTERNAL"));
    });
  }
});

Deno.test("BufferedSha256 refuses more than BUFFERED_SHA256_MAX bytes", () => {
  const hasher = new BufferedSha256();
  hasher.update(new Uint8Array(BUFFERED_SHA256_MAX));
  assert.throws(() => hasher.update(new Uint8Array(1)), isCode("INTERNAL"));
});

Deno.test("BufferedSha256 keeps its own copy of what it took in", async () => {
  const data = utf8("abc");
  const hasher = new BufferedSha256();
  hasher.update(data);
  data.fill(0);
  assert.equal(toHex(await hasher.digest()), KNOWN_ANSWERS[1][2]);
});

Deno.test("the SHA-256 factories: buffered when small, OpenSSL when it is the backend", async () => {
  assert.ok(await portableSha256({ bytes: BUFFERED_SHA256_MAX }) instanceof BufferedSha256);
  assert.ok(await portableSha256({ bytes: BUFFERED_SHA256_MAX + 1 }) instanceof NodeSha256);
  assert.ok(await portableSha256({}) instanceof NodeSha256);
  const none = backendChoice("auto", () => undefined);
  assert.ok(await none.sha256({ bytes: 1 << 30 }) instanceof NodeSha256);
  const webcrypto = backendChoice("webcrypto", () => LIBCRYPTO);
  assert.ok(await webcrypto.sha256({ bytes: 1 << 30 }) instanceof NodeSha256);
  if (LIBCRYPTO) {
    const auto = backendChoice("auto", () => LIBCRYPTO);
    assert.ok(await auto.sha256({ bytes: 1024 }) instanceof BufferedSha256);
    assert.ok(await auto.sha256({ bytes: 1 << 30 }) instanceof OpenSslSha256);
  }
});
