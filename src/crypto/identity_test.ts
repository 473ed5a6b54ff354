import assert from "node:assert/strict";
import { isSfsError } from "../errors.ts";
import { testIdentity } from "../../tests/identities.ts";
import { sha256, toBase32 } from "./bytes.ts";
import { ByteReader, ByteWriter } from "./encoding.ts";
import {
  decodePublicIdentity,
  encodePublicKeys,
  fingerprintOf,
  formatFingerprint,
  parseFingerprint,
  shortFingerprint,
} from "./identity.ts";
import { LABEL, labelled } from "./labels.ts";

/** The three raw parts of a public identity encoding. */
function splitPublic(encoded: Uint8Array): { oaep: Uint8Array; pss: Uint8Array; ed: Uint8Array } {
  const reader = new ByteReader(encoded, "test");
  reader.u8();
  const oaep = reader.bytes16();
  const pss = reader.bytes16();
  const ed = reader.raw(32);
  reader.end();
  return { oaep, pss, ed };
}

async function spkiOf(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.exportKey("spki", key));
}

Deno.test("decodePublicIdentity() round-trips a generated identity", async () => {
  const alice = await testIdentity("alice");
  const decoded = await decodePublicIdentity(alice.public.encoded);
  assert.deepEqual(decoded.encoded, alice.public.encoded);
  assert.deepEqual(decoded.fingerprint, alice.public.fingerprint);
  // Re-encoding the imported keys gives the same bytes: the encoding is canonical.
  const again = encodePublicKeys(
    await spkiOf(decoded.oaep),
    await spkiOf(decoded.pss),
    new Uint8Array(await crypto.subtle.exportKey("raw", decoded.ed25519)),
  );
  assert.deepEqual(again, alice.public.encoded);
  assert.equal((decoded.oaep.algorithm as RsaHashedKeyAlgorithm).modulusLength, 3072);
});

Deno.test("decodePublicIdentity() keeps its own copy of the input", async () => {
  const alice = await testIdentity("alice");
  const input = new Uint8Array(alice.public.encoded);
  const decoded = await decodePublicIdentity(input);
  input[input.length - 1] ^= 1;
  assert.deepEqual(decoded.encoded, alice.public.encoded);
});

Deno.test("fingerprintOf() hashes the labelled public encoding", async () => {
  const alice = await testIdentity("alice");
  const bob = await testIdentity("bob");
  const expected = await sha256(labelled(LABEL.FINGERPRINT, alice.public.encoded));
  assert.deepEqual(await fingerprintOf(alice.public.encoded), expected);
  assert.deepEqual(alice.public.fingerprint, expected);
  assert.notDeepEqual(alice.public.fingerprint, bob.public.fingerprint);
});

Deno.test("formatFingerprint() prints SHA256: and 13 groups of 4 base32 letters", async () => {
  const alice = await testIdentity("alice");
  const text = formatFingerprint(alice.public.fingerprint);
  assert.match(text, /^SHA256:(?:[a-z2-7]{4}-){12}[a-z2-7]{4}$/);
  assert.equal(text.replace("SHA256:", "").replaceAll("-", ""), toBase32(alice.public.fingerprint));
  const zeros = formatFingerprint(new Uint8Array(32));
  assert.equal(zeros, `SHA256:${"aaaa-".repeat(12)}aaaa`);
});

Deno.test("shortFingerprint() is the first three groups", async () => {
  const alice = await testIdentity("alice");
  const short = shortFingerprint(alice.public.fingerprint);
  assert.match(short, /^SHA256:[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
  assert.ok(formatFingerprint(alice.public.fingerprint).startsWith(short));
});

Deno.test("parseFingerprint() accepts the printed form and its retyped variants", async (t) => {
  const { fingerprint } = (await testIdentity("alice")).public;
  const printed = formatFingerprint(fingerprint);
  const bare = printed.slice("SHA256:".length);
  const variants: [string, string][] = [
    ["as printed", printed],
    ["without prefix", bare],
    ["without dashes", `SHA256:${bare.replaceAll("-", "")}`],
    ["without prefix or dashes", bare.replaceAll("-", "")],
    ["upper case", printed.toUpperCase()],
    ["lower-case prefix", `sha256:${bare}`],
    ["surrounding spaces", `  ${printed}\n`],
  ];
  for (const [name, text] of variants) {
    await t.step(name, () => assert.deepEqual(parseFingerprint(text), fingerprint));
  }
});

Deno.test("parseFingerprint() rejects what is not a 32-byte fingerprint", async (t) => {
  const printed = formatFingerprint((await testIdentity("alice")).public.fingerprint);
  const bare = printed.slice("SHA256:".length).replaceAll("-", "");
  const cases: [string, string][] = [
    ["empty", ""],
    ["prefix only", "SHA256:"],
    ["one letter short", bare.slice(0, -1)],
    ["one letter long", `${bare}a`],
    ["non-zero padding bits", `${bare.slice(0, -1)}b`],
    ["a letter outside base32", `${bare.slice(0, -1)}1`],
    ["another hash name", `SHA1:${bare}`],
    ["hex", "00".repeat(32)],
  ];
  for (const [name, text] of cases) {
    await t.step(name, () => {
      assert.throws(() => parseFingerprint(text), (err) => isSfsError(err, "BAD_FINGERPRINT"));
    });
  }
});

Deno.test("decodePublicIdentity() rejects malformed encodings", async (t) => {
  const alice = await testIdentity("alice");
  const { oaep, pss, ed } = splitPublic(alice.public.encoded);
  const small = await crypto.subtle.generateKey(
    {
      name: "RSA-OAEP",
      hash: "SHA-256",
      modulusLength: 2048,
      publicExponent: Uint8Array.of(1, 0, 1),
    },
    true,
    ["encrypt", "decrypt"],
  ) as CryptoKeyPair;
  const smallSpki = await spkiOf(small.publicKey);
  const edSpki = await spkiOf(alice.public.ed25519);
  const garbage = Uint8Array.from({ length: 300 }, (_, i) => (i * 31) & 0xff);
  const cases: [string, Uint8Array, "BAD_MESSAGE" | "BAD_KEY"][] = [
    [
      "version 2",
      new ByteWriter().u8(2).bytes16(oaep).bytes16(pss).raw(ed).finish(),
      "BAD_MESSAGE",
    ],
    [
      "version 0",
      new ByteWriter().u8(0).bytes16(oaep).bytes16(pss).raw(ed).finish(),
      "BAD_MESSAGE",
    ],
    ["a trailing byte", Uint8Array.of(...alice.public.encoded, 0), "BAD_MESSAGE"],
    ["a missing byte", alice.public.encoded.slice(0, -1), "BAD_MESSAGE"],
    ["empty", new Uint8Array(), "BAD_MESSAGE"],
    [
      "an SPKI over 1024 bytes",
      new ByteWriter().u8(1).bytes16(new Uint8Array(1025)).bytes16(pss).raw(ed).finish(),
      "BAD_MESSAGE",
    ],
    ["a 2048-bit OAEP key", encodePublicKeys(smallSpki, pss, ed), "BAD_KEY"],
    ["a 2048-bit PSS key", encodePublicKeys(oaep, smallSpki, ed), "BAD_KEY"],
    ["garbage OAEP SPKI", encodePublicKeys(garbage, pss, ed), "BAD_KEY"],
    ["garbage PSS SPKI", encodePublicKeys(oaep, garbage, ed), "BAD_KEY"],
    ["an empty OAEP SPKI", encodePublicKeys(new Uint8Array(), pss, ed), "BAD_KEY"],
    ["an Ed25519 SPKI in the OAEP slot", encodePublicKeys(edSpki, pss, ed), "BAD_KEY"],
    ["a truncated SPKI", encodePublicKeys(oaep.slice(0, -1), pss, ed), "BAD_KEY"],
  ];
  for (const [name, encoded, code] of cases) {
    await t.step(name, async () => {
      await assert.rejects(decodePublicIdentity(encoded), (err) => isSfsError(err, code));
    });
  }
});
