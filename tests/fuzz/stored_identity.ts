/** importIdentity() target: stored identity files mutated at the JSON and the text level. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Bytes, fromBase64, toBase64 } from "../../src/crypto/bytes.ts";
import { decodePublicIdentity, type Identity } from "../../src/crypto/identity.ts";
import { importIdentity } from "../../src/crypto/keystore.ts";
import { bounded, equalBytes, expectSfsError } from "./checks.ts";
import { type ByteMutation, byteMutationArb, mutateAll } from "./mutate_bytes.ts";
import { mutateText, type TextMutation, textMutationArb } from "./mutate_text.ts";
import { check, type FuzzTarget } from "./run.ts";

/** Where two public identity encodings differ, and whether their keys do. */
async function describeDifference(a: Bytes, b: Bytes): Promise<string> {
  const offsets = [...a].flatMap((byte, i) => byte !== b[i] ? [i] : []);
  const [x, y] = await Promise.all([decodePublicIdentity(a), decodePublicIdentity(b)]);
  const jwk = (key: CryptoKey) => crypto.subtle.exportKey("jwk", key);
  const same = async (k: CryptoKey, l: CryptoKey) =>
    JSON.stringify(await jwk(k)) === JSON.stringify(await jwk(l));
  return `${a.length} vs ${b.length} bytes, differing at ${offsets.slice(0, 8).join(", ")}; ` +
    `same OAEP key ${await same(x.oaep, y.oaep)}, same PSS key ${await same(x.pss, y.pss)}, ` +
    `same Ed25519 key ${await same(x.ed25519, y.ed25519)}`;
}

/** An edit of a stored identity, at the JSON level or the text level. */
type StoredMutation =
  | { op: "delete"; path: number }
  | { op: "retype"; path: number; value: unknown }
  | { op: "string"; path: number; mutations: TextMutation[] }
  | { op: "blob"; path: number; mutations: ByteMutation[] }
  | { op: "number"; path: number; value: number }
  | { op: "text"; mutations: TextMutation[] };

const STORED_FIELDS = [
  ["format"],
  ["version"],
  ["fingerprint"],
  ["public"],
  ["private"],
  ["private", "protection"],
  ["private", "keys"],
  ["private", "n"],
  ["private", "r"],
  ["private", "p"],
  ["private", "salt"],
  ["private", "nonce"],
  ["private", "ciphertext"],
] as const;

/**
 * scrypt costs: valid ones stay cheap (N·r ≤ 2^10), and invalid ones must be refused before
 * any work, as BAD_IDENTITY. 2^21 is the value that found N < 2^(16·r) missing from §4.3's bounds.
 */
const SCRYPT_VALUES = [-1, 0, 1, 1.5, 2, 3, 4, 16, 17, 32, 33, 2 ** 21, 2 ** 31, 1e300] as const;

const storedMutationArb: fc.Arbitrary<StoredMutation> = fc.oneof(
  fc.record({ op: fc.constant("delete"), path: fc.nat() }),
  fc.record({
    op: fc.constant("retype"),
    path: fc.nat(),
    value: fc.constantFrom(null, 0, 1, -1, "", "none", [], {}, true, "sfs-identity"),
  }),
  fc.record({
    op: fc.constant("string"),
    path: fc.nat(),
    mutations: fc.array(textMutationArb, { minLength: 1, maxLength: 2 }),
  }),
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("blob"),
      path: fc.nat(),
      mutations: fc.array(byteMutationArb, { minLength: 1, maxLength: 2 }),
    }),
  },
  fc.record({
    op: fc.constant("number"),
    path: fc.nat(),
    value: fc.constantFrom(...SCRYPT_VALUES),
  }),
  fc.record({
    op: fc.constant("text"),
    mutations: fc.array(textMutationArb, { minLength: 1, maxLength: 3 }),
  }),
) as fc.Arbitrary<StoredMutation>;

function mutateStored(text: string, mutation: StoredMutation): string {
  if (mutation.op === "text") return mutateText(text, mutation.mutations);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text);
  } catch {
    return text; // An earlier text edit broke the JSON; a field edit has nothing to hold on to.
  }
  const path = STORED_FIELDS[mutation.path % STORED_FIELDS.length];
  const container = path.length === 1 ? doc : doc?.private;
  if (typeof container !== "object" || container === null) return text;
  const parent = container as Record<string, unknown>;
  const key = path[path.length - 1];
  const value = parent[key];
  switch (mutation.op) {
    case "delete":
      delete parent[key];
      break;
    case "retype":
      parent[key] = mutation.value;
      break;
    case "string":
      if (typeof value === "string") parent[key] = mutateText(value, mutation.mutations);
      break;
    case "blob": {
      // Decode, edit and re-encode: the edit reaches the decoders behind the base64 check.
      const bytes = typeof value === "string" ? fromBase64(value) : undefined;
      if (bytes) parent[key] = toBase64(mutateAll(bytes, mutation.mutations, bytes));
      break;
    }
    case "number":
      if (key === "n" || key === "r" || key === "p") parent[key] = mutation.value;
      break;
  }
  return JSON.stringify(doc, null, 2);
}

/** importIdentity(): the one stored identity, or an SfsError; never a stray exception. */
export function importIdentityTarget(): FuzzTarget {
  const caseArb = fc.record({
    sealed: fc.boolean(),
    mutations: fc.array(storedMutationArb, { minLength: 1, maxLength: 2 }),
    passphrase: fc.oneof(
      { weight: 6, arbitrary: fc.constant("right") },
      fc.constant(undefined),
      fc.string({ maxLength: 8 }),
    ),
  });
  return {
    name: "importIdentity() on mutated identity files",
    ciRuns: 200,
    run: async (p, context) => {
      const material = await context.material();
      await check(
        fc.asyncProperty(caseArb, async ({ sealed, mutations, passphrase }) => {
          let text = sealed ? material.sealedText : material.plainText;
          for (const m of mutations) text = mutateStored(text, m);
          let identity: Identity;
          try {
            identity = await bounded(
              importIdentity(text, passphrase === "right" ? material.passphrase : passphrase),
              10_000,
              "importIdentity()",
            );
          } catch (err) {
            p.stats.add(
              expectSfsError(err, ["BAD_IDENTITY", "BAD_PASSPHRASE", "BAD_MESSAGE", "BAD_KEY"])
                .code,
            );
            return;
          }
          // Random edits cannot forge a matching key set: success means the same identity.
          const expected = material.identity.public.encoded;
          if (!equalBytes(identity.public.encoded, expected)) {
            assert.fail(
              `A mutated identity file imported with another public encoding ` +
                `(${await describeDifference(expected, identity.public.encoded)})`,
            );
          }
          p.stats.add("ok");
        }),
        p,
      );
    },
  };
}
