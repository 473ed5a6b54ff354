import assert from "node:assert/strict";
import { isSfsError } from "../../errors.ts";
import { DEFAULT_SCRYPT_N, hashPassword, needsRehash, verifyPassword } from "./password.ts";
import { MAX_PASSWORD_BYTES } from "../protocol/limits.ts";

// Cheap parameters keep the suite fast; one test below runs the real default once.
const FAST = { N: 16 } as const;

// Independent vectors from Python's hashlib.scrypt (OpenSSL), not from this module.
const VECTORS = [
  {
    password: "correct horse battery staple",
    encoded: "scrypt$16$8$1$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=$" +
      "k1WIXHEK63ShvCeR2bxW7LbojFFP4L9oy13sTeWIHXU=",
  },
  {
    password: "p\u00e4ssw\u00f6rd",
    encoded: "scrypt$1024$8$2$BwcHBwcHBwcHBwcHBwcHBw==$" +
      "QMnRAglLQqCs0oruR8kEOfz9/xxFF/GlM0bFDVcN7Hc=",
  },
];

function sfsCode(code: string): (err: unknown) => boolean {
  return (err) => isSfsError(err) && err.code === code;
}

Deno.test("hashPassword() uses scrypt N=2^15 r=8 p=1 with 32-byte salt and hash by default", async () => {
  const encoded = await hashPassword("hunter2");
  assert.match(encoded, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{43}=\$[A-Za-z0-9+/]{43}=$/);
  assert(await verifyPassword("hunter2", encoded));
  assert.equal(needsRehash(encoded), false);
});

Deno.test("hashPassword() matches independent scrypt vectors", async () => {
  const salt = Uint8Array.from({ length: 32 }, (_, i) => i);
  const encoded = await hashPassword(VECTORS[0].password, {
    N: 16,
    random: (bytes) => bytes.set(salt),
  });
  assert.equal(encoded, VECTORS[0].encoded);
});

Deno.test("hashPassword() salts each hash afresh", async () => {
  const a = await hashPassword("same", FAST);
  const b = await hashPassword("same", FAST);
  assert(a !== b);
  assert(await verifyPassword("same", a));
  assert(await verifyPassword("same", b));
});

Deno.test("hashPassword() rejects bad passwords and absurd parameters", async (t) => {
  const cases: [string, string, Parameters<typeof hashPassword>[1]][] = [
    ["empty password", "", FAST],
    ["over-long password", "x".repeat(MAX_PASSWORD_BYTES + 1), FAST],
    ["N above 2^20", "pw", { N: 2 ** 21 }],
    ["N not a power of two", "pw", { N: 1000 }],
    ["N too small", "pw", { N: 8 }],
    ["r zero", "pw", { ...FAST, r: 0 }],
    ["p above 16", "pw", { ...FAST, p: 17 }],
    ["memory above 1 GiB", "pw", { N: 2 ** 20, r: 16 }],
    ["N not below 2^(16·r) (RFC 7914)", "pw", { N: 2 ** 16, r: 1 }],
    ["short salt", "pw", { ...FAST, saltLength: 8 }],
    ["long hash", "pw", { ...FAST, hashLength: 65 }],
  ];
  for (const [name, password, options] of cases) {
    await t.step(name, async () => {
      await assert.rejects(() => hashPassword(password, options), sfsCode("USAGE"));
    });
  }
  await t.step("longest password is accepted", async () => {
    const encoded = await hashPassword("x".repeat(MAX_PASSWORD_BYTES), FAST);
    assert(await verifyPassword("x".repeat(MAX_PASSWORD_BYTES), encoded));
  });
});

Deno.test("verifyPassword() accepts independent scrypt vectors", async () => {
  for (const { password, encoded } of VECTORS) assert(await verifyPassword(password, encoded));
});

Deno.test("verifyPassword() rejects a wrong password", async () => {
  const encoded = await hashPassword("right", FAST);
  assert.equal(await verifyPassword("wrong", encoded), false);
  assert.equal(await verifyPassword("Right", encoded), false);
  assert.equal(await verifyPassword("", encoded), false);
  assert.equal(await verifyPassword("x".repeat(MAX_PASSWORD_BYTES + 1), encoded), false);
  for (const { encoded } of VECTORS) assert.equal(await verifyPassword("password", encoded), false);
});

Deno.test("verifyPassword() treats composed and decomposed accents alike", async () => {
  const encoded = await hashPassword("caf\u00e9", FAST);
  assert(await verifyPassword("cafe\u0301", encoded));
});

Deno.test("verifyPassword() rejects malformed encodings with INTERNAL", async (t) => {
  const [, , , , salt, hash] = VECTORS[0].encoded.split("$");
  const cases: [string, string][] = [
    ["empty", ""],
    ["other scheme", `bcrypt$16$8$1$${salt}$${hash}`],
    ["missing field", `scrypt$16$8$${salt}$${hash}`],
    ["extra field", `scrypt$16$8$1$1$${salt}$${hash}`],
    ["N not a power of two", `scrypt$24$8$1$${salt}$${hash}`],
    ["N above 2^20", `scrypt$2097152$8$1$${salt}$${hash}`],
    ["N with leading zero", `scrypt$016$8$1$${salt}$${hash}`],
    ["N in hex", `scrypt$0x10$8$1$${salt}$${hash}`],
    ["N negative", `scrypt$-16$8$1$${salt}$${hash}`],
    ["r zero", `scrypt$16$0$1$${salt}$${hash}`],
    ["p above 16", `scrypt$16$8$17$${salt}$${hash}`],
    ["memory above 1 GiB", `scrypt$1048576$16$1$${salt}$${hash}`],
    ["N not below 2^(16·r) (RFC 7914)", `scrypt$65536$1$1$${salt}$${hash}`],
    ["salt not base64", `scrypt$16$8$1$not*base64$${hash}`],
    ["salt without padding", `scrypt$16$8$1$${salt.replace("=", "")}$${hash}`],
    ["salt too short", `scrypt$16$8$1$AAAA$${hash}`],
    ["hash too short", `scrypt$16$8$1$${salt}$AAAA`],
    ["hash empty", `scrypt$16$8$1$${salt}$`],
  ];
  for (const [name, encoded] of cases) {
    await t.step(name, async () => {
      await assert.rejects(() => verifyPassword("pw", encoded), sfsCode("INTERNAL"));
    });
  }
});

Deno.test("needsRehash() flags hashes weaker than the wanted parameters", async () => {
  const weak = await hashPassword("pw", FAST);
  assert(needsRehash(weak));
  assert.equal(needsRehash(weak, FAST), false);
  assert(needsRehash(weak, { N: 32 }));
  assert.equal(DEFAULT_SCRYPT_N, 2 ** 15);
});
