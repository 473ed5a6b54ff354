import assert from "node:assert/strict";
import { isSfsError } from "../errors.ts";
import { identityText, testIdentity } from "../../tests/identities.ts";
import { fromBase64, toBase64 } from "./bytes.ts";
import { formatFingerprint, type Identity } from "./identity.ts";
import {
  exportIdentity,
  importIdentity,
  importPublicIdentity,
  isEncrypted,
  type ScryptParams,
} from "./keystore.ts";

/** Cheap scrypt cost so tests stay fast; the format stores whatever cost was used. */
const FAST: ScryptParams = { n: 2 ** 10, r: 8, p: 1 };
const PASSPHRASE = "correct horse battery staple";

/** Proves the private keys of `identity` work with the public keys of `expected`. */
async function assertUsable(identity: Identity, expected: Identity): Promise<void> {
  assert.deepEqual(identity.public.encoded, expected.public.encoded);
  const data = crypto.getRandomValues(new Uint8Array(16));
  const signature = await crypto.subtle.sign("Ed25519", identity.ed25519Private, data);
  assert.ok(await crypto.subtle.verify("Ed25519", expected.public.ed25519, signature, data));
  const pss = { name: "RSA-PSS", saltLength: 32 };
  const rsaSignature = await crypto.subtle.sign(pss, identity.pssPrivate, data);
  assert.ok(await crypto.subtle.verify(pss, expected.public.pss, rsaSignature, data));
  const wrapped = await crypto.subtle.encrypt("RSA-OAEP", expected.public.oaep, data);
  const unwrapped = await crypto.subtle.decrypt("RSA-OAEP", identity.oaepPrivate, wrapped);
  assert.deepEqual(new Uint8Array(unwrapped), data);
}

/** Parses stored JSON, lets `edit` change it, and serialises it again. */
function edited(
  text: string,
  edit: (doc: Record<string, Record<string, unknown>>) => void,
): string {
  const doc = JSON.parse(text);
  edit(doc);
  return JSON.stringify(doc);
}

function flipBase64(text: string, index: number): string {
  const bytes = fromBase64(text);
  assert.ok(bytes);
  bytes[index] ^= 0x01;
  return toBase64(bytes);
}

Deno.test("exportIdentity() without a passphrase round-trips through importIdentity()", async () => {
  const alice = await testIdentity("alice");
  const text = await exportIdentity(alice);
  assert.equal(isEncrypted(text), false);
  const doc = JSON.parse(text);
  assert.equal(doc.format, "sfs-identity");
  assert.equal(doc.version, 1);
  assert.equal(doc.fingerprint, formatFingerprint(alice.public.fingerprint));
  assert.equal(doc.private.protection, "none");
  await assertUsable(await importIdentity(text), alice);
  // A passphrase given for an unencrypted file is not needed and does no harm.
  await assertUsable(await importIdentity(text, "unused"), alice);
});

Deno.test("exportIdentity() with a passphrase seals the private keys", async () => {
  const alice = await testIdentity("alice");
  const plain = JSON.parse(await exportIdentity(alice));
  const text = await exportIdentity(alice, { passphrase: PASSPHRASE, scrypt: FAST });
  assert.equal(isEncrypted(text), true);
  const doc = JSON.parse(text);
  assert.equal(doc.private.protection, "scrypt-aes-256-gcm");
  assert.deepEqual([doc.private.n, doc.private.r, doc.private.p], [FAST.n, FAST.r, FAST.p]);
  assert.equal(doc.private.keys, undefined);
  assert.equal(fromBase64(doc.private.salt)?.length, 32);
  assert.equal(fromBase64(doc.private.nonce)?.length, 12);
  assert.ok(!text.includes(plain.private.keys.slice(0, 64)));
  await assertUsable(await importIdentity(text, PASSPHRASE), alice);
});

Deno.test("exportIdentity() uses a fresh salt and nonce each time", async () => {
  const alice = await testIdentity("alice");
  const a = JSON.parse(await exportIdentity(alice, { passphrase: PASSPHRASE, scrypt: FAST }));
  const b = JSON.parse(await exportIdentity(alice, { passphrase: PASSPHRASE, scrypt: FAST }));
  assert.notEqual(a.private.salt, b.private.salt);
  assert.notEqual(a.private.nonce, b.private.nonce);
});

Deno.test("importIdentity() normalises the passphrase to NFC", async () => {
  const alice = await testIdentity("alice");
  const composed = "caf\u00e9";
  const decomposed = "cafe\u0301";
  const text = await exportIdentity(alice, { passphrase: decomposed, scrypt: FAST });
  await assertUsable(await importIdentity(text, composed), alice);
});

Deno.test("importIdentity() refuses a wrong or missing passphrase", async (t) => {
  const alice = await testIdentity("alice");
  const text = await exportIdentity(alice, { passphrase: PASSPHRASE, scrypt: FAST });
  const cases: [string, string | undefined][] = [
    ["wrong passphrase", "incorrect horse battery staple"],
    ["empty passphrase", ""],
    ["missing passphrase", undefined],
  ];
  for (const [name, passphrase] of cases) {
    await t.step(name, async () => {
      await assert.rejects(
        importIdentity(text, passphrase),
        (err) => isSfsError(err, "BAD_PASSPHRASE"),
      );
    });
  }
});

Deno.test("importIdentity() detects a tampered sealed identity", async (t) => {
  const alice = await testIdentity("alice");
  const bob = await testIdentity("bob");
  const text = await exportIdentity(alice, { passphrase: PASSPHRASE, scrypt: FAST });
  const bobPublic = JSON.parse(await exportIdentity(bob)).public;
  const cases: [string, string][] = [
    [
      "flipped ciphertext byte",
      edited(text, (d) => {
        d.private.ciphertext = flipBase64(d.private.ciphertext as string, 10);
      }),
    ],
    [
      "flipped tag byte",
      edited(text, (d) => {
        const bytes = fromBase64(d.private.ciphertext as string)!;
        d.private.ciphertext = flipBase64(d.private.ciphertext as string, bytes.length - 1);
      }),
    ],
    [
      "flipped nonce",
      edited(text, (d) => {
        d.private.nonce = flipBase64(d.private.nonce as string, 0);
      }),
    ],
    [
      "flipped salt",
      edited(text, (d) => {
        d.private.salt = flipBase64(d.private.salt as string, 0);
      }),
    ],
    [
      "changed cost",
      edited(text, (d) => {
        d.private.n = FAST.n * 2;
      }),
    ],
    // The public identity is the associated data: another public part breaks the seal.
    [
      "another identity's public part",
      edited(text, (d) => {
        (d as Record<string, unknown>).public = bobPublic;
      }),
    ],
  ];
  for (const [name, tampered] of cases) {
    await t.step(name, async () => {
      await assert.rejects(
        importIdentity(tampered, PASSPHRASE),
        (err) => isSfsError(err, "BAD_PASSPHRASE"),
      );
    });
  }
});

Deno.test("importIdentity() refuses private keys that do not match the public part", async () => {
  const bob = await testIdentity("bob");
  const aliceText = await identityText("alice");
  const bobPublic = JSON.parse(await exportIdentity(bob)).public;
  const swapped = edited(aliceText, (d) => {
    (d as Record<string, unknown>).public = bobPublic;
  });
  await assert.rejects(importIdentity(swapped), (err) => isSfsError(err, "BAD_IDENTITY"));
});

Deno.test("importIdentity() refuses a file where one private key is another identity's", async (t) => {
  const alice = await testIdentity("alice");
  const bob = await testIdentity("bob");
  const keys: Array<keyof Omit<Identity, "public">> = [
    "oaepPrivate",
    "pssPrivate",
    "ed25519Private",
  ];
  for (const swapped of keys) {
    await t.step(swapped, async () => {
      const text = await exportIdentity({ ...alice, [swapped]: bob[swapped] });
      await assert.rejects(importIdentity(text), (err) => isSfsError(err, "BAD_IDENTITY"));
    });
  }
});

Deno.test("importIdentity() refuses absurd scrypt parameters before running scrypt", async (t) => {
  const alice = await testIdentity("alice");
  const text = await exportIdentity(alice, { passphrase: PASSPHRASE, scrypt: FAST });
  const cases: [string, Partial<ScryptParams>][] = [
    ["n = 2^30", { n: 2 ** 30 }],
    ["n = 2^21", { n: 2 ** 21 }],
    ["n not a power of two", { n: 1000 }],
    ["n = 1", { n: 1 }],
    ["n = 0", { n: 0 }],
    ["n negative", { n: -1024 }],
    ["n fractional", { n: 1024.5 }],
    ["r = 0", { r: 0 }],
    ["128·n·r over 256 MiB", { n: 2 ** 18, r: 16 }],
    ["p = 0", { p: 0 }],
    ["p = 5", { p: 5 }],
    ["p = 2^30", { p: 2 ** 30 }],
  ];
  for (const [name, params] of cases) {
    await t.step(name, async () => {
      const bad = edited(text, (d) => Object.assign(d.private, params));
      await assert.rejects(
        importIdentity(bad, PASSPHRASE),
        (err) => isSfsError(err, "BAD_IDENTITY"),
      );
    });
  }
});

Deno.test("importIdentity() refuses scrypt parameters the scrypt implementation would refuse", async (t) => {
  // The long fuzz run (seed -366946702) found N = 2^21, r = 1: 256 MiB by 128·N·r, but RFC 7914
  // requires N < 2^(16·r), and node:crypto threw a RangeError instead of an SfsError.
  const alice = await testIdentity("alice");
  const text = await exportIdentity(alice, { passphrase: PASSPHRASE, scrypt: FAST });
  const cases: [string, ScryptParams][] = [
    ["n = 2^21, r = 1, p = 1 (the fuzz case)", { n: 2 ** 21, r: 1, p: 1 }],
    ["n = 2^16, r = 1 (n ≥ 2^(16·r))", { n: 2 ** 16, r: 1, p: 1 }],
    ["r = 33", { n: 16, r: 33, p: 1 }],
    ["r = 2^20 (B alone is 128·r·p bytes)", { n: 2, r: 2 ** 20, p: 4 }],
  ];
  for (const [name, params] of cases) {
    await t.step(name, async () => {
      const bad = edited(text, (d) => Object.assign(d.private, params));
      await assert.rejects(
        importIdentity(bad, PASSPHRASE),
        (err) => isSfsError(err, "BAD_IDENTITY"),
      );
    });
  }
});

Deno.test("importIdentity() accepts scrypt parameters at the edges of §4.3", async (t) => {
  const alice = await testIdentity("alice");
  const cases: [string, ScryptParams][] = [
    ["n = 2^15, r = 1 (largest n for r = 1)", { n: 2 ** 15, r: 1, p: 1 }],
    ["n = 2, r = 32, p = 4", { n: 2, r: 32, p: 4 }],
    ["128·n·r = 256 MiB", { n: 2 ** 18, r: 8, p: 1 }],
  ];
  for (const [name, params] of cases) {
    await t.step(name, async () => {
      const text = await exportIdentity(alice, { passphrase: PASSPHRASE, scrypt: params });
      await assertUsable(await importIdentity(text, PASSPHRASE), alice);
    });
  }
});

Deno.test("importIdentity() refuses malformed files with BAD_IDENTITY", async (t) => {
  const text = await identityText("alice");
  const sealed = await exportIdentity(await testIdentity("alice"), {
    passphrase: PASSPHRASE,
    scrypt: FAST,
  });
  const cases: [string, string][] = [
    ["not JSON", "{ format: sfs-identity"],
    ["empty", ""],
    ["JSON null", "null"],
    ["JSON array", "[]"],
    ["another format", edited(text, (d) => void ((d as Record<string, unknown>).format = "x"))],
    ["version 2", edited(text, (d) => void ((d as Record<string, unknown>).version = 2))],
    ["no private part", edited(text, (d) => void delete (d as Record<string, unknown>).private)],
    ["unknown protection", edited(text, (d) => void (d.private.protection = "rot13"))],
    ["keys not a string", edited(text, (d) => void (d.private.keys = 5))],
    ["cost as a string", edited(sealed, (d) => void (d.private.n = "1024"))],
    ["no salt", edited(sealed, (d) => void delete d.private.salt)],
    ["public not base64", edited(text, (d) => void ((d as Record<string, unknown>).public = "!!"))],
    ["keys not base64", edited(text, (d) => void (d.private.keys = "a b"))],
    [
      "keys truncated",
      edited(text, (d) => {
        d.private.keys = toBase64(fromBase64(d.private.keys as string)!.slice(0, 100));
      }),
    ],
    [
      "keys with a trailing byte",
      edited(text, (d) => {
        d.private.keys = toBase64(Uint8Array.of(...fromBase64(d.private.keys as string)!, 0));
      }),
    ],
    [
      "keys of another version",
      edited(text, (d) => {
        const keys = fromBase64(d.private.keys as string)!;
        keys[0] = 2;
        d.private.keys = toBase64(keys);
      }),
    ],
    [
      "garbage private key",
      edited(text, (d) => {
        const keys = fromBase64(d.private.keys as string)!;
        keys[10] ^= 0xff;
        d.private.keys = toBase64(keys);
      }),
    ],
  ];
  for (const [name, bad] of cases) {
    await t.step(name, async () => {
      await assert.rejects(
        importIdentity(bad, PASSPHRASE),
        (err) => isSfsError(err, "BAD_IDENTITY"),
      );
    });
  }
});

Deno.test("importPublicIdentity() reads the public part without a passphrase", async () => {
  const alice = await testIdentity("alice");
  const text = await exportIdentity(alice, { passphrase: PASSPHRASE, scrypt: FAST });
  const pub = await importPublicIdentity(text);
  assert.deepEqual(pub.encoded, alice.public.encoded);
  assert.deepEqual(pub.fingerprint, alice.public.fingerprint);
  await assert.rejects(importPublicIdentity("{}"), (err) => isSfsError(err, "BAD_IDENTITY"));
});
