/**
 * Proof of delivery (docs/PROTOCOL.md §7.9, docs/design/folders.md F10): the receiver signs a
 * RECEIPT naming the share, its manifest hash, both fingerprints, the time and the connection's
 * transcript hash `H_F`; the sender checks it against what it knows of the connection and keeps
 * it. Stored with the receiver's public identity in front (`sfs-receipt\n ‖ bytes16 identity ‖
 * body`), anyone can check it offline, like a proof of origin.
 *
 * @module
 */
import { SfsError } from "../errors.ts";
import { type Bytes, constantTimeEqual } from "../crypto/bytes.ts";
import { ByteReader, ByteWriter } from "../crypto/encoding.ts";
import {
  decodePublicIdentity,
  formatFingerprint,
  type Identity,
  type PublicIdentity,
} from "../crypto/identity.ts";
import { LABEL } from "../crypto/labels.ts";
import { sign, type SignaturePolicy, verify } from "../crypto/sign.ts";
import {
  decodeMessage,
  encodeMessage,
  MessageType,
  type Receipt,
  type ReceiptFields,
  receiptSignedData,
} from "../wire/messages.ts";
import type { Channel } from "../wire/channel.ts";
import { MAX_IDENTITY_BYTES } from "../wire/message_fields.ts";

/** How far a receipt's time may be from the sender's clock (F10). */
export const RECEIPT_MAX_SKEW_MS = 24 * 60 * 60 * 1000;
/** The first bytes of a stored receipt. */
export const RECEIPT_FILE_MAGIC = "sfs-receipt\n";
/** The manifest hash a receipt names for a single file that has no manifest (§7.1). */
export const NO_MANIFEST_HASH: Bytes = new Uint8Array(32);

const MAGIC_BYTES = new TextEncoder().encode(RECEIPT_FILE_MAGIC);

/**
 * The receiver's side: signs `fields` with its identity. Ed25519 is what a sender requires; the
 * default adds RSA-PSS, which the sender checks when present.
 */
export async function signReceipt(
  identity: Identity,
  fields: ReceiptFields,
  policy: SignaturePolicy = "both",
): Promise<Receipt> {
  const signatures = await sign(
    identity,
    LABEL.RECEIPT_SIGNATURE,
    receiptSignedData(fields),
    policy,
  );
  return { type: MessageType.RECEIPT, ...fields, signatures };
}

/**
 * The receiver's side, after publishing (§7.9): signs the receipt for `delivered` (this share and
 * manifest, from the channel's sender, on this connection, now) and sends it on `channel`.
 */
export async function sendReceipt(
  channel: Channel,
  identity: Identity,
  delivered: { shareId: Bytes; manifestHash: Bytes },
): Promise<void> {
  await channel.send(await signDelivery(channel, identity, delivered));
}

/**
 * The receipt {@link sendReceipt} sends, signed now: a receiver may sign it while it publishes
 * what it verified, and send it once published.
 */
export function signDelivery(
  channel: Channel,
  identity: Identity,
  delivered: { shareId: Bytes; manifestHash: Bytes },
): Promise<Receipt> {
  return signReceipt(identity, {
    shareId: delivered.shareId,
    manifestHash: delivered.manifestHash,
    senderFingerprint: channel.peer.fingerprint,
    receiverFingerprint: identity.public.fingerprint,
    receivedAt: Date.now(),
    transcriptHash: channel.transcriptHash,
  });
}

/**
 * The sender's side, after the last chunk (§7.3, §7.9): signs `finalSigned` as FINAL, sends it,
 * and waits for the receiver's RECEIPT for `share`, checked against this connection.
 */
export async function finishAndAwaitReceipt(
  channel: Channel,
  identity: Identity,
  finalSigned: Bytes,
  share: { id: Bytes; manifestHash: Bytes; policy?: SignaturePolicy },
): Promise<Receipt> {
  const signatures = await sign(
    identity,
    LABEL.FINAL_SIGNATURE,
    finalSigned,
    share.policy ?? "both",
  );
  await channel.send({ type: MessageType.FINAL, signatures });
  const receipt = await channel.expect(MessageType.RECEIPT);
  await checkReceipt(receipt, {
    shareId: share.id,
    manifestHash: share.manifestHash,
    senderFingerprint: identity.public.fingerprint,
    receiver: channel.peer,
    transcriptHash: channel.transcriptHash,
    now: Date.now(),
  });
  return receipt;
}

/** What the sender knows of the transfer a receipt must describe. */
export interface ExpectedReceipt {
  shareId: Bytes;
  manifestHash: Bytes;
  senderFingerprint: Bytes;
  /** The receiver as authenticated by the handshake (§6.4). */
  receiver: PublicIdentity;
  /** `H_F` of this connection. */
  transcriptHash: Bytes;
  /** The sender's clock, ms since the epoch. */
  now: number;
}

/**
 * The sender's side (F10): the receipt names this share, manifest, sender, receiver and
 * connection, its time is within {@link RECEIPT_MAX_SKEW_MS} of ours, and the receiver's
 * signatures verify (Ed25519 required, RSA-PSS checked when present). Throws HASH_MISMATCH when
 * the receiver describes other content, KEY_MISMATCH for other keys, BAD_MESSAGE for another
 * connection or a time far off, BAD_SIGNATURE for signatures.
 */
export async function checkReceipt(receipt: Receipt, expected: ExpectedReceipt): Promise<void> {
  if (
    !constantTimeEqual(receipt.shareId, expected.shareId) ||
    !constantTimeEqual(receipt.manifestHash, expected.manifestHash)
  ) {
    throw new SfsError("HASH_MISMATCH", "The receiver's receipt is for other content");
  }
  if (
    !constantTimeEqual(receipt.senderFingerprint, expected.senderFingerprint) ||
    !constantTimeEqual(receipt.receiverFingerprint, expected.receiver.fingerprint)
  ) {
    throw new SfsError("KEY_MISMATCH", "The receiver's receipt names other keys");
  }
  if (!constantTimeEqual(receipt.transcriptHash, expected.transcriptHash)) {
    throw new SfsError("BAD_MESSAGE", "The receiver's receipt is for another connection");
  }
  if (Math.abs(receipt.receivedAt - expected.now) > RECEIPT_MAX_SKEW_MS) {
    throw new SfsError("BAD_MESSAGE", "The receiver's receipt is dated more than a day off");
  }
  await verify(
    expected.receiver,
    LABEL.RECEIPT_SIGNATURE,
    receiptSignedData(receipt),
    receipt.signatures,
    "ed25519",
  );
}

/** A receipt stored for offline checking: magic, the receiver's public identity, the body. */
export function encodeReceiptFile(receiverIdentity: Bytes, receipt: Receipt): Bytes {
  return new ByteWriter().raw(MAGIC_BYTES).bytes16(receiverIdentity).raw(encodeMessage(receipt))
    .finish();
}

/**
 * Reads and checks a stored receipt offline: its encoding (BAD_MESSAGE), that the identity in
 * front is the one the receipt names (KEY_MISMATCH), and its signatures (BAD_SIGNATURE).
 */
export async function verifyReceiptFile(
  bytes: Uint8Array,
): Promise<{ receipt: Receipt; receiver: PublicIdentity }> {
  const reader = new ByteReader(bytes, "receipt file");
  const magic = reader.raw(MAGIC_BYTES.length);
  if (!constantTimeEqual(magic, MAGIC_BYTES)) reader.fail("not a receipt");
  const receiver = await decodePublicIdentity(reader.bytes16(MAX_IDENTITY_BYTES));
  const receipt = decodeMessage(MessageType.RECEIPT, reader.raw(reader.remaining)) as Receipt;
  if (!constantTimeEqual(receipt.receiverFingerprint, receiver.fingerprint)) {
    throw new SfsError(
      "KEY_MISMATCH",
      `The receipt names receiver ${formatFingerprint(receipt.receiverFingerprint)}, not ${
        formatFingerprint(receiver.fingerprint)
      }`,
    );
  }
  await verify(
    receiver,
    LABEL.RECEIPT_SIGNATURE,
    receiptSignedData(receipt),
    receipt.signatures,
    "ed25519",
  );
  return { receipt, receiver };
}
