import assert from "node:assert/strict";
import { isSfsError } from "../errors.ts";
import { testIdentity } from "../../tests/identities.ts";
import { type Bytes, concat, fromHex, toHex, utf8 } from "./bytes.ts";
import {
  deriveSessionKeys,
  generateEphemeral,
  SECRET_BYTES,
  unwrapSecret,
  wrapSecret,
  x25519,
  X25519_BYTES,
} from "./exchange.ts";
import { LABEL } from "./labels.ts";

/** PKCS#8 header of a raw X25519 private key (RFC 8410). */
const X25519_PKCS8_PREFIX = "302e020100300506032b656e04220420";

function hex(text: string): Bytes {
  const bytes = fromHex(text);
  assert.ok(bytes);
  return bytes;
}

function importX25519(privateHex: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("pkcs8", hex(X25519_PKCS8_PREFIX + privateHex), "X25519", false, [
    "deriveBits",
  ]);
}

function random(length: number): Bytes {
  return crypto.getRandomValues(new Uint8Array(length));
}

Deno.test("x25519() gives both sides the same secret", async () => {
  const a = await generateEphemeral();
  const b = await generateEphemeral();
  assert.equal(a.publicKey.length, X25519_BYTES);
  const ab = await x25519(a.privateKey, b.publicKey);
  const ba = await x25519(b.privateKey, a.publicKey);
  assert.equal(ab.length, 32);
  assert.deepEqual(ab, ba);
  const c = await generateEphemeral();
  assert.notDeepEqual(await x25519(a.privateKey, c.publicKey), ab);
});

Deno.test("x25519() matches the RFC 7748 §6.1 test vector", async () => {
  const alice = await importX25519(
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
  );
  const bob = await importX25519(
    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
  );
  const alicePublic = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  const bobPublic = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  assert.equal(toHex(await x25519(alice, bobPublic)), shared);
  assert.equal(toHex(await x25519(bob, alicePublic)), shared);
});

Deno.test("x25519() refuses low-order and malformed public keys with BAD_KEY", async (t) => {
  const own = await generateEphemeral();
  const cases: [string, Bytes][] = [
    ["all-zero point", new Uint8Array(32)],
    ["point of order 1 (u = 1)", hex("01".padEnd(64, "0"))],
    [
      "point of order 8",
      hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    ],
    ["31 bytes", new Uint8Array(31).fill(9)],
    ["33 bytes", new Uint8Array(33).fill(9)],
    ["empty", new Uint8Array()],
  ];
  for (const [name, peer] of cases) {
    await t.step(name, async () => {
      await assert.rejects(x25519(own.privateKey, peer), (err) => isSfsError(err, "BAD_KEY"));
    });
  }
});

Deno.test("unwrapSecret() recovers what wrapSecret() sealed to the receiver", async () => {
  const alice = await testIdentity("alice");
  const secret = random(SECRET_BYTES);
  const wrapped = await wrapSecret(alice.public.oaep, secret);
  assert.equal(wrapped.length, 384);
  assert.deepEqual(await unwrapSecret(alice.oaepPrivate, wrapped), secret);
  // OAEP is randomised: the same secret wraps differently each time.
  assert.notDeepEqual(await wrapSecret(alice.public.oaep, secret), wrapped);
});

Deno.test("unwrapSecret() fails with DECRYPT_FAILED", async (t) => {
  const alice = await testIdentity("alice");
  const bob = await testIdentity("bob");
  const secret = random(SECRET_BYTES);
  const wrapped = await wrapSecret(alice.public.oaep, secret);
  const tampered = new Uint8Array(wrapped);
  tampered[100] ^= 0x01;
  // The same secret under plain RSA-OAEP, without the sfs label: not a transported secret.
  const unlabelled = new Uint8Array(
    await crypto.subtle.encrypt({ name: "RSA-OAEP" }, alice.public.oaep, secret),
  );
  const otherLabel = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "RSA-OAEP", label: utf8(LABEL.OAEP) },
      alice.public.oaep,
      secret,
    ),
  );
  const cases: [string, CryptoKey, Bytes][] = [
    ["with the wrong key", bob.oaepPrivate, wrapped],
    ["when tampered", alice.oaepPrivate, tampered],
    ["when truncated", alice.oaepPrivate, wrapped.slice(0, -1)],
    ["when empty", alice.oaepPrivate, new Uint8Array()],
    ["without the sfs label", alice.oaepPrivate, unlabelled],
    ["with the label but no zero byte", alice.oaepPrivate, otherLabel],
    [
      "for a secret of 31 bytes",
      alice.oaepPrivate,
      await wrapSecret(alice.public.oaep, random(31)),
    ],
    [
      "for a secret of 33 bytes",
      alice.oaepPrivate,
      await wrapSecret(alice.public.oaep, random(33)),
    ],
  ];
  for (const [name, key, bytes] of cases) {
    await t.step(name, async () => {
      await assert.rejects(unwrapSecret(key, bytes), (err) => isSfsError(err, "DECRYPT_FAILED"));
    });
  }
});

Deno.test("deriveSessionKeys() gives three distinct keys, deterministically", async () => {
  const shared = random(32);
  const secret = random(32);
  const transcript = random(32);
  const keys = await deriveSessionKeys(shared, secret, transcript);
  for (const key of [keys.responder, keys.initiator, keys.payload]) assert.equal(key.length, 32);
  const distinct = new Set([toHex(keys.responder), toHex(keys.initiator), toHex(keys.payload)]);
  assert.equal(distinct.size, 3);
  assert.deepEqual(await deriveSessionKeys(shared, secret, transcript), keys);
  // The caller's inputs are left alone: only the internal copy of shared ‖ secret is wiped.
  assert.notDeepEqual(shared, new Uint8Array(32));
});

Deno.test("deriveSessionKeys() is HKDF-SHA256 over shared ‖ secret salted with the transcript", async () => {
  const shared = random(32);
  const secret = random(32);
  const transcript = random(32);
  const keys = await deriveSessionKeys(shared, secret, transcript);
  const ikm = await crypto.subtle.importKey("raw", concat(shared, secret), "HKDF", false, [
    "deriveBits",
  ]);
  const expand = async (info: string) =>
    new Uint8Array(
      await crypto.subtle.deriveBits(
        { name: "HKDF", hash: "SHA-256", salt: transcript, info: utf8(info) },
        ikm,
        256,
      ),
    );
  assert.deepEqual(keys.responder, await expand("sfs/v2/key/responder"));
  assert.deepEqual(keys.initiator, await expand("sfs/v2/key/initiator"));
  assert.deepEqual(keys.payload, await expand("sfs/v2/key/payload"));
});

Deno.test("deriveSessionKeys() depends on every input", async (t) => {
  const inputs = [random(32), random(32), random(32)] as const;
  const base = await deriveSessionKeys(...inputs);
  for (const [name, position] of [["shared", 0], ["secret", 1], ["transcript hash", 2]] as const) {
    await t.step(name, async () => {
      const changed: [Bytes, Bytes, Bytes] = [...inputs];
      changed[position] = new Uint8Array(changed[position]);
      changed[position][31] ^= 0x01;
      const keys = await deriveSessionKeys(...changed);
      assert.notDeepEqual(keys.responder, base.responder);
      assert.notDeepEqual(keys.initiator, base.initiator);
      assert.notDeepEqual(keys.payload, base.payload);
    });
  }
});
