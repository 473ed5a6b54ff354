/** AeadKey's checks and lifetime, on each backend. */
import assert from "node:assert/strict";
import { type ErrorCode, isSfsError } from "../errors.ts";
import { type AeadBackend, AeadKey, type BackendHint, TAG_BYTES } from "../crypto/aead.ts";
import { WEBCRYPTO_AEAD } from "../crypto/aead_webcrypto.ts";
import type { Bytes } from "../crypto/bytes.ts";
import { bothBackends, NO_OPENSSL } from "./test_backends.ts";

function isCode(code: ErrorCode): (err: unknown) => boolean {
  return (err) => isSfsError(err, code);
}

const RAW = crypto.getRandomValues(new Uint8Array(32));
const NONCE = crypto.getRandomValues(new Uint8Array(12));
const PLAINTEXT = crypto.getRandomValues(new Uint8Array(1000));

Deno.test({
  name: "AeadKey refuses wrong lengths and unsafe buffers on each backend",
  ignore: NO_OPENSSL,
  fn: async (t) => {
    for (const backend of bothBackends()) {
      await t.step(backend.name, async () => {
        for (const size of [0, 16, 31, 33, 64]) {
          await assert.rejects(
            AeadKey.import(new Uint8Array(size), { backend }),
            isCode("INTERNAL"),
            `key of ${size} bytes`,
          );
        }
        using key = await AeadKey.import(RAW, { backend });
        const sealed = await key.seal(NONCE, PLAINTEXT);
        for (const size of [0, 8, 11, 13, 16]) {
          const nonce = new Uint8Array(size);
          await assert.rejects(key.seal(nonce, PLAINTEXT), isCode("INTERNAL"), `nonce ${size}`);
          await assert.rejects(key.open(nonce, sealed), isCode("INTERNAL"), `nonce ${size}`);
        }
        for (const size of [0, 1, TAG_BYTES - 1]) {
          await assert.rejects(
            key.open(NONCE, sealed.subarray(0, size)),
            isCode("DECRYPT_FAILED"),
            `${size} bytes, shorter than a tag`,
          );
        }
        const short = { into: new Uint8Array(PLAINTEXT.length + TAG_BYTES - 1) };
        await assert.rejects(key.seal(NONCE, PLAINTEXT, short), isCode("INTERNAL"));
        const shorter = { into: new Uint8Array(PLAINTEXT.length - 1) };
        await assert.rejects(key.open(NONCE, sealed, shorter), isCode("INTERNAL"));
        // Output starting inside the input would overwrite bytes not yet read.
        const buffer = new Uint8Array(4096);
        buffer.set(PLAINTEXT);
        const input = buffer.subarray(0, PLAINTEXT.length);
        for (const offset of [1, 500, PLAINTEXT.length - 1]) {
          await assert.rejects(
            key.seal(NONCE, input, { into: buffer.subarray(offset) }),
            isCode("INTERNAL"),
            `output at offset ${offset}`,
          );
        }
      });
    }
  },
});

Deno.test({
  name: "AeadKey seals and opens in place on each backend",
  ignore: NO_OPENSSL,
  fn: async () => {
    for (const backend of bothBackends()) {
      using key = await AeadKey.import(RAW, { backend });
      const expected = await key.seal(NONCE, PLAINTEXT);
      const buffer = new Uint8Array(PLAINTEXT.length + TAG_BYTES);
      buffer.set(PLAINTEXT);
      const sealed = await key.seal(NONCE, buffer.subarray(0, PLAINTEXT.length), { into: buffer });
      assert.deepEqual(sealed, expected, backend.name);
      const opened = await key.open(NONCE, buffer, { into: buffer });
      assert.deepEqual(opened, PLAINTEXT, backend.name);
    }
  },
});

Deno.test({
  name: "AeadKey.open() leaves no unauthenticated plaintext in `into` on each backend",
  ignore: NO_OPENSSL,
  fn: async () => {
    for (const backend of bothBackends()) {
      using key = await AeadKey.import(RAW, { backend });
      const sealed = await key.seal(NONCE, PLAINTEXT);
      // Only the tag is wrong: the ciphertext decrypts to the real plaintext before the check.
      sealed[sealed.length - 1] ^= 1;
      const into: Bytes = new Uint8Array(PLAINTEXT.length).fill(0xaa);
      await assert.rejects(key.open(NONCE, sealed, { into }), isCode("DECRYPT_FAILED"));
      const untouched = into.every((b) => b === 0xaa);
      const wiped = into.every((b) => b === 0);
      assert.ok(untouched || wiped, `${backend.name} left bytes of the failed chunk`);
    }
  },
});

Deno.test({
  name: "AeadKey.dispose() ends the key on each backend",
  ignore: NO_OPENSSL,
  fn: async () => {
    for (const backend of bothBackends()) {
      const key = await AeadKey.import(RAW, { backend });
      const sealed = await key.seal(NONCE, PLAINTEXT);
      key.dispose();
      key.dispose();
      await assert.rejects(key.seal(NONCE, PLAINTEXT), isCode("INTERNAL"), backend.name);
      await assert.rejects(key.open(NONCE, sealed), isCode("INTERNAL"), backend.name);
    }
  },
});

Deno.test({
  name: "AeadKey.deferred() imports once, at first use, from its own copy of the key",
  ignore: NO_OPENSSL,
  fn: async () => {
    for (const inner of bothBackends()) {
      let imports = 0;
      const backend: AeadBackend = {
        ...inner,
        importKey: (raw) => {
          imports++;
          return inner.importKey(raw);
        },
      };
      using eager = await AeadKey.import(RAW, { backend: inner });
      const expected = await eager.seal(NONCE, PLAINTEXT);
      const raw = new Uint8Array(RAW);
      using key = AeadKey.deferred(raw, { backend });
      raw.fill(0); // the caller wipes its copy at once, as the channel does
      assert.equal(imports, 0, inner.name);
      assert.equal(key.backend, undefined);
      // Calls that overlap the import share it.
      const results = await Promise.all([
        key.seal(NONCE, PLAINTEXT),
        key.seal(NONCE, PLAINTEXT),
        key.open(NONCE, expected),
      ]);
      assert.deepEqual(results, [expected, expected, PLAINTEXT], inner.name);
      assert.equal(imports, 1, inner.name);
      assert.equal(key.backend, inner.name);
    }
  },
});

Deno.test("AeadKey.deferred() disposed before its first use never imports", async () => {
  let imports = 0;
  const backend: AeadBackend = {
    ...WEBCRYPTO_AEAD,
    importKey: (raw) => {
      imports++;
      return WEBCRYPTO_AEAD.importKey(raw);
    },
  };
  const key = AeadKey.deferred(RAW, { backend });
  key.dispose();
  await assert.rejects(key.seal(NONCE, PLAINTEXT), isCode("INTERNAL"));
  assert.equal(imports, 0);
  assert.throws(() => AeadKey.deferred(new Uint8Array(31)), isCode("INTERNAL"));
});

Deno.test("AeadKey.expectBytes() reaches the backend choice at the first use, and only then", async () => {
  const hints: BackendHint[] = [];
  const choose = (hint: BackendHint) => {
    hints.push(hint);
    return WEBCRYPTO_AEAD;
  };
  using key = AeadKey.deferred(RAW, { backend: choose });
  key.expectBytes(1024);
  const sealed = await key.seal(NONCE, PLAINTEXT);
  key.expectBytes(5); // too late: the key is imported
  assert.deepEqual(await key.open(NONCE, sealed), PLAINTEXT);
  assert.deepEqual(hints, [{ bytes: 1024 }]);
  using unhinted = AeadKey.deferred(RAW, { backend: choose });
  await unhinted.seal(NONCE, PLAINTEXT);
  assert.deepEqual(hints, [{ bytes: 1024 }, {}]);
});

Deno.test("AeadKey.import() hands its hint to the chooser at once", async () => {
  const hints: BackendHint[] = [];
  const choose = (hint: BackendHint) => {
    hints.push(hint);
    return WEBCRYPTO_AEAD;
  };
  using light = await AeadKey.import(RAW, { backend: choose, hint: { light: true } });
  assert.deepEqual(hints, [{ light: true }]);
  assert.equal(light.backend, "webcrypto");
  using plain = await AeadKey.import(RAW, { backend: choose });
  assert.deepEqual(hints, [{ light: true }, {}]);
  assert.deepEqual(await plain.open(NONCE, await light.seal(NONCE, PLAINTEXT)), PLAINTEXT);
});
