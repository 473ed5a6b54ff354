import assert from "node:assert/strict";
import { type ErrorCode, isSfsError } from "../errors.ts";
import { testIdentity } from "../../tests/identities.ts";
import type { Bytes } from "../crypto/bytes.ts";
import type { Receipt, ReceiptFields } from "../wire/messages.ts";
import {
  checkReceipt,
  encodeReceiptFile,
  type ExpectedReceipt,
  RECEIPT_MAX_SKEW_MS,
  signReceipt,
  verifyReceiptFile,
} from "./receipt.ts";

const NOW = 1_790_000_000_000;

function filled(length: number, value: number): Bytes {
  return new Uint8Array(length).fill(value);
}

async function setup() {
  const sender = await testIdentity("alice");
  const receiver = await testIdentity("bob");
  const fields: ReceiptFields = {
    shareId: filled(16, 1),
    manifestHash: filled(32, 2),
    senderFingerprint: sender.public.fingerprint,
    receiverFingerprint: receiver.public.fingerprint,
    receivedAt: NOW + 5000,
    transcriptHash: filled(32, 3),
  };
  const expected: ExpectedReceipt = {
    shareId: fields.shareId,
    manifestHash: fields.manifestHash,
    senderFingerprint: sender.public.fingerprint,
    receiver: receiver.public,
    transcriptHash: fields.transcriptHash,
    now: NOW,
  };
  return { sender, receiver, fields, expected };
}

Deno.test("checkReceipt() accepts the receiver's receipt for this transfer", async () => {
  const { receiver, fields, expected } = await setup();
  await checkReceipt(await signReceipt(receiver, fields), expected);
  await checkReceipt(await signReceipt(receiver, fields, "ed25519"), expected);
});

Deno.test("checkReceipt() refuses a receipt that does not describe this transfer", async (t) => {
  const { sender, receiver, fields, expected } = await setup();
  const cases: [string, Partial<ReceiptFields>, ErrorCode][] = [
    ["another share", { shareId: filled(16, 9) }, "HASH_MISMATCH"],
    ["another manifest", { manifestHash: filled(32, 9) }, "HASH_MISMATCH"],
    ["another sender", { senderFingerprint: receiver.public.fingerprint }, "KEY_MISMATCH"],
    ["another receiver", { receiverFingerprint: sender.public.fingerprint }, "KEY_MISMATCH"],
    ["another connection", { transcriptHash: filled(32, 9) }, "BAD_MESSAGE"],
    ["a day and a second late", { receivedAt: NOW + RECEIPT_MAX_SKEW_MS + 1000 }, "BAD_MESSAGE"],
    ["a day and a second early", { receivedAt: NOW - RECEIPT_MAX_SKEW_MS - 1000 }, "BAD_MESSAGE"],
  ];
  for (const [name, change, code] of cases) {
    await t.step(name, async () => {
      const receipt = await signReceipt(receiver, { ...fields, ...change });
      await assert.rejects(checkReceipt(receipt, expected), (e) => isSfsError(e, code));
    });
  }
});

Deno.test("checkReceipt() refuses signatures that are not the receiver's over these fields", async (t) => {
  const { sender, receiver, fields, expected } = await setup();
  const good = await signReceipt(receiver, fields);
  const cases: [string, Receipt][] = [
    ["signed by the sender", await signReceipt(sender, fields)],
    ["no Ed25519 signature", await signReceipt(receiver, fields, "rsa")],
    ["a flipped RSA-PSS signature", {
      ...good,
      signatures: { ...good.signatures, rsa: good.signatures.rsa!.map((b, i) => i ? b : b ^ 1) },
    }],
    ["signed over another time", { ...good, receivedAt: good.receivedAt + 1 }],
  ];
  for (const [name, receipt] of cases) {
    await t.step(name, async () => {
      await assert.rejects(checkReceipt(receipt, expected), (e) => isSfsError(e, "BAD_SIGNATURE"));
    });
  }
});

Deno.test("verifyReceiptFile() checks a stored receipt offline", async (t) => {
  const { sender, receiver, fields } = await setup();
  const receipt = await signReceipt(receiver, fields);
  await t.step("intact", async () => {
    const checked = await verifyReceiptFile(encodeReceiptFile(receiver.public.encoded, receipt));
    assert.deepEqual(checked.receipt, receipt);
    assert.deepEqual(checked.receiver.fingerprint, receiver.public.fingerprint);
  });
  await t.step("another identity in front", async () => {
    const file = encodeReceiptFile(sender.public.encoded, receipt);
    await assert.rejects(verifyReceiptFile(file), (e) => isSfsError(e, "KEY_MISMATCH"));
  });
  await t.step("a byte changed in the body", async () => {
    const file = encodeReceiptFile(receiver.public.encoded, { ...receipt, receivedAt: 1 });
    await assert.rejects(verifyReceiptFile(file), (e) => isSfsError(e, "BAD_SIGNATURE"));
  });
});
