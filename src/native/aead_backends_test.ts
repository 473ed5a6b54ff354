/**
 * The OpenSSL and WebCrypto backends against each other: the same bytes for every stream
 * vector and for random sizes, and the same verdict on every tampering.
 */
import assert from "node:assert/strict";
import { type ErrorCode, isSfsError } from "../errors.ts";
import { type AeadBackend, AeadKey, TAG_BYTES } from "../crypto/aead.ts";
import { type Bytes, concat, fromHex, toHex } from "../crypto/bytes.ts";
import { openChunk, sealChunk, StreamOpener } from "../crypto/stream.ts";
import { bothBackends, NO_OPENSSL } from "./test_backends.ts";

const VECTORS = new URL("../../testdata/vectors/", import.meta.url);

/** The fields of a vector file (format: testdata/vectors/README.md), repeated ones in order. */
async function readVector(name: string): Promise<Map<string, string[]>> {
  const fields = new Map<string, string[]>();
  for (const line of (await Deno.readTextFile(new URL(name, VECTORS))).split("\n")) {
    const match = /^([a-z0-9_]+):(?: (.*))?$/.exec(line);
    if (match) fields.set(match[1], [...fields.get(match[1]) ?? [], match[2] ?? ""]);
  }
  return fields;
}

function one(fields: Map<string, string[]>, name: string): string {
  const values = fields.get(name);
  assert.ok(values?.length === 1, `needs exactly one "${name}"`);
  return values[0];
}

function hex(text: string): Bytes {
  const bytes = fromHex(text);
  assert.ok(bytes, `not hex: ${text}`);
  return bytes;
}

function random(size: number): Bytes {
  const out = new Uint8Array(size);
  for (let off = 0; off < size; off += 65536) {
    crypto.getRandomValues(out.subarray(off, Math.min(size, off + 65536)));
  }
  return out;
}

function flipBit(bytes: Bytes, bit: number): Bytes {
  const out = new Uint8Array(bytes);
  out[bit >> 3] ^= 1 << (bit & 7);
  return out;
}

/** What a promise came to: the result's hex, or the error code. */
async function outcome(promise: Promise<Bytes>): Promise<string> {
  try {
    return toHex(await promise);
  } catch (err) {
    return isSfsError(err) ? `error ${err.code}` : `error ${String(err)}`;
  }
}

/** Runs `scenario` on each backend and asserts both came to the same outcome. */
async function same(
  scenario: (backend: AeadBackend) => Promise<string>,
  what: string,
): Promise<string> {
  const [web, ssl] = bothBackends();
  const [a, b] = [await scenario(web), await scenario(ssl)];
  assert.equal(b, a, `${what}: openssl differs from webcrypto`);
  return a;
}

Deno.test({
  name: "sealChunk() and StreamOpener give identical bytes on both backends for every vector",
  ignore: NO_OPENSSL,
  fn: async (t) => {
    const names: string[] = [];
    for await (const entry of Deno.readDir(VECTORS)) {
      if (/^(chunk|stream)-.*\.txt$/.test(entry.name)) names.push(entry.name);
    }
    assert.ok(names.length >= 10, `only ${names.length} chunk and stream vectors`);
    for (const name of names.sort()) {
      await t.step(name, async () => {
        const v = await readVector(name);
        const expect = one(v, "expect");
        const raw = hex(one(v, "key"));
        if (one(v, "kind") === "chunk") {
          const index = Number(one(v, "index"));
          const last = one(v, "last") === "true";
          const ciphertext = hex(one(v, "ciphertext"));
          const opened = await same(async (backend) => {
            using key = await AeadKey.import(raw, { backend });
            return await outcome(openChunk(key, index, last, ciphertext));
          }, "open");
          if (expect === "ok") {
            assert.equal(opened, one(v, "plaintext"));
            const plaintext = hex(one(v, "plaintext"));
            const sealed = await same(async (backend) => {
              using key = await AeadKey.import(raw, { backend });
              return await outcome(sealChunk(key, index, last, plaintext));
            }, "seal");
            assert.equal(sealed, toHex(ciphertext));
          } else {
            assert.equal(opened, expect);
          }
        } else {
          const size = Number(one(v, "size"));
          const chunkSize = Number(one(v, "chunk_size"));
          const chunks = (v.get("chunk") ?? []).map(hex);
          const content = await same(async (backend) => {
            using key = await AeadKey.import(raw, { backend });
            const opener = new StreamOpener(key, { size, chunkSize });
            const parts: Bytes[] = [];
            try {
              for (const chunk of chunks) parts.push(await opener.open(chunk));
              opener.finish();
            } catch (err) {
              return isSfsError(err) ? `error ${err.code}` : String(err);
            }
            return toHex(concat(...parts));
          }, "stream");
          assert.equal(content, expect === "ok" ? one(v, "content") : expect);
        }
      });
    }
  },
});

Deno.test({
  name: "AeadKey seals identically on both backends for random sizes, keys, nonces and aad",
  ignore: NO_OPENSSL,
  fn: async () => {
    const [web, ssl] = bothBackends();
    const sizes = [0, 1, 15, 16, 17, 255, 4096, 16 * 1024 - 1, 256 * 1024, 256 * 1024 + 1];
    for (let i = 0; i < 20; i++) sizes.push(Math.floor(Math.random() * 300_000));
    for (const size of sizes) {
      const raw = random(32);
      const nonce = random(12);
      const plaintext = random(size);
      const aad = size % 3 === 0 ? undefined : random(size % 97);
      using a = await AeadKey.import(raw, { backend: web });
      using b = await AeadKey.import(raw, { backend: ssl });
      const sealed = await a.seal(nonce, plaintext, { aad });
      assert.equal(toHex(await b.seal(nonce, plaintext, { aad })), toHex(sealed), `size ${size}`);
      assert.deepEqual(await b.open(nonce, sealed, { aad }), plaintext, `size ${size}`);
      assert.deepEqual(await a.open(nonce, sealed, { aad }), plaintext, `size ${size}`);
      // Into a caller's buffer, larger than needed, at an offset: same bytes.
      const pool = new Uint8Array(size + TAG_BYTES + 40);
      const into = pool.subarray(7);
      const sealedInto = await b.seal(nonce, plaintext, { aad, into });
      assert.equal(sealedInto.buffer, pool.buffer);
      assert.equal(toHex(sealedInto), toHex(sealed));
      assert.deepEqual(await b.open(nonce, sealed, { aad, into }), plaintext);
    }
  },
});

Deno.test({
  name: "AeadKey.open() on both backends rejects every tampering the other rejects",
  ignore: NO_OPENSSL,
  fn: async (t) => {
    const raw = random(32);
    const nonce = random(12);
    const aad = random(13);
    const plaintext = random(20);
    using key = await AeadKey.import(raw, { backend: bothBackends()[1] });
    const sealed = await key.seal(nonce, plaintext, { aad });
    const cases: [string, Bytes, Bytes, Bytes | undefined][] = [];
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const where = bit < plaintext.length * 8 ? "ciphertext" : "tag";
      cases.push([`${where} bit ${bit}`, nonce, flipBit(sealed, bit), aad]);
    }
    for (let bit = 0; bit < nonce.length * 8; bit++) {
      cases.push([`nonce bit ${bit}`, flipBit(nonce, bit), sealed, aad]);
    }
    for (let bit = 0; bit < aad.length * 8; bit++) {
      cases.push([`aad bit ${bit}`, nonce, sealed, flipBit(aad, bit)]);
    }
    cases.push(
      ["aad dropped", nonce, sealed, undefined],
      ["aad cut by one byte", nonce, sealed, aad.subarray(0, -1)],
      ["aad extended", nonce, sealed, concat(aad, Uint8Array.of(0))],
      ["last byte cut", nonce, sealed.slice(0, -1), aad],
      ["first byte cut", nonce, sealed.slice(1), aad],
      ["tag cut off", nonce, sealed.slice(0, -TAG_BYTES), aad],
      ["only the tag", nonce, sealed.slice(-TAG_BYTES), aad],
      ["one byte added", nonce, concat(sealed, Uint8Array.of(0)), aad],
      ["empty", nonce, new Uint8Array(), aad],
      ["zero tag", nonce, concat(sealed.subarray(0, -TAG_BYTES), new Uint8Array(TAG_BYTES)), aad],
    );
    const verdicts = new Map<string, number>();
    for (const [name, n, s, a] of cases) {
      const verdict = await same(async (backend) => {
        using other = await AeadKey.import(raw, { backend });
        return await outcome(other.open(n, s, { aad: a }));
      }, name);
      verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1);
    }
    await t.step(`all ${cases.length} tamperings are DECRYPT_FAILED on both`, () => {
      assert.deepEqual([...verdicts], [["error DECRYPT_FAILED", cases.length]]);
    });
  },
});

Deno.test({
  name: "StreamOpener on both backends fails a tampered stream with the same code",
  ignore: NO_OPENSSL,
  fn: async () => {
    const chunkSize = 16 * 1024;
    const size = 3 * chunkSize;
    const raw = random(32);
    const data = random(size);
    const part = (i: number) => data.subarray(i * chunkSize, (i + 1) * chunkSize);
    const seal = async (i: number, last: boolean, keyRaw = raw) => {
      using key = await AeadKey.import(keyRaw);
      return await sealChunk(key, i, last, part(i));
    };
    const [c0, c1, c2] = [await seal(0, false), await seal(1, false), await seal(2, true)];
    const cases: [string, Bytes[], ErrorCode | "ok"][] = [
      ["intact", [c0, c1, c2], "ok"],
      ["flipped ciphertext", [c0, flipBit(c1, 40), c2], "CHUNK_AUTH_FAILED"],
      ["flipped tag", [c0, flipBit(c1, c1.length * 8 - 1), c2], "CHUNK_AUTH_FAILED"],
      ["swapped", [c1, c0, c2], "CHUNK_AUTH_FAILED"],
      ["duplicated", [c0, c0, c1, c2], "CHUNK_AUTH_FAILED"],
      ["dropped middle", [c0, c2], "CHUNK_AUTH_FAILED"],
      ["dropped last", [c0, c1], "TRUNCATED"],
      ["trailing", [c0, c1, c2, c2], "TRAILING_DATA"],
      ["one byte short", [c0, c1.slice(0, -1), c2], "CHUNK_AUTH_FAILED"],
      ["one byte long", [c0, concat(c1, Uint8Array.of(0)), c2], "CHUNK_AUTH_FAILED"],
      ["sealed as last too early", [c0, await seal(1, true), c2], "CHUNK_AUTH_FAILED"],
      ["last sealed as not last", [c0, c1, await seal(2, false)], "CHUNK_AUTH_FAILED"],
      ["other key", [c0, await seal(1, false, random(32)), c2], "CHUNK_AUTH_FAILED"],
    ];
    for (const [name, chunks, expected] of cases) {
      const result = await same(async (backend) => {
        using key = await AeadKey.import(raw, { backend });
        const opener = new StreamOpener(key, { size, chunkSize });
        const into = new Uint8Array(chunkSize);
        try {
          for (const chunk of chunks) await opener.open(chunk, { into });
          opener.finish();
          return "ok";
        } catch (err) {
          assert.ok(isSfsError(err), String(err));
          return err.code;
        }
      }, name);
      assert.equal(result, expected, name);
    }
  },
});
