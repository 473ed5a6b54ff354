/** decodePublicIdentity() target: one key set, one encoding. */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Bytes } from "../../src/crypto/bytes.ts";
import { ByteReader, ByteWriter } from "../../src/crypto/encoding.ts";
import {
  decodePublicIdentity,
  fingerprintOf,
  RSA_BITS_MAX,
  RSA_BITS_MIN,
} from "../../src/crypto/identity.ts";
import { fixed } from "./arbitraries.ts";
import { assertBytes, bounded, expectSfsError } from "./checks.ts";
import type { IdentityMaterial } from "./identity_material.ts";
import { byteMutationArb, mutateAll, mutateBytes } from "./mutate_bytes.ts";
import { check, type FuzzTarget, type Stats } from "./run.ts";

/** decodePublicIdentity(): a key set whose encoding is the input, or BAD_MESSAGE / BAD_KEY. */
export function publicIdentityTarget(): FuzzTarget {
  return {
    name: "decodePublicIdentity()",
    ciRuns: 500,
    run: async (p, context) => {
      const material = await context.material();
      return check(fc.asyncProperty(publicIdentityArb(material), checkPublicIdentity(p.stats)), p);
    },
  };
}

function publicIdentityArb(material: IdentityMaterial): fc.Arbitrary<Bytes> {
  const spkiArb = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...material.spkis) },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom(...material.spkis), byteMutationArb).map(([s, m]) =>
        mutateBytes(s, m, s)
      ),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 600 }) },
  );
  const structuredArb = fc.record({
    version: fc.oneof({ weight: 9, arbitrary: fc.constant(1) }, fc.nat(255)),
    oaep: spkiArb,
    pss: spkiArb,
    ed: fc.oneof(fc.constantFrom(...material.edKeys), fixed(32)),
  }).map(({ version, oaep, pss, ed }) =>
    new ByteWriter().u8(version).bytes16(oaep).bytes16(pss).raw(ed).finish()
  );
  const inputArb = fc.oneof(
    { weight: 4, arbitrary: structuredArb },
    {
      weight: 4,
      arbitrary: fc.tuple(
        fc.constantFrom(...material.encodings),
        fc.constantFrom(...material.encodings),
        fc.array(byteMutationArb, { minLength: 1, maxLength: 2 }),
      ).map(([e, other, m]) => mutateAll(e, m, other)),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  );
  return inputArb;
}

function checkPublicIdentity(stats: Stats): (encoded: Bytes) => Promise<void> {
  return async (encoded) => {
    const input = new Uint8Array(encoded);
    let identity;
    try {
      identity = await bounded(decodePublicIdentity(input), 5000, "decodePublicIdentity()");
    } catch (err) {
      stats.add(expectSfsError(err, ["BAD_MESSAGE", "BAD_KEY"]).code);
      return;
    }
    input.fill(0);
    assertBytes(identity.encoded, encoded, "encoded identity");
    assertBytes(identity.fingerprint, await fingerprintOf(encoded), "fingerprint");
    // One key set, one encoding: the keys must export to exactly the bytes they came from, or
    // a key would have several fingerprints.
    const reader = new ByteReader(encoded, "public identity");
    reader.u8();
    for (const [key, what] of [[identity.oaep, "OAEP"], [identity.pss, "PSS"]] as const) {
      const spki = new Uint8Array(await crypto.subtle.exportKey("spki", key));
      assertBytes(spki, reader.bytes16(), `${what} key re-exported`);
    }
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", identity.ed25519));
    assertBytes(raw, reader.raw(32), "Ed25519 key re-exported");
    for (const key of [identity.oaep, identity.pss]) {
      const { modulusLength, publicExponent } = key.algorithm as RsaHashedKeyAlgorithm;
      assert.ok(modulusLength >= RSA_BITS_MIN && modulusLength <= RSA_BITS_MAX);
      assert.deepEqual([...publicExponent], [1, 0, 1]);
    }
    stats.add("ok");
  };
}
