import assert from "node:assert/strict";
import { isSfsError } from "../errors.ts";
import { testIdentity } from "../../tests/identities.ts";
import { utf8 } from "./bytes.ts";
import { LABEL } from "./labels.ts";
import { sign, SIGNATURE_POLICIES, type SignaturePolicy, type Signatures, verify } from "./sign.ts";

const DATA = utf8("transcript hash stand-in");

function flipped(bytes: Uint8Array | undefined, index = 0): Uint8Array<ArrayBuffer> {
  assert.ok(bytes);
  const out = new Uint8Array(bytes);
  out[index] ^= 0x01;
  return out;
}

function isBadSignature(err: unknown): boolean {
  return isSfsError(err, "BAD_SIGNATURE");
}

Deno.test("sign() produces the algorithms its policy names", async (t) => {
  const alice = await testIdentity("alice");
  const cases: [SignaturePolicy, boolean, boolean][] = [
    ["both", true, true],
    ["rsa", true, false],
    ["ed25519", false, true],
  ];
  for (const [policy, rsa, ed25519] of cases) {
    await t.step(policy, async () => {
      const signatures = await sign(alice, LABEL.HANDSHAKE_SIGNATURE_RESPONDER, DATA, policy);
      assert.equal(signatures.rsa !== undefined, rsa);
      assert.equal(signatures.ed25519 !== undefined, ed25519);
      if (rsa) assert.equal(signatures.rsa?.length, 384);
      if (ed25519) assert.equal(signatures.ed25519?.length, 64);
    });
  }
});

Deno.test("sign() defaults to both algorithms", async () => {
  const signatures = await sign(await testIdentity("alice"), LABEL.FINAL_SIGNATURE, DATA);
  assert.ok(signatures.rsa && signatures.ed25519);
});

Deno.test("verify() accepts exactly when the signer covers what is required", async (t) => {
  const alice = await testIdentity("alice");
  for (const signed of SIGNATURE_POLICIES) {
    const signatures = await sign(alice, LABEL.HANDSHAKE_SIGNATURE_RESPONDER, DATA, signed);
    for (const required of SIGNATURE_POLICIES) {
      const covered = signed === "both" || signed === required;
      await t.step(`signed ${signed}, required ${required}`, async () => {
        const result = verify(
          alice.public,
          LABEL.HANDSHAKE_SIGNATURE_RESPONDER,
          DATA,
          signatures,
          required,
        );
        if (covered) await result;
        else await assert.rejects(result, isBadSignature);
      });
    }
  }
});

Deno.test("verify() requires both algorithms by default", async () => {
  const alice = await testIdentity("alice");
  const edOnly = await sign(alice, LABEL.HANDSHAKE_SIGNATURE_RESPONDER, DATA, "ed25519");
  await assert.rejects(
    verify(alice.public, LABEL.HANDSHAKE_SIGNATURE_RESPONDER, DATA, edOnly),
    isBadSignature,
  );
  const rsaOnly = await sign(alice, LABEL.HANDSHAKE_SIGNATURE_RESPONDER, DATA, "rsa");
  await assert.rejects(
    verify(alice.public, LABEL.HANDSHAKE_SIGNATURE_RESPONDER, DATA, rsaOnly),
    isBadSignature,
  );
  await assert.rejects(
    verify(alice.public, LABEL.HANDSHAKE_SIGNATURE_RESPONDER, DATA, {}),
    isBadSignature,
  );
});

Deno.test("verify() rejects a present but wrong signature even when not required", async (t) => {
  const alice = await testIdentity("alice");
  const both = await sign(alice, LABEL.HANDSHAKE_SIGNATURE_RESPONDER, DATA, "both");
  const cases: [string, Signatures, SignaturePolicy][] = [
    ["bad Ed25519, RSA required", { rsa: both.rsa, ed25519: flipped(both.ed25519) }, "rsa"],
    ["bad RSA, Ed25519 required", { rsa: flipped(both.rsa), ed25519: both.ed25519 }, "ed25519"],
    ["bad Ed25519, both required", { rsa: both.rsa, ed25519: flipped(both.ed25519, 63) }, "both"],
    ["bad RSA, both required", { rsa: flipped(both.rsa, 383), ed25519: both.ed25519 }, "both"],
    [
      "short RSA, Ed25519 required",
      { rsa: both.rsa?.slice(0, 3), ed25519: both.ed25519 },
      "ed25519",
    ],
    ["long RSA", { rsa: new Uint8Array(512), ed25519: both.ed25519 }, "ed25519"],
    ["empty RSA field", { rsa: new Uint8Array(), ed25519: both.ed25519 }, "ed25519"],
    ["short Ed25519", { rsa: both.rsa, ed25519: both.ed25519?.slice(0, 63) }, "rsa"],
    ["all-zero Ed25519", { rsa: both.rsa, ed25519: new Uint8Array(64) }, "rsa"],
  ];
  for (const [name, signatures, required] of cases) {
    await t.step(name, async () => {
      await assert.rejects(
        verify(alice.public, LABEL.HANDSHAKE_SIGNATURE_RESPONDER, DATA, signatures, required),
        isBadSignature,
      );
    });
  }
});

Deno.test("verify() rejects a signature under another label", async (t) => {
  const alice = await testIdentity("alice");
  for (const policy of SIGNATURE_POLICIES) {
    await t.step(policy, async () => {
      const signatures = await sign(alice, LABEL.FINAL_SIGNATURE, DATA, policy);
      await verify(alice.public, LABEL.FINAL_SIGNATURE, DATA, signatures, policy);
      await assert.rejects(
        verify(alice.public, LABEL.HANDSHAKE_SIGNATURE_RESPONDER, DATA, signatures, policy),
        isBadSignature,
      );
    });
  }
});

Deno.test("verify() rejects other data and another signer", async (t) => {
  const alice = await testIdentity("alice");
  const bob = await testIdentity("bob");
  for (const policy of SIGNATURE_POLICIES) {
    const signatures = await sign(alice, LABEL.HANDSHAKE_SIGNATURE_RESPONDER, DATA, policy);
    await t.step(`${policy}: other data`, async () => {
      await assert.rejects(
        verify(
          alice.public,
          LABEL.HANDSHAKE_SIGNATURE_RESPONDER,
          flipped(DATA),
          signatures,
          policy,
        ),
        isBadSignature,
      );
    });
    await t.step(`${policy}: another signer`, async () => {
      await assert.rejects(
        verify(bob.public, LABEL.HANDSHAKE_SIGNATURE_RESPONDER, DATA, signatures, policy),
        isBadSignature,
      );
    });
  }
});
