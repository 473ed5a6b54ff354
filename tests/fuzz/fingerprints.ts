/** parseFingerprint() target, and the fingerprint texts the ticket target reuses. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Bytes, toBase32 } from "../../src/crypto/bytes.ts";
import { formatFingerprint, parseFingerprint } from "../../src/crypto/identity.ts";
import { fixed } from "./arbitraries.ts";
import { assertBytes, expectSfsError } from "./checks.ts";
import { mutateText, textMutationArb } from "./mutate_text.ts";
import { check, type FuzzTarget } from "./run.ts";

/** Fingerprint texts: valid, mutated, in other spellings, or random. */
export const fingerprintTextArb: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 80 }),
  fixed(32).map(formatFingerprint),
  fc.tuple(
    fixed(32).map(formatFingerprint),
    fc.array(textMutationArb, { minLength: 1, maxLength: 3 }),
  )
    .map(([text, m]) => mutateText(text, m)),
  fc.uint8Array({ maxLength: 40 }).map((b) => toBase32(b)),
  fc.tuple(fixed(32), fc.boolean(), fc.boolean(), fc.boolean()).map(
    ([b, prefix, dashes, upper]) => {
      let text = dashes ? formatFingerprint(b).slice(7) : toBase32(b);
      if (prefix) text = `SHA256:${text}`;
      return upper ? text.toUpperCase() : text;
    },
  ),
);

/** parseFingerprint(): the bytes the text spells, or BAD_FINGERPRINT. */
export function fingerprintTarget(): FuzzTarget {
  return {
    name: "parseFingerprint()",
    ciRuns: 700,
    run: (p) =>
      check(
        fc.property(fingerprintTextArb, (text) => {
          let bytes: Bytes;
          try {
            bytes = parseFingerprint(text);
          } catch (err) {
            expectSfsError(err, ["BAD_FINGERPRINT"]);
            p.stats.add("BAD_FINGERPRINT");
            return;
          }
          assert.equal(bytes.length, 32);
          const spelled = text.trim().replace(/^sha256:/i, "").replaceAll("-", "").toLowerCase();
          assert.equal(toBase32(bytes), spelled, "parsed bytes are not what the text spells");
          assertBytes(parseFingerprint(formatFingerprint(bytes)), bytes, "formatted fingerprint");
          p.stats.add("ok");
        }),
        p,
      ),
  };
}
